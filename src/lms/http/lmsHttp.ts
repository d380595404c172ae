/**
 * The LMS-side retry layer: every HTTP request an API adapter (xAPI, OneRoster, Canvas,
 * Moodle) makes goes through this one small p-retry loop (STYLE.md §5). STYLE.md §8 says
 * adapters do not retry; the LMS's own limits (429/503 with Retry-After, Canvas' 403 "Rate
 * Limit Exceeded", transient 5xx, a token that expired early) still have to be honoured
 * somewhere below the engine, so this is the single place where it happens, with a bounded
 * number of attempts, a bounded wait, and the caller's abort signal. Adapters call it and
 * never loop themselves; what is particular to one LMS comes in through `LmsHttpPolicy`
 * (pacing, reading rate-limit headers) and through the `interpret` function of `send`.
 * Graph has its own layer in src/graph/gateway.ts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { OperationOptions } from '../types.js';
import { LmsRequestError, classifyLmsFailure, describeErrorBody, isLmsRequestError, parseRetryAfter, type LmsSystem } from './errors.js';

export interface CredentialSource {
  /** Headers that authenticate a request (Authorization); called before every attempt. */
  headers(options: OperationOptions): Promise<Record<string, string>> | Record<string, string>;
  /** After a 401: forget a cached credential; true when a fresh one may succeed (once per request). */
  renew?(): boolean;
}

/** What one LMS adds to the shared loop. */
export interface LmsHttpPolicy {
  /** Runs before each attempt: a pacing hook (Canvas' X-Rate-Limit-Remaining). */
  readonly beforeAttempt?: (signal: AbortSignal | undefined) => Promise<void>;
  /** Sees every response's headers (Canvas reads its rate-limit headers here). */
  readonly onResponse?: (headers: Headers) => void;
  /**
   * True: a throttle (code `rateLimited`, 429, 503) waits without using up `maxRetries`; only
   * `maxRetryTimeMs` bounds it. False (default): every retry counts against `maxRetries`.
   */
  readonly throttlesWaitFreely?: boolean;
  /**
   * `manual`: a redirect is a response for `interpret` (Canvas and Moodle call it a settings
   * problem). Default `same-origin`: a redirect within the request's origin is followed (at most
   * 5), one to another origin is refused, so credentials (a token request's client_secret, an
   * Authorization header) never leave for another host.
   */
  readonly redirect?: 'same-origin' | 'manual';
}

/** The knobs an adapter's caller (and tests) may turn. */
export interface LmsHttpTuning {
  /** Per attempt; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Retries after the first attempt; default 4. */
  readonly maxRetries?: number;
  /** A Retry-After longer than this ends the request with the 429/503 instead of waiting; default 120 s. */
  readonly maxRetryAfterMs?: number;
  /** First backoff when the LMS gave no Retry-After; default 500 ms, doubling. */
  readonly minBackoffMs?: number;
  /** Longest backoff between two attempts; default 10 s. */
  readonly maxBackoffMs?: number;
  /** Total time one request may spend retrying; default: unbounded (maxRetries bounds it). */
  readonly maxRetryTimeMs?: number;
  /** Largest response body read, in bytes; a longer one fails the request unread (default 32 MiB). */
  readonly maxResponseBytes?: number;
  /** For tests: another fetch. */
  readonly fetch?: typeof fetch;
}

export interface LmsHttpOptions extends LmsHttpTuning {
  readonly system: LmsSystem;
  readonly credentials?: CredentialSource;
  /**
   * The only origin requests may go to (that of LMS_BASE_URL): a link the LMS returns (xAPI
   * `more`, a OneRoster `Link`) that points elsewhere is refused, so credentials never leave it.
   */
  readonly origin?: string;
  /** The setting that names the URLs this client calls, for errors (default LMS_BASE_URL; the token client's LMS_TOKEN_URL). */
  readonly setting?: string;
  /** Headers sent with every request (X-Experience-API-Version). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly policy?: LmsHttpPolicy;
}

/** Tuning for the web-service adapters (Canvas, Moodle), whose throttles can last minutes. */
export const WEB_SERVICE_TUNING = {
  maxRetries: 5,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000,
  maxRetryAfterMs: 15 * 60_000,
  maxRetryTimeMs: 20 * 60_000,
  requestTimeoutMs: 60_000,
} as const satisfies LmsHttpTuning;

export interface LmsRequest extends OperationOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** "GET /enrollments": used in errors instead of the URL, whose query may name people or hold a token. */
  readonly operation: string;
}

