/**
 * One typed error for everything an LMS refuses (STYLE.md §4), shared by every API adapter
 * (xAPI, OneRoster, Canvas, Moodle), and the pure classifier that decides whether the
 * LMS-side retry loop (lmsHttp.ts) tries the request again. Messages never contain a token or
 * a secret: operations are named without their query strings, and the setting to fix is named
 * instead of its value.
 */

/** Which adapter made the request. */
export type LmsSystem = 'xapi' | 'oneroster' | 'canvas' | 'moodle';

export interface LmsRequestErrorInit {
  readonly system: LmsSystem;
  /** HTTP status; -1 when no response arrived (network failure, timeout); 0 when no request was made (a refused link). */
  readonly statusCode: number;
  /**
   * What went wrong, machine-readable: the provider's own code when it sent one (OneRoster
   * imsx codeMinor, OAuth `error`, Moodle `errorcode`), else one of ours: `unauthorized`,
   * `forbidden`, `rateLimited`, `notFound`, `malformed` (a truncated body: retried),
   * `malformedResponse` (a body of the wrong shape: not retried), `network`, `timeout`,
   * `foreignLink`, `http`…
   */
  readonly code: string;
  readonly message: string;
  /** Wait the service asked for (Retry-After), if any. */
  readonly retryAfterMs?: number | undefined;
  /** "GET /statements": what was being done, never with query values (they may name people or hold a token). */
  readonly operation: string;
  /** The setting an administrator has to fix, when that is the cause (e.g. LMS_TOKEN). */
  readonly setting?: string | undefined;
  /** Set when a fresh credential was fetched and the request may succeed once more. */
  readonly credentialRenewed?: boolean;
  readonly cause?: unknown;
}

export class LmsRequestError extends Error {
  override readonly name = 'LmsRequestError';
  readonly system: LmsSystem;
  readonly statusCode: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly operation: string;
  readonly setting: string | undefined;
  readonly credentialRenewed: boolean;

  constructor(init: LmsRequestErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.system = init.system;
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.operation = init.operation;
    this.setting = init.setting;
    this.credentialRenewed = init.credentialRenewed === true;
  }

  /** The same error with some fields changed (a hint added to the message, a renewed credential). */
  with(changes: Partial<LmsRequestErrorInit>): LmsRequestError {
    const { system, statusCode, code, retryAfterMs, operation, setting, credentialRenewed, message, cause } = this;
    return new LmsRequestError({ system, statusCode, code, retryAfterMs, operation, setting, credentialRenewed, message, cause, ...changes });
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

const TRANSIENT_STATUS = new Set([-1, 408, 429, 500, 502, 503, 504]);
const TRANSIENT_CODE = new Set(['rateLimited', 'malformed', 'network', 'timeout']);

/**
 * Pure retry classifier. Retried: no response (-1: network, timeout), 408, 429, 500, 502,
 * 503, 504, Canvas' 403 "Rate Limit Exceeded" (code `rateLimited`), a body that could not be
 * parsed (`malformed`: a truncated response), and a 401 after a credential renewal (at once).
 * Not retried: aborts, refused links, 400/401/403/404 and every other LMS error code.
 */
export function classifyLmsFailure(err: unknown): LmsFailureClass {
  if (!isLmsRequestError(err)) {
    const aborted = err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
    return { retry: false, reason: aborted ? 'the request was cancelled' : err instanceof Error ? err.message : String(err), waitMs: undefined };
  }
  const reason = `${err.statusCode === -1 ? 'network' : err.statusCode} ${err.code}: ${err.message}`;
  if (err.credentialRenewed) return { retry: true, reason, waitMs: 0 };
  const retry = TRANSIENT_STATUS.has(err.statusCode) || TRANSIENT_CODE.has(err.code);
  return { retry, reason, waitMs: retry ? err.retryAfterMs : undefined };
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  const value = header?.trim() ?? '';
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
const MAX_DETAIL = 300;

/**
 * The provider's error code and message from an error body, whatever its shape: OneRoster's
 * imsx_StatusInfoDType, OAuth 2 (`error`, `error_description`), or the `{ message }` most LRSs send.
 */
export function describeErrorBody(text: string): { code?: string; message?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const plain = text.replace(/\s+/g, ' ').trim();
    return plain === '' ? {} : { message: plain.slice(0, MAX_DETAIL) };
  }
  if (typeof json !== 'object' || json === null) return {};
  const body = json as Record<string, unknown>;
  const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, MAX_DETAIL) : undefined);
  // imsx_StatusInfoDType, possibly wrapped (some providers send { imsx_statusInfo: {...} } or an array).
  const imsx = (Array.isArray(body['imsx_statusInfo']) ? body['imsx_statusInfo'][0] : body['imsx_statusInfo']) ?? body;
  if (typeof imsx === 'object' && imsx !== null && 'imsx_codeMajor' in imsx) {
    const info = imsx as Record<string, unknown>;
    const minor = info['imsx_CodeMinor'] as { imsx_codeMinorField?: { imsx_codeMinorFieldValue?: unknown }[] } | undefined;
    const code = str(minor?.imsx_codeMinorField?.[0]?.imsx_codeMinorFieldValue) ?? str(info['imsx_codeMajor']);
    const message = str(info['imsx_description']);
    return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
  }
  const code = str(body['error']) ?? str(body['code']) ?? str(body['errorCode']);
  const message = str(body['error_description']) ?? str(body['message']) ?? str(body['errorMessage']);
  return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}
