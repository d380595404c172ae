/**
 * One typed error for everything an LMS refuses (STYLE.md §4), and the pure classifier that
 * decides whether the LMS-side retry loop (lmsHttp.ts) tries the request again.
 */

export class LmsRequestError extends Error {
  override readonly name = 'LmsRequestError';
  /** HTTP status, or -1 when no response arrived (network failure, timeout). */
  readonly statusCode: number;
  /** The provider's own code when it sent one (OneRoster imsx codeMinor, OAuth `error`), else a code of ours. */
  readonly code: string;
  /** Wait the LMS asked for (Retry-After), if any. */
  readonly retryAfterMs: number | undefined;
  /** "GET /statements": what was being done, never with query values (they may name people). */
  readonly operation: string;
  /** Which adapter: "xapi", "oneroster". */
  readonly lms: string;
  /** Set when a fresh credential was fetched and the request may succeed once more. */
  readonly credentialRenewed: boolean;

  constructor(init: { lms: string; operation: string; statusCode: number; code: string; message: string; retryAfterMs?: number; credentialRenewed?: boolean; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.lms = init.lms;
    this.operation = init.operation;
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.credentialRenewed = init.credentialRenewed === true;
  }
}

export function isLmsRequestError(err: unknown): err is LmsRequestError {
  return err instanceof Error && err.name === 'LmsRequestError';
}

export interface LmsFailureClass {
  readonly retry: boolean;
  readonly reason: string;
  readonly waitMs: number | undefined;
}

const TRANSIENT = new Set([-1, 408, 429, 500, 502, 503, 504]);

/** Network failures, timeouts, 408/429/5xx and a 401 after a token renewal are retried; nothing else. */
export function classifyLmsFailure(err: unknown): LmsFailureClass {
  if (!isLmsRequestError(err)) {
    const aborted = err instanceof Error && err.name === 'AbortError';
    return { retry: false, reason: aborted ? 'the request was cancelled' : err instanceof Error ? err.message : String(err), waitMs: undefined };
  }
  const reason = `${err.statusCode === -1 ? 'network' : err.statusCode} ${err.code}: ${err.message}`;
  if (err.credentialRenewed) return { retry: true, reason, waitMs: 0 };
  return { retry: TRANSIENT.has(err.statusCode), reason, waitMs: err.retryAfterMs };
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
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
