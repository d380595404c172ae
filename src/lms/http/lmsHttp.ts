/**
 * The LMS-side retry layer: every HTTP request an API adapter makes goes through this one
 * small p-retry loop (STYLE.md §5). STYLE.md §8 says adapters do not retry; the LMS's own
 * limits (429/503 with Retry-After, transient 5xx, a token that expired early) still have to
 * be honoured somewhere below the engine, so this is the single place where it happens, with
 * a bounded number of attempts, a bounded wait, and the caller's abort signal. Adapters call
 * it and never loop themselves. Graph has its own layer in src/graph/gateway.ts.
 */
import pRetry from 'p-retry';
import type { OperationOptions } from '../types.js';
import { LmsRequestError, classifyLmsFailure, describeErrorBody, parseRetryAfter } from './errors.js';

export interface CredentialSource {
  /** Headers that authenticate a request (Authorization); called before every attempt. */
  headers(options: OperationOptions): Promise<Record<string, string>> | Record<string, string>;
  /** After a 401: forget a cached credential; true when a fresh one may succeed (once per request). */
  renew?(): boolean;
}

export interface LmsHttpOptions {
  /** The adapter's name, for errors: "xapi", "oneroster". */
  readonly lms: string;
  readonly credentials?: CredentialSource;
  /**
   * The only origin requests may go to (that of LMS_BASE_URL): a link the LMS returns (xAPI
   * `more`, a OneRoster `Link`) that points elsewhere is refused, so credentials never leave it.
   */
  readonly origin?: string;
  /** Headers sent with every request (X-Experience-API-Version). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per attempt; default 30 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt; default 4. */
  readonly maxRetries?: number;
  /** A Retry-After longer than this ends the request with the 429/503 instead of waiting; default 120 s. */
  readonly maxRetryAfterMs?: number;
  /** First backoff when the LMS gave no Retry-After; default 500 ms, doubling. */
  readonly minBackoffMs?: number;
  readonly fetch?: typeof fetch;
}

export interface LmsRequest extends OperationOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** "GET /enrollments": used in errors instead of the URL, whose query may name people. */
  readonly operation: string;
  /** Return undefined on 404 instead of failing. */
  readonly allowNotFound?: boolean;
}

export interface LmsResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

const DEFAULTS = { timeoutMs: 30_000, maxRetries: 4, maxRetryAfterMs: 120_000, minBackoffMs: 500 };

export class LmsHttpClient {
  readonly #options: LmsHttpOptions;
  readonly #fetch: typeof fetch;
  #requests = 0;
  #retries = 0;

  constructor(options: LmsHttpOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get stats(): { requests: number; retries: number } {
    return { requests: this.#requests, retries: this.#retries };
  }

  /** A JSON request through the retry loop; the body is parsed JSON (`unknown`: callers validate it). */
  async json(url: URL, request: LmsRequest): Promise<LmsResponse | undefined> {
    const { origin } = this.#options;
    if (origin !== undefined && url.origin !== origin) {
      throw new LmsRequestError({ lms: this.#options.lms, operation: request.operation, statusCode: 0, code: 'foreignLink', message: `${request.operation}: the ${this.#options.lms} service linked to ${url.origin}, outside LMS_BASE_URL (${origin}); not followed, so the credentials stay with LMS_BASE_URL` });
    }
    const signal = request.abortSignal;
    const maxRetryAfterMs = this.#options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
    let renewed = false;
    return pRetry(
      async () => {
        try {
          return await this.#attempt(url, request);
        } catch (err) {
          // A 401 with a cached credential: renew it and try once more (an OAuth token revoked or expired early).
          if (err instanceof LmsRequestError && err.statusCode === 401 && !renewed && this.#options.credentials?.renew?.() === true) {
            renewed = true;
            throw new LmsRequestError({ lms: err.lms, operation: err.operation, statusCode: 401, code: err.code, message: err.message, credentialRenewed: true });
          }
          throw err;
        }
      },
      {
        retries: this.#options.maxRetries ?? DEFAULTS.maxRetries,
        minTimeout: this.#options.minBackoffMs ?? DEFAULTS.minBackoffMs,
        maxTimeout: 10_000,
        factor: 2,
        randomize: true,
        ...(signal !== undefined ? { signal } : {}),
        shouldRetry: ({ error }) => classifyLmsFailure(error).retry,
        onFailedAttempt: async ({ error, retriesLeft }) => {
          const failure = classifyLmsFailure(error);
          if (!failure.retry || retriesLeft <= 0) return;
          const waitMs = failure.waitMs ?? 0;
          // A wait longer than a run should sit through ends the request; the next scheduled run tries again.
          if (waitMs > maxRetryAfterMs) throw error;
          this.#retries += 1;
          if (waitMs > 0) await sleep(waitMs, signal);
        },
      },
    );
  }

  async #attempt(url: URL, request: LmsRequest): Promise<LmsResponse | undefined> {
    const { lms } = this.#options;
    const { operation } = request;
    const signal = request.abortSignal;
    signal?.throwIfAborted();
    this.#requests += 1;
    const credentialHeaders = (await this.#options.credentials?.headers(signal !== undefined ? { abortSignal: signal } : {})) ?? {};
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULTS.timeoutMs);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: request.method ?? 'GET',
        headers: { Accept: 'application/json', ...this.#options.headers, ...request.headers, ...credentialHeaders },
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : err;
      const timedOut = timeout.aborted;
      throw new LmsRequestError({
        lms,
        operation,
        statusCode: -1,
        code: timedOut ? 'timeout' : 'network',
        message: timedOut ? `no answer from the ${lms} service within ${this.#options.timeoutMs ?? DEFAULTS.timeoutMs} ms` : `the ${lms} service could not be reached (${describeCause(err)})`,
        cause: err,
      });
    }
    const text = await response.text();
    if (response.status === 404 && request.allowNotFound === true) return undefined;
    if (!response.ok) {
      const detail = describeErrorBody(text);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      throw new LmsRequestError({
        lms,
        operation,
        statusCode: response.status,
        code: detail.code ?? httpCode(response.status),
        message: `${operation} answered ${response.status}${detail.message !== undefined ? `: ${detail.message}` : ''}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new LmsRequestError({ lms, operation, statusCode: response.status, code: 'malformedResponse', message: `${operation} answered ${response.status} with a body that is not JSON` });
    }
    return { status: response.status, headers: response.headers, body };
  }
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
