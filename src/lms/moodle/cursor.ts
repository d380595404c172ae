/**
 * The Moodle cursor: small versioned JSON, opaque to the engine.
 * Walk mode (no report), a pass over the courses in scope like Canvas':
 * - `{"v":1,"pass":T,"done":true}`: the pass that started at T is complete;
 * - `{"v":1,"pass":T,"after":C}`: every course up to id C was read;
 * - `{"v":1,"pass":T,"course":C,"from":N,"last":U}`: course C's roster (sorted by user id) was
 *   read up to offset N, the last user yielded being U. Moodle pages by offset, so a resume
 *   reads again a little before N and drops users up to U: a roster that shrank meanwhile
 *   skips nobody.
 * Report mode: `{"v":1,"report":R,"since":ISO}`: every row of report R changed at or before
 * ISO was yielded. A listing reads rows changed at or after since − lookback.
 * A cursor of the other mode, or not one of these, starts from scratch rather than failing.
 */
import { passCursorCodec, type PassCursorBase } from '../passCursor.js';

export type MoodleCursor =
  | PassCursorBase
  | { readonly kind: 'within'; readonly pass: string; readonly course: number; readonly from: number; readonly last: number }
  | { readonly kind: 'report'; readonly report: number; readonly since: string };

export type StoredMoodleCursor = Exclude<MoodleCursor, { kind: 'start' }>;

export function formatMoodleCursor(cursor: StoredMoodleCursor): string {
  switch (cursor.kind) {
    case 'done':
      return JSON.stringify({ v: 1, pass: cursor.pass, done: true });
    case 'after':
      return JSON.stringify({ v: 1, pass: cursor.pass, after: cursor.course });
    case 'within':
      return JSON.stringify({ v: 1, pass: cursor.pass, course: cursor.course, from: cursor.from, last: cursor.last });
    case 'report':
      return JSON.stringify({ v: 1, report: cursor.report, since: cursor.since });
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function fromJson(json: Record<string, unknown>): MoodleCursor {
  const { v, pass, done, after, course, from, last, report, since } = json;
  if (v !== 1) return { kind: 'start' };
  if (isInt(report) && typeof since === 'string' && !Number.isNaN(Date.parse(since))) return { kind: 'report', report, since };
  if (typeof pass !== 'string') return { kind: 'start' };
  if (done === true) return { kind: 'done', pass };
  if (isInt(after)) return { kind: 'after', pass, course: after };
  if (isInt(course) && isInt(from) && isInt(last)) return { kind: 'within', pass, course, from, last };
  return { kind: 'start' };
}

const codec = passCursorCodec<MoodleCursor, StoredMoodleCursor>('Moodle', formatMoodleCursor, fromJson, { kind: 'start' });

export const parseMoodleCursor = codec.parse;
/** byPage's continuation token: base64 of the cursor JSON. */
export const encodeMoodleToken = codec.encodeToken;
export const decodeMoodleToken = codec.decodeToken;
