/**
 * The Canvas cursor. Canvas has no changed-since filter, so every listing is a pass over the
 * courses in scope (ascending ids), and the cursor records how far the current pass got:
 * - `{"v":1,"pass":T,"done":true}`: the pass that started at T read every course; the
 *   next listing starts a new pass;
 * - `{"v":1,"pass":T,"after":C}`: every course up to id C was read;
 * - `{"v":1,"pass":T,"course":C,"next":URL}`: course C was read up to the opaque `next`
 *   link Canvas gave (bookmark pagination, so resuming there skips nothing).
 * A cursor never passes a record not yet yielded. The engine's ledger fingerprints make
 * re-reading unchanged enrollments cost no Graph call. A cursor that is not one of these
 * (another adapter's, or garbage) starts a new pass rather than failing.
 */
import { decodeJsonToken, encodeJsonToken } from '../webClient/settings.js';

export type CanvasCursor =
  | { readonly kind: 'start' }
  | { readonly kind: 'done'; readonly pass: string }
  | { readonly kind: 'after'; readonly pass: string; readonly course: number }
  | { readonly kind: 'within'; readonly pass: string; readonly course: number; readonly next: string };

export type StoredCanvasCursor = Exclude<CanvasCursor, { kind: 'start' }>;

export function formatCanvasCursor(cursor: StoredCanvasCursor): string {
  switch (cursor.kind) {
    case 'done':
      return JSON.stringify({ v: 1, pass: cursor.pass, done: true });
    case 'after':
      return JSON.stringify({ v: 1, pass: cursor.pass, after: cursor.course });
    case 'within':
      return JSON.stringify({ v: 1, pass: cursor.pass, course: cursor.course, next: cursor.next });
  }
}

function fromJson(json: Record<string, unknown>): CanvasCursor {
  const { v, pass, done, after, course, next } = json;
  if (v !== 1 || typeof pass !== 'string') return { kind: 'start' };
  if (done === true) return { kind: 'done', pass };
  if (typeof after === 'number' && Number.isSafeInteger(after)) return { kind: 'after', pass, course: after };
  if (typeof course === 'number' && Number.isSafeInteger(course) && typeof next === 'string') return { kind: 'within', pass, course, next };
  return { kind: 'start' };
}

export function parseCanvasCursor(cursor: string | undefined): CanvasCursor {
  if (cursor === undefined) return { kind: 'start' };
  try {
    const json = JSON.parse(cursor) as unknown;
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? fromJson(json as Record<string, unknown>) : { kind: 'start' };
  } catch {
    return { kind: 'start' };
  }
}

/** byPage's continuation token: base64 of the cursor JSON. */
export function encodeCanvasToken(cursor: StoredCanvasCursor): string {
  return encodeJsonToken(JSON.parse(formatCanvasCursor(cursor)) as object);
}

export function decodeCanvasToken(token: string): CanvasCursor {
  const parsed = fromJson(decodeJsonToken(token, 'continuationToken (canvas)'));
  if (parsed.kind === 'start') throw new TypeError('continuationToken is not a Canvas adapter token');
  return parsed;
}
