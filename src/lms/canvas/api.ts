/**
 * Canvas REST transport: bearer token, `Link`-header pages followed as opaque URLs, Canvas'
 * error bodies, and its throttle (every response may carry `X-Rate-Limit-Remaining`; a
 * throttled request gets 403 "Rate Limit Exceeded", newer Canvas also 429). Requests go one
 * at a time (Canvas' own advice: one request in flight is unlikely to be throttled), and
 * slow down while the remaining quota is low.
 */
import type { OperationOptions } from '../types.js';
import { LmsRequestError } from '../http/errors.js';
import { abortableSleep, fail, LmsHttpClient, parseJsonBody, retryAfterOf, WEB_SERVICE_TUNING, type LmsHttpTuning, type WebResponse } from '../http/lmsHttp.js';
import { isUnder, parseLinkHeader } from './link.js';

export interface CanvasApiOptions extends LmsHttpTuning {
  /** Below this X-Rate-Limit-Remaining, requests are spaced out; default 150 (of Canvas' default 700). */
  readonly lowQuota?: number;
  /** How fast Canvas refills the quota, units per second; default 10. */
  readonly refillPerSecond?: number;
  /** Longest pause between two requests while the quota is low; default 15 s. */
  readonly maxPaceMs?: number;
}

export interface CanvasPage<T> {
  readonly body: T;
  /** The `rel="next"` link, as Canvas gave it; undefined on the last page. */
  readonly next: string | undefined;
}

export class CanvasApi {
  readonly client: LmsHttpClient;
  private remaining: number | undefined;
  private readonly apiRoot: string;

  constructor(readonly baseUrl: string, token: string, private readonly options: CanvasApiOptions = {}) {
    this.apiRoot = `${baseUrl}/api/v1`;
    this.client = new LmsHttpClient({
      ...WEB_SERVICE_TUNING,
      ...options,
      system: 'canvas',
      origin: new URL(baseUrl).origin,
      credentials: { headers: () => ({ authorization: `Bearer ${token}` }) },
      policy: {
        throttlesWaitFreely: true,
        redirect: 'manual',
        beforeAttempt: (signal) => this.pace(signal),
        onResponse: (headers) => {
          const value = Number(headers.get('x-rate-limit-remaining') ?? Number.NaN);
          this.remaining = Number.isFinite(value) ? value : undefined;
        },
      },
    });
  }

  /** The last X-Rate-Limit-Remaining seen. */
  get rateLimitRemaining(): number | undefined {
    return this.remaining;
  }

  /** A URL under /api/v1 with a query (array parameters written `name[]=a&name[]=b`, as Canvas reads them). */
  url(path: string, query: Readonly<Record<string, string | number | readonly string[]>> = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (Array.isArray(value)) for (const v of value as readonly string[]) search.append(`${name}[]`, v);
      else search.append(name, String(value));
    }
    const qs = search.toString();
    return `${this.apiRoot}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  /** GET one page; `url` is one made by `url()` or a `next` link from an earlier page. */
  async getPage(url: string, options: OperationOptions = {}): Promise<CanvasPage<unknown>> {
    if (!isUnder(this.apiRoot, url)) {
      throw new LmsRequestError({ system: 'canvas', statusCode: 0, code: 'unsafeLink', message: `Canvas sent a page link outside LMS_BASE_URL/api/v1 (${safeOrigin(url)}); not following it`, operation: 'GET (link)', setting: 'LMS_BASE_URL' });
    }
    const target = new URL(url);
    const operation = `GET ${target.pathname}`;
    return this.client.send(target, { operation, ...options }, (response) => {
      const body = interpretCanvas(response);
      const next = parseLinkHeader(response.headers.get('link')).get('next');
      return { body, next };
    });
  }

  /** GET one JSON object; undefined on 404. */
  async getOptional(url: string, options: OperationOptions = {}): Promise<unknown> {
    try {
      return (await this.getPage(url, options)).body;
    } catch (err) {
      if (err instanceof LmsRequestError && err.code === 'notFound') return undefined;
      throw err;
    }
  }

  private async pace(signal: AbortSignal | undefined): Promise<void> {
    const low = this.options.lowQuota ?? 150;
    if (this.remaining === undefined || this.remaining >= low) return;
    const waitMs = Math.min(this.options.maxPaceMs ?? 15_000, Math.ceil(((low - this.remaining) / (this.options.refillPerSecond ?? 10)) * 1000));
    if (waitMs > 0) await abortableSleep(waitMs, signal);
    // The quota refilled while we waited; the next response says by how much.
    this.remaining = low;
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'not a URL';
  }
}

/** Canvas' error bodies: `{"errors":[{"message":…}]}`, `{"errors":{…}}`, `{"message":…}` or text. */
export function canvasErrorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null) {
      const { errors, message } = body as { errors?: unknown; message?: unknown };
      if (Array.isArray(errors)) {
        const messages = errors.map((e) => (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : JSON.stringify(e)));
        if (messages.length > 0) return messages.join('; ');
      }
      if (typeof errors === 'object' && errors !== null) return JSON.stringify(errors).slice(0, 300);
      if (typeof message === 'string') return message;
    }
  } catch {
    // not JSON: fall through to the text
  }
  return text.trim().slice(0, 300) || '(no message)';
}

/** One Canvas response → its JSON body, or the LmsRequestError it means. */
export function interpretCanvas(response: WebResponse): unknown {
  const { status, operation } = response;
  if (status >= 200 && status < 300) return parseJsonBody(response, 'canvas');
  const message = canvasErrorMessage(response.text);
  const base = { system: 'canvas' as const, statusCode: status, operation };
  if ((status === 403 || status === 429) && /rate limit exceeded/i.test(response.text)) {
    return fail({ ...base, code: 'rateLimited', message: `Canvas is throttling this token (${status} ${message})`, ...retryAfterOf(response) });
  }
  if (status === 429 || status === 503) {
    return fail({ ...base, code: status === 429 ? 'rateLimited' : 'unavailable', message: `${operation}: ${status} ${message}`, ...retryAfterOf(response) });
  }
  if (status === 401) {
    // Canvas answers 401 both for a bad token (with WWW-Authenticate) and for a missing permission.
    const badToken = response.headers.get('www-authenticate') !== null || /access token/i.test(message);
    return fail(
      badToken
        ? { ...base, code: 'unauthorized', setting: 'LMS_TOKEN', message: `Canvas refused LMS_TOKEN (401 ${message}): the token is wrong, expired or was deleted; create a new access token` }
        : { ...base, code: 'forbidden', setting: 'LMS_TOKEN', message: `Canvas says the LMS_TOKEN user may not do ${operation} (401 ${message}); see docs/adapters/canvas.md for the permissions it needs` },
    );
  }
  if (status === 403) return fail({ ...base, code: 'forbidden', setting: 'LMS_TOKEN', message: `Canvas refused ${operation} (403 ${message}); see docs/adapters/canvas.md for the permissions LMS_TOKEN needs` });
  if (status === 404) return fail({ ...base, code: 'notFound', message: `${operation}: 404 ${message}` });
  if (status >= 300 && status < 400) {
    return fail({ ...base, code: 'redirect', setting: 'LMS_BASE_URL', message: `Canvas redirected ${operation} (${status}); LMS_BASE_URL must be the Canvas root that serves /api/v1` });
  }
  return fail({ ...base, code: status === 400 ? 'badRequest' : 'http', message: `${operation}: ${status} ${message}` });
}
