import { idProblem, parseEnrollment, type EnrollmentRecord } from '../mapping/enrollment.js';

/**
 * What a webhook says changed: always an enrollment id, and the canonical record when the body
 * carries a valid one. The LMS is asked for the current state either way, where it can answer.
 */
export interface WebhookNotice {
  readonly enrollmentId: string;
  readonly record?: EnrollmentRecord;
  /** Why the body's record was not usable, when it looked like one (shown if the LMS cannot answer). */
  readonly recordProblem?: string;
  /** The Standard Webhooks event type, when the body is an envelope. */
  readonly eventType?: string;
}

export type PayloadResult = { readonly ok: true; readonly notice: WebhookNotice } | { readonly ok: false; readonly reason: string };

/** Keys that a bare notice may carry besides the id; anything else means "this is a record". */
const NOTICE_KEYS = new Set(['enrollmentId', 'updatedAt', 'changedAt', 'type', 'event']);

/**
 * Reads a webhook body. Accepted shapes:
 * - a canonical enrollment record (DESIGN.md, "The canonical enrollment");
 * - `{ "enrollmentId": "…" }`, a notice without the record;
 * - either of those as the `data` of a Standard Webhooks envelope `{ "type", "timestamp", "data" }`.
 */
export function parseWebhookPayload(text: string): PayloadResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `the body is not valid JSON (${err instanceof Error ? err.message.split('\n')[0] : 'unreadable'})` };
  }
  if (!isObject(parsed)) return { ok: false, reason: 'the body must be a JSON object' };
  let body = parsed;
  let eventType: string | undefined;
  if (isObject(parsed['data']) && typeof parsed['type'] === 'string') {
    body = parsed['data'];
    eventType = parsed['type'];
  }
  const rawId = body['enrollmentId'];
  // Taken exactly as sent: a trimmed id could be another enrollment's (see idProblem).
  const id = typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : typeof rawId === 'string' ? rawId : undefined;
  if (id === undefined || id.trim() === '') return { ok: false, reason: 'the body names no enrollmentId' };
  const problem = idProblem(id);
  if (problem !== undefined) return { ok: false, reason: `enrollmentId ${problem}` };
  const extra = eventType === undefined ? { } : { eventType };

  const looksLikeNotice = Object.keys(body).every((k) => NOTICE_KEYS.has(k));
  if (looksLikeNotice) return { ok: true, notice: { enrollmentId: id, ...extra } };
  const record = parseEnrollment(body);
  if (record.ok) return { ok: true, notice: { enrollmentId: record.enrollment.enrollmentId, record: record.enrollment, ...extra } };
  return { ok: true, notice: { enrollmentId: id, recordProblem: record.reason, ...extra } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
