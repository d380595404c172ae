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
import { passCursorCodec, type PassCursorBase } from '../passCursor.js';

export type CanvasCursor =
  | PassCursorBase
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

const codec = passCursorCodec<CanvasCursor, StoredCanvasCursor>('Canvas', formatCanvasCursor, fromJson, { kind: 'start' });

export const parseCanvasCursor = codec.parse;
/** byPage's continuation token: base64 of the cursor JSON. */
export const encodeCanvasToken = codec.encodeToken;
export const decodeCanvasToken = codec.decodeToken;
