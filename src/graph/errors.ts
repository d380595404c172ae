/**
 * One typed error for everything Graph refuses (STYLE.md §4), and the pure classifier
 * that decides what a failure means for a retry, a record and a run (STYLE.md §5).
 */

export class GraphRequestError extends Error {
  override readonly name = 'GraphRequestError';
  /** HTTP status, or -1 when no response arrived (network failure, timeout). */
  readonly statusCode: number;
  /** Graph's error code, e.g. "tooManyRequests", "badRequest". */
  readonly code: string;
  /** Wait asked for by the service (Retry-After header, or "Retry after N minutes"), if any. */
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  /** "POST …/learningCourseActivities": what was being done, without ids of people. */
  readonly operation: string;

  constructor(init: { statusCode: number; code: string; message: string; retryAfterMs?: number; requestId?: string; operation: string }) {
    super(init.message);
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
    this.operation = init.operation;
  }
}

export function isGraphRequestError(err: unknown): err is GraphRequestError {
  return err instanceof Error && err.name === 'GraphRequestError';
}

/** Thrown when a retry would have to wait past the run's time budget: the run stops as partial. */
export class BudgetExhaustedError extends Error {
  override readonly name = 'BudgetExhaustedError';
  constructor(readonly waitMs: number) {
    super(`Graph asked to wait ${Math.ceil(waitMs / 1000)} s, beyond the run's time budget.`);
  }
}

export function isBudgetExhaustedError(err: unknown): err is BudgetExhaustedError {
  return err instanceof Error && err.name === 'BudgetExhaustedError';
}

/**
 * What a failure means:
 * - `request`: transient; retry the same request (after `waitMs` when the service said).
 * - `record`: this record cannot be written as it is (validation, licence, unknown content):
 *   dead-letter it and go on.
 * - `tenant`: nothing will succeed for this tenant until an administrator acts (bad token,
 *   missing permission or service plan, provider not enabled): stop the run, keep the cursor.
 */
export type FailureScope = 'request' | 'record' | 'tenant';

export interface FailureClass {
  readonly retry: boolean;
  readonly scope: FailureScope;
  readonly reason: string;
  readonly waitMs: number | undefined;
}

const TENANT_MESSAGES: readonly RegExp[] = [
  /provider isn't enabled/i,
  /registrationId you entered is valid/i,
  /adequate service plan/i,
  /service plan adequate/i,
  /doesn't have access to this report or data/i,
];

export function classifyGraphFailure(err: unknown): FailureClass {
  // Out of time or cancelled: retrying would only wait longer.
  if (isBudgetExhaustedError(err) || (err instanceof Error && err.name === 'AbortError')) {
    return { retry: false, scope: 'request', reason: err.message, waitMs: undefined };
  }
  if (!isGraphRequestError(err)) {
    return { retry: true, scope: 'request', reason: err instanceof Error ? err.message : String(err), waitMs: undefined };
  }
  const { statusCode: status } = err;
  const reason = `${status === -1 ? 'network' : status} ${err.code}: ${err.message}`;
  if (status === -1 || status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504) {
    return { retry: true, scope: 'request', reason, waitMs: err.retryAfterMs };
  }
  if (status === 401) return { retry: false, scope: 'tenant', reason: `Graph refused the credentials (${reason})`, waitMs: undefined };
  if ((status === 400 || status === 403) && TENANT_MESSAGES.some((re) => re.test(err.message))) {
    return { retry: false, scope: 'tenant', reason, waitMs: undefined };
  }
  if (status === 403 && /insufficient privileges|Authorization_RequestDenied|accessDenied/i.test(`${err.code} ${err.message}`)) {
    return { retry: false, scope: 'tenant', reason: `the app lacks a Graph permission (${reason})`, waitMs: undefined };
  }
  return { retry: false, scope: 'record', reason, waitMs: undefined };
}

/**
 * Retry-After in seconds or as an HTTP date (header), or "Retry after N minutes" in the
 * body, as the employee-learning 429/503 responses say it. The header wins.
 */
export function parseRetryAfter(header: string | null | undefined, message: string | undefined, now = Date.now()): number | undefined {
  if (header !== null && header !== undefined && header.trim() !== '') {
    const value = header.trim();
    if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const match = message === undefined ? null : /retry after (\d+(?:\.\d+)?)\s*(second|minute|min|sec|s\b|m\b)/i.exec(message);
  if (match?.[1] !== undefined) {
    const amount = Number(match[1]);
    const unit = (match[2] ?? '').toLowerCase();
    return Math.round(amount * (unit.startsWith('m') ? 60_000 : 1000));
  }
  return undefined;
}
