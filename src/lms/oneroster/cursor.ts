/**
 * The OneRoster cursor and continuation tokens, and the step every record takes through
 * `parseEnrollment`.
 *
 * Cursor: `{"v":1,"enrollments":"<ISO>","results":"<ISO>"}`, one high-water mark of
 * `dateLastModified` per change stream (enrollments; gradebook results). A plain ISO
 * string (an older or foreign cursor) is read as the mark of both.
 */
import { normalizeDateTime, parseEnrollment } from '../../mapping/enrollment.js';
import type { SourceItem } from '../types.js';
import type { RawRecord } from './mapping.js';

export interface Marks {
  readonly enrollments?: string;
  readonly results?: string;
}

export function parseCursor(cursor: string | undefined): Marks {
  if (cursor === undefined) return {};
  const iso = normalizeDateTime(cursor);
  if (iso !== undefined) return { enrollments: iso, results: iso };
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new TypeError(`cursor ${JSON.stringify(cursor)} is not a oneroster adapter cursor`);
  }
  if (typeof json !== 'object' || json === null || (json as { v?: unknown }).v !== 1) throw new TypeError(`cursor ${JSON.stringify(cursor)} is not a oneroster adapter cursor (version 1)`);
  const read = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    const normalized = typeof value === 'string' ? normalizeDateTime(value) : undefined;
    if (normalized === undefined) throw new TypeError(`cursor's ${name} ${JSON.stringify(value)} is not an ISO 8601 date-time`);
    return normalized;
  };
  const { enrollments, results } = json as Record<string, unknown>;
  const e = read(enrollments, 'enrollments');
  const r = read(results, 'results');
  return { ...(e !== undefined ? { enrollments: e } : {}), ...(r !== undefined ? { results: r } : {}) };
}

export function formatCursor(marks: Marks): string | undefined {
  if (marks.enrollments === undefined && marks.results === undefined) return undefined;
  return JSON.stringify({ v: 1, ...(marks.enrollments !== undefined ? { enrollments: marks.enrollments } : {}), ...(marks.results !== undefined ? { results: marks.results } : {}) });
}

export function minusMs(iso: string | undefined, ms: number): string | undefined {
  return iso === undefined ? undefined : new Date(Date.parse(iso) - ms).toISOString();
}

export function encodeToken(kind: string, body: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: 1, a: kind, ...body }), 'utf8').toString('base64');
}

export function decodeToken(token: string, kind: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw new TypeError(`continuationToken is not a ${kind} token (not base64 JSON)`);
  }
  if (typeof json !== 'object' || json === null || (json as { v?: unknown }).v !== 1 || (json as { a?: unknown }).a !== kind) throw new TypeError(`continuationToken is not a ${kind} token`);
  return json as Record<string, unknown>;
}

/** Through the one gate: a record, or an invalid item whose reason names the enrollment. */
export function toItem(result: { ok: true; raw: RawRecord } | { ok: false; reason: string; updatedAt?: string }, enrollmentId: string, position: string): SourceItem {
  if (!result.ok) {
    return { kind: 'invalid', key: enrollmentId, reason: `enrollment ${enrollmentId}: ${result.reason}`, position, raw: JSON.stringify({ enrollmentId, reason: result.reason }), enrollmentId, ...(result.updatedAt !== undefined ? { updatedAt: result.updatedAt } : {}) };
  }
  const parsed = parseEnrollment(result.raw);
  if (parsed.ok) return { kind: 'record', record: parsed.enrollment, position };
  return { kind: 'invalid', key: enrollmentId, reason: `enrollment ${enrollmentId}: ${parsed.reason}`, position, raw: JSON.stringify(result.raw), enrollmentId, ...(parsed.updatedAt !== undefined ? { updatedAt: parsed.updatedAt } : {}) };
}
