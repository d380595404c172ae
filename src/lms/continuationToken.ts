/**
 * The file adapter's continuation token: base64 of `{ v: 1, cursor, after: { updatedAtMs,
 * position } }`. `cursor` is the cursor the listing started from (so a resumed listing
 * selects the same records); `after` is the sort key of the last record returned
 * (`updatedAtMs` null for a record with no readable updatedAt; `position` its byte offset).
 */
import type { IndexKey } from './fileIndex.js';

export interface FileContinuation {
  readonly cursor: string | undefined;
  readonly after: IndexKey;
}

interface TokenJson {
  readonly v: 1;
  readonly cursor?: string;
  readonly after: { readonly updatedAtMs: number | null; readonly position: number };
}

export function encodeContinuationToken(token: FileContinuation): string {
  const json: TokenJson = {
    v: 1,
    ...(token.cursor !== undefined ? { cursor: token.cursor } : {}),
    after: { updatedAtMs: Number.isNaN(token.after.updatedAtMs) ? null : token.after.updatedAtMs, position: token.after.position },
  };
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64');
}

/** Parses a token made by `encodeContinuationToken`; throws a TypeError naming what is wrong. */
export function decodeContinuationToken(token: string): FileContinuation {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw new TypeError('continuationToken is not a file adapter token (not base64 JSON)');
  }
  const fail = (what: string): never => {
    throw new TypeError(`continuationToken is not a file adapter token (${what})`);
  };
  if (typeof json !== 'object' || json === null) return fail('not an object');
  const { v, cursor, after } = json as Record<string, unknown>;
  if (v !== 1) return fail(`version ${JSON.stringify(v)}, expected 1`);
  if (cursor !== undefined && typeof cursor !== 'string') return fail('cursor is not a string');
  if (typeof after !== 'object' || after === null) return fail('after is missing');
  const { updatedAtMs, position } = after as Record<string, unknown>;
  if (updatedAtMs !== null && (typeof updatedAtMs !== 'number' || !Number.isFinite(updatedAtMs))) return fail('after.updatedAtMs is not a number or null');
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) return fail('after.position is not a byte offset');
  return { cursor, after: { updatedAtMs: updatedAtMs ?? NaN, position } };
}
