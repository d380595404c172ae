/**
 * A small fetch helper for the LMS web APIs (Canvas, Moodle): one p-retry loop per adapter
 * that honours Retry-After on 429/503 (and whatever else `classifyLmsFailure` retries),
 * abort signals, and a per-request timeout. What a response means is the adapter's business:
 * `send` hands every response (2xx or not) to the adapter's `interpret`, which returns the
 * parsed value or throws an `LmsRequestError`. Tokens never reach a message: operations are
 * named without their query strings.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { OperationOptions } from '../types.js';
import { classifyLmsFailure, isLmsRequestError, LmsRequestError, type LmsSystem } from './errors.js';

export interface WebClientOptions {
  readonly system: LmsSystem;
  /** Attempts after the first, for failures that consume a retry; default 5. */
  readonly retries?: number;
  /** First backoff when the service gave no Retry-After; doubles each time; default 1 s. */
  readonly minBackoffMs?: number;
  /** Longest backoff between two attempts; default 60 s. */
  readonly maxBackoffMs?: number;
  /** The longest Retry-After honoured; a longer one fails the request; default 15 minutes. */
  readonly maxWaitMs?: number;
  /** Total time one request may spend retrying; default 20 minutes. */
  readonly maxRetryTimeMs?: number;
  /** One attempt's timeout; default 60 s. */
  readonly requestTimeoutMs?: number;
  /** Runs before each attempt: a pacing hook (Canvas' X-Rate-Limit-Remaining). */
  readonly beforeAttempt?: (signal: AbortSignal | undefined) => Promise<void>;
  /** Sees every response's headers (Canvas reads its rate-limit headers here). */
  readonly onResponse?: (headers: Headers) => void;
  /** For tests: another fetch. */
  readonly fetch?: typeof fetch;
}

export interface WebRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** "GET /api/v1/courses/7/enrollments": for messages; never holds a query string. */
  readonly operation: string;
}

export interface WebResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly operation: string;
}

export interface WebClientStats {
  requests: number;
  retries: number;
  throttled: number;
}

/** Statuses whose failures wait rather than use up the retry budget (bounded by maxRetryTimeMs). */
function isThrottle(err: unknown): boolean {
  return isLmsRequestError(err) && (err.code === 'rateLimited' || err.statusCode === 429 || err.statusCode === 503);
}

export class WebClient {
  readonly stats: WebClientStats = { requests: 0, retries: 0, throttled: 0 };
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: WebClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** One request inside the single retry loop; `interpret` turns each response into T or an LmsRequestError. */
  async send<T>(request: WebRequest, interpret: (response: WebResponse) => T, options: OperationOptions = {}): Promise<T> {
    const signal = options.abortSignal;
    const maxWaitMs = this.options.maxWaitMs ?? 15 * 60_000;
    return pRetry(
      async () => {
        signal?.throwIfAborted();
        await this.options.beforeAttempt?.(signal);
        const response = await this.attempt(request, signal);
        return interpret(response);
      },
      {
        retries: this.options.retries ?? 5,
        minTimeout: this.options.minBackoffMs ?? 1000,
        maxTimeout: this.options.maxBackoffMs ?? 60_000,
        factor: 2,
        randomize: true,
        maxRetryTime: this.options.maxRetryTimeMs ?? 20 * 60_000,
        ...(signal !== undefined ? { signal } : {}),
        shouldConsumeRetry: ({ error }) => !isThrottle(error),
        shouldRetry: ({ error }) => classifyLmsFailure(error).retry,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          const failure = classifyLmsFailure(error);
          if (!failure.retry) return;
          const throttled = isThrottle(error);
          if (throttled) this.stats.throttled += 1;
          else if (retriesLeft <= 0) return;
          if (failure.waitMs !== undefined && failure.waitMs > maxWaitMs) {
            throw new LmsRequestError({ ...fieldsOf(error, this.options.system), message: `${error.message} (the service asked to wait ${Math.ceil(failure.waitMs / 1000)} s, longer than this adapter waits)` });
          }
          this.stats.retries += 1;
          // A throttle does not use up the retry budget, so p-retry adds no backoff of its own: wait here.
          const waitMs = failure.waitMs ?? (throttled ? this.backoffMs(attemptNumber) : 0);
          if (waitMs > 0) await sleep(waitMs, signal);
        },
      },
    );
  }

  private backoffMs(attemptNumber: number): number {
    const base = (this.options.minBackoffMs ?? 1000) * 2 ** Math.max(0, attemptNumber - 1);
    return Math.min(this.options.maxBackoffMs ?? 60_000, Math.round(base * (1 + Math.random())));
  }

  private async attempt(request: WebRequest, signal: AbortSignal | undefined): Promise<WebResponse> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    this.stats.requests += 1;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(request.url, {
        method: request.method,
        headers: { accept: 'application/json', ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: combined,
        redirect: 'manual',
      });
      text = await response.text();
    } catch (err) {
      // The caller's abort ends everything; anything else (reset, DNS, our timeout) is retried.
      if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : err;
      const detail = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      throw new LmsRequestError({ system: this.options.system, statusCode: -1, code: 'network', message: `${request.operation} got no response (${detail})`, operation: request.operation });
    }
    this.options.onResponse?.(response.headers);
    return { status: response.status, headers: response.headers, text, operation: request.operation };
  }
}

function fieldsOf(err: Error, system: LmsSystem): { system: LmsSystem; statusCode: number; code: string; operation: string; setting?: string } {
  if (isLmsRequestError(err)) return { system: err.system, statusCode: err.statusCode, code: err.code, operation: err.operation, ...(err.setting !== undefined ? { setting: err.setting } : {}) };
  return { system, statusCode: -1, code: 'unknown', operation: 'request' };
}

/** Waits; an abort ends the wait at once and rejects with the signal's reason (as fetch and p-retry do). */
export async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal !== undefined ? { signal } : {});
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : err;
    throw err;
  }
}

/** Parses a JSON body, or throws a retryable `malformed` error naming the operation. */
export function parseJsonBody(response: WebResponse, system: LmsSystem): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch {
    const preview = response.text.slice(0, 80).replace(/\s+/g, ' ');
    throw new LmsRequestError({ system, statusCode: response.status, code: 'malformed', message: `${response.operation} returned a body that is not JSON (${preview === '' ? 'empty' : `"${preview}…"`})`, operation: response.operation });
  }
}