export interface LmsJsonRequest extends LmsRequest {
  /** Return undefined on 404 instead of failing. */
  readonly allowNotFound?: boolean;
}

/** A response as read off the wire, 2xx or not, for the adapter's `interpret`. */
export interface WebResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly operation: string;
}

export interface LmsResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface LmsHttpStats {
  readonly requests: number;
  readonly retries: number;
  /** Throttles waited out without using up a retry (`throttlesWaitFreely`). */
  readonly throttled: number;
}

const DEFAULTS = { requestTimeoutMs: 30_000, maxRetries: 4, maxRetryAfterMs: 120_000, minBackoffMs: 500, maxBackoffMs: 10_000, maxResponseBytes: 32 * 1024 * 1024 };
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Failures that, with `throttlesWaitFreely`, wait rather than use up the retry budget. */
function isThrottle(err: unknown): boolean {
  return isLmsRequestError(err) && (err.code === 'rateLimited' || err.statusCode === 429 || err.statusCode === 503);
}

export class LmsHttpClient {
  readonly #stats = { requests: 0, retries: 0, throttled: 0 };
  readonly #options: LmsHttpOptions;
  readonly #fetch: typeof fetch;

  constructor(options: LmsHttpOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get stats(): LmsHttpStats {
    return { ...this.#stats };
  }

  /** A JSON request; the body is parsed JSON (`unknown`: callers validate it); undefined on 404 with `allowNotFound`. */
  async json(url: URL, request: LmsJsonRequest): Promise<LmsResponse | undefined> {
    return this.send(url, request, (response) => this.#interpretJson(response, request.allowNotFound === true));
  }

  /** One request inside the single retry loop; `interpret` turns each response into T or throws an LmsRequestError. */
  async send<T>(url: URL, request: LmsRequest, interpret: (response: WebResponse) => T): Promise<T> {
    const { system, origin, policy } = this.#options;
    if (origin !== undefined && url.origin !== origin) {
      throw new LmsRequestError({ system, operation: request.operation, statusCode: 0, code: 'foreignLink', setting: 'LMS_BASE_URL', message: `${request.operation}: the ${system} service linked to ${url.origin}, outside LMS_BASE_URL (${origin}); not followed, so the credentials stay with LMS_BASE_URL` });
    }
    const signal = request.abortSignal;
    const maxRetryAfterMs = this.#options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
    const minBackoffMs = this.#options.minBackoffMs ?? DEFAULTS.minBackoffMs;
    const maxBackoffMs = this.#options.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
    const waitsFreely = (error: unknown): boolean => policy?.throttlesWaitFreely === true && isThrottle(error);
    let renewed = false;
    return pRetry(
      async () => {
        signal?.throwIfAborted();
        await policy?.beforeAttempt?.(signal);
        try {
          return interpret(await this.#attempt(url, request));
        } catch (err) {
          // A 401 with a cached credential: renew it and try once more (an OAuth token revoked or expired early).
          if (isLmsRequestError(err) && err.statusCode === 401 && !renewed && this.#options.credentials?.renew?.() === true) {
            renewed = true;
            throw err.with({ credentialRenewed: true });
          }
          throw err;
        }
      },
      {
        retries: this.#options.maxRetries ?? DEFAULTS.maxRetries,
        minTimeout: minBackoffMs,
        maxTimeout: maxBackoffMs,
        factor: 2,
        randomize: true,
        ...(this.#options.maxRetryTimeMs !== undefined ? { maxRetryTime: this.#options.maxRetryTimeMs } : {}),
        ...(signal !== undefined ? { signal } : {}),
        shouldConsumeRetry: ({ error }) => !waitsFreely(error),
        shouldRetry: ({ error }) => classifyLmsFailure(error).retry,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          const failure = classifyLmsFailure(error);
          if (!failure.retry) return;
          const free = waitsFreely(error);
          if (free) this.#stats.throttled += 1;
          else if (retriesLeft <= 0) return;
          // A wait longer than a run should sit through ends the request; the next scheduled run tries again.
          if (failure.waitMs !== undefined && failure.waitMs > maxRetryAfterMs) {
            throw isLmsRequestError(error) ? error.with({ message: `${error.message} (the service asked to wait ${Math.ceil(failure.waitMs / 1000)} s, longer than this adapter waits)` }) : error;
          }
          this.#stats.retries += 1;
          // A throttle that waits freely gets no backoff from p-retry (it consumed no retry): wait here.
          const waitMs = failure.waitMs ?? (free ? backoffMs(attemptNumber, minBackoffMs, maxBackoffMs) : 0);
          if (waitMs > 0) await abortableSleep(waitMs, signal);
        },
      },
    );
  }

  async #attempt(url: URL, request: LmsRequest): Promise<WebResponse> {
    const { system, policy } = this.#options;
    const { operation } = request;
    const signal = request.abortSignal;
    this.#stats.requests += 1;
    const credentialHeaders = (await this.#options.credentials?.headers(signal !== undefined ? { abortSignal: signal } : {})) ?? {};
    const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetchFollowingSameOrigin(url, request, { Accept: 'application/json', ...this.#options.headers, ...request.headers, ...credentialHeaders }, signal === undefined ? timeout : AbortSignal.any([signal, timeout]));
      text = await this.#readBody(response, operation);
    } catch (err) {
      if (isLmsRequestError(err)) throw err;
      // The caller's abort ends everything; anything else (reset, DNS, our timeout) is retried.
      if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : err;
      const timedOut = timeout.aborted;
      throw new LmsRequestError({
        system,
        operation,
        statusCode: -1,
        code: timedOut ? 'timeout' : 'network',
        message: timedOut ? `${operation}: no answer from the ${system} service within ${timeoutMs} ms` : `${operation}: the ${system} service could not be reached (${describeCause(err)})`,
        cause: err,
      });
    }
    policy?.onResponse?.(response.headers);
    return { status: response.status, headers: response.headers, text, operation };
  }

  /**
   * fetch with `redirect: 'manual'`: a redirect to the same origin is followed (303, and 301/302
   * after a POST, become a GET without the body, as browsers do); one to another origin is refused
   * before anything is sent there. With the `manual` policy the redirect goes to `interpret`.
   */
  async #fetchFollowingSameOrigin(url: URL, request: LmsRequest, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const { system, policy } = this.#options;
    let current = url;
    let method = request.method ?? 'GET';
    let body = request.body;
    for (let hops = 0; ; hops++) {
      const response = await this.#fetch(current, { method, headers, ...(body !== undefined ? { body } : {}), signal, redirect: 'manual' });
      if (policy?.redirect === 'manual' || !REDIRECTS.has(response.status)) return response;
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      const setting = this.#options.setting ?? 'LMS_BASE_URL';
      let next: URL | undefined;
      try {
        next = location === null ? undefined : new URL(location, current);
      } catch {
        next = undefined;
      }
      if (next === undefined) fail({ system, operation: request.operation, statusCode: response.status, code: 'badRedirect', setting, message: `${request.operation} answered ${response.status} without a usable Location` });
      if (next.origin !== current.origin) {
        fail({ system, operation: request.operation, statusCode: response.status, code: 'foreignRedirect', setting, message: `${request.operation}: the ${system} service redirected to ${next.origin}, another origin than ${setting} (${current.origin}); not followed, so the credentials stay with ${setting}` });
      }
      if (hops >= MAX_REDIRECTS) fail({ system, operation: request.operation, statusCode: response.status, code: 'tooManyRedirects', setting, message: `${request.operation}: more than ${MAX_REDIRECTS} redirects` });
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      current = next;
    }
  }

  /** The body as text, refusing one longer than maxResponseBytes (declared or read) without holding it. */
  async #readBody(response: Response, operation: string): Promise<string> {
    const { system } = this.#options;
    const max = this.#options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
    const tooLarge = (): never => fail({ system, operation, statusCode: response.status, code: 'responseTooLarge', message: `${operation}: the ${system} service answered with a body larger than ${max} bytes; not read` });
    const declared = Number(response.headers.get('content-length') ?? '');
    if (Number.isFinite(declared) && declared > max) {
      await response.body?.cancel().catch(() => undefined);
      return tooLarge();
    }
    if (response.body === null) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        return tooLarge();
      }
      chunks.push(value);
    }
    // As response.text() reads it: UTF-8, a byte order mark dropped.
    return new TextDecoder('utf-8').decode(Buffer.concat(chunks, total));
  }

  /** The generic reading (xAPI, OneRoster, OAuth token endpoints): non-2xx → error from the body's code and message. */
  #interpretJson(response: WebResponse, allowNotFound: boolean): LmsResponse | undefined {
    const { system } = this.#options;
    const { status, operation, text } = response;
    if (status === 404 && allowNotFound) return undefined;
    if (status < 200 || status >= 300) {
      const detail = describeErrorBody(text);
      return fail({
        system,
        operation,
        statusCode: status,
        code: detail.code ?? httpCode(status),
        message: `${operation} answered ${status}${detail.message !== undefined ? `: ${detail.message}` : ''}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      return fail({ system, operation, statusCode: status, code: 'malformedResponse', message: `${operation} answered ${status} with a body that is not JSON` });
    }
    return { status, headers: response.headers, body };
  }
}

/** Throws the LmsRequestError `init` describes (for `interpret` functions). */
export function fail(init: ConstructorParameters<typeof LmsRequestError>[0]): never {
  throw new LmsRequestError(init);
}

/** Parses a JSON body, or throws a retryable `malformed` error (a truncated response) naming the operation. */
export function parseJsonBody(response: WebResponse, system: LmsSystem): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch {
    const preview = response.text.slice(0, 80).replace(/\s+/g, ' ');
    return fail({ system, statusCode: response.status, code: 'malformed', message: `${response.operation} returned a body that is not JSON (${preview === '' ? 'empty' : `"${preview}…"`})`, operation: response.operation });
  }
}

/** The wait the response's Retry-After asks for, ready to spread into an LmsRequestErrorInit. */
export function retryAfterOf(response: WebResponse): { retryAfterMs?: number } {
  const ms = parseRetryAfter(response.headers.get('retry-after'));
  return ms === undefined ? {} : { retryAfterMs: ms };
}

function backoffMs(attemptNumber: number, minMs: number, maxMs: number): number {
  const base = minMs * 2 ** Math.max(0, attemptNumber - 1);
  return Math.min(maxMs, Math.round(base * (1 + Math.random())));
}

function httpCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 429) return 'tooManyRequests';
  if (status === 503) return 'serviceUnavailable';
  return status >= 500 ? 'serverError' : 'badRequest';
}

function describeCause(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ?? (cause instanceof Error ? cause.message : String(cause));
}

/**
 * Waits; an abort ends the wait at once and rejects with the signal's reason (as fetch and
 * p-retry do). The LMS layer's only copy: src/graph/requestScheduler.ts has its own, and
 * src/lms does not depend on src/graph.
 */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal !== undefined ? { signal } : {});
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : err;
    throw err;
  }
}

/** A request URL under `base`: `path` relative to it ("statements"), or an absolute path from an LMS link. */
export function urlUnder(base: URL, path: string, query: Readonly<Record<string, string | number | boolean | undefined>> = {}): URL {
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  return url;
}

/** The base URL with exactly one trailing slash, so relative paths resolve beneath it. */
export function baseUrlOf(value: string): URL {
  const url = new URL(value);
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

/** Basic credentials (RFC 7617): the value of an Authorization header. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
