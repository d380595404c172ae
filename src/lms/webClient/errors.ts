/**
 * One typed error for everything an LMS web API refuses (STYLE.md §4), shared by the Canvas
 * and Moodle adapters. Messages never contain the token: URLs are reported without their
 * query string, and the setting to fix is named instead.
 */

export type LmsSystem = 'canvas' | 'moodle';

export interface LmsRequestErrorInit {
  readonly system: LmsSystem;
  /** HTTP status, or -1 when no response arrived (network failure, timeout). */
  readonly statusCode: number;
  /**
   * What went wrong, machine-readable: `unauthorized` (bad or expired token), `forbidden`
   * (missing permission), `rateLimited`, `notFound`, `malformed` (a body that is not what the
   * API publishes), `network`, `http`, or the LMS's own error code (Moodle `errorcode`).
   */
  readonly code: string;
  readonly message: string;
  /** Wait asked for by the service (Retry-After), if any. */
  readonly retryAfterMs?: number;
  /** "GET /api/v1/courses/7/enrollments": what was being done, without query or token. */
  readonly operation: string;
  /** The setting an administrator has to fix, when that is the cause (e.g. LMS_TOKEN). */
  readonly setting?: string;
}

export class LmsRequestError extends Error {
  override readonly name = 'LmsRequestError';
  readonly system: LmsSystem;
  readonly statusCode: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly operation: string;
  readonly setting: string | undefined;

  constructor(init: LmsRequestErrorInit) {
    super(init.message);
    this.system = init.system;
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.operation = init.operation;
    this.setting = init.setting;
  }
}

export function isLmsRequestError(err: unknown): err is LmsRequestError {
  return err instanceof Error && err.name === 'LmsRequestError';
}

/** What a failure means for the retry loop (STYLE.md §5). */
export interface LmsFailureClass {
  readonly retry: boolean;
  readonly reason: string;
  /** The wait the service asked for; undefined: the loop's own backoff. */
  readonly waitMs: number | undefined;
}

/**
 * Pure retry classifier. Retried: no response, 408, 429, 500, 502, 503, 504, Canvas' 403
 * "Rate Limit Exceeded" (code `rateLimited`), and a body that could not be parsed (a
 * truncated response). Not retried: 401/403 (token or permission: an administrator must
 * act), 400, 404 and every LMS error code.
 */
export function classifyLmsFailure(err: unknown): LmsFailureClass {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError') && !isLmsRequestError(err)) {
    return { retry: false, reason: err.message, waitMs: undefined };
  }
  if (!isLmsRequestError(err)) {
    return { retry: false, reason: err instanceof Error ? err.message : String(err), waitMs: undefined };
  }
  const reason = `${err.statusCode === -1 ? 'network' : err.statusCode} ${err.code}: ${err.message}`;
  if (err.code === 'rateLimited') return { retry: true, reason, waitMs: err.retryAfterMs };
  if (err.code === 'malformed' || err.code === 'network') return { retry: true, reason, waitMs: err.retryAfterMs };
  const status = err.statusCode;
  if (status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504) {
    return { retry: true, reason, waitMs: err.retryAfterMs };
  }
  return { retry: false, reason, waitMs: undefined };
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
