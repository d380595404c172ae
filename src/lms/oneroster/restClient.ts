/**
 * The OneRoster REST binding (1.2 rostering + gradebook services, or 1.1's single base
 * path): collection envelopes (`{ "enrollments": [...] }`), single-object envelopes
 * (`{ "enrollment": {...} }`), `X-Total-Count` and RFC 8288 `Link` headers, OAuth 2 client
 * credentials. All requests go through the LMS-side retry layer (../http/lmsHttp.ts).
 */
import { LmsRequestError } from '../http/errors.js';
import { LmsHttpClient, baseUrlOf, urlUnder, type LmsHttpStats, type LmsHttpTuning } from '../http/lmsHttp.js';
import { ClientCredentialsToken } from '../http/oauth2.js';
import type { OperationOptions } from '../types.js';
import type { OneRosterVersion } from './settings.js';

export interface OneRosterClientOptions {
  readonly baseUrl: string;
  readonly version: OneRosterVersion;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly http?: LmsHttpTuning;
}

export interface CollectionPage {
  readonly items: readonly unknown[];
  /** X-Total-Count, when sent. */
  readonly total: number | undefined;
  /** The `Link` header's rel="next", when sent. */
  readonly next: URL | undefined;
  /** Whether the answer had a `Link` header at all (then a missing "next" means the end). */
  readonly linked: boolean;
}

export type Service = 'rostering' | 'gradebook';

export class OneRosterClient {
  readonly #http: LmsHttpClient;
  readonly #base: URL;
  readonly version: OneRosterVersion;
  readonly token: ClientCredentialsToken;

  constructor(options: OneRosterClientOptions) {
    this.#base = baseUrlOf(options.baseUrl);
    this.version = options.version;
    this.token = new ClientCredentialsToken({
      system: 'oneroster',
      tokenUrl: options.tokenUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scope: options.scope,
      ...(options.http?.fetch !== undefined ? { fetch: options.http.fetch } : {}),
      ...(options.http?.minBackoffMs !== undefined ? { minBackoffMs: options.http.minBackoffMs } : {}),
    });
    this.#http = new LmsHttpClient({ system: 'oneroster', origin: this.#base.origin, credentials: this.token, ...options.http });
  }

  get stats(): LmsHttpStats {
    return this.#http.stats;
  }

  /** "ims/oneroster/rostering/v1p2/enrollments" (1.2) or "ims/oneroster/v1p1/enrollments" (1.1). */
  url(service: Service, path: string, query: Readonly<Record<string, string | number | undefined>> = {}): URL {
    const root = this.version === '1.1' ? 'ims/oneroster/v1p1' : `ims/oneroster/${service}/v1p2`;
    return urlUnder(this.#base, `${root}/${path.split('/').map(encodeURIComponent).join('/')}`, query);
  }

  /** One page of a collection; `key` is the envelope's plural name. `allowNotFound`: a 404 is an empty page. */
  async page(url: URL, key: string, options: OperationOptions = {}, allowNotFound = false): Promise<CollectionPage> {
    const operation = `GET /${operationPath(url)}`;
    const response = await this.#http.json(url, { operation, allowNotFound, ...options });
    if (response === undefined) return { items: [], total: 0, next: undefined, linked: false };
    const body = response.body;
    const items = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(items)) {
      throw new LmsRequestError({ system: 'oneroster', operation, statusCode: response.status, code: 'malformedResponse', message: `${operation} answered without a "${key}" array` });
    }
    const totalHeader = response.headers.get('x-total-count');
    const total = totalHeader !== null && /^\d+$/.test(totalHeader.trim()) ? Number(totalHeader) : undefined;
    const link = response.headers.get('link');
    const nextHref = link === null ? undefined : parseLinkHeader(link).get('next');
    return { items, total, next: nextHref === undefined ? undefined : new URL(nextHref, url), linked: link !== null };
  }

  /** One object (`{ "user": {...} }`), or undefined on 404. */
  async one(url: URL, key: string, options: OperationOptions = {}): Promise<unknown> {
    const operation = `GET /${operationPath(url)}`;
    const response = await this.#http.json(url, { operation, allowNotFound: true, ...options });
    if (response === undefined) return undefined;
    const body = response.body;
    const item = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
    if (typeof item !== 'object' || item === null) throw new LmsRequestError({ system: 'oneroster', operation, statusCode: response.status, code: 'malformedResponse', message: `${operation} answered without a "${key}" object` });
    return item;
  }

  /** Every item of a small collection (a class's line items, a student's results), page by page; `allowNotFound`: a 404 is none. */
  async *all(url: URL, key: string, pageSize: number, options: OperationOptions = {}, allowNotFound = false): AsyncGenerator<unknown> {
    let offset = 0;
    let next: URL | undefined = withPaging(url, pageSize, 0);
    while (next !== undefined) {
      const page = await this.page(next, key, options, allowNotFound);
      yield* page.items;
      offset += page.items.length;
      next = nextPage(page, next, pageSize, offset);
    }
  }
}

export function withPaging(url: URL, limit: number, offset: number): URL {
  const copy = new URL(url);
  copy.searchParams.set('limit', String(limit));
  copy.searchParams.set('offset', String(offset));
  return copy;
}

/**
 * The page after this one: the Link header's next when the provider sends links; else the
 * next offset while X-Total-Count says there is more, or (without it) until an empty page,
 * since a provider may cap `limit` below what was asked.
 */
export function nextPage(page: CollectionPage, current: URL, limit: number, offsetAfter: number): URL | undefined {
  if (page.linked) return page.next;
  if (page.items.length === 0) return undefined;
  if (page.total !== undefined && offsetAfter >= page.total) return undefined;
  return withPaging(current, limit, offsetAfter);
}

/** RFC 8288: `<url>; rel="next", <url>; rel="last"` → rel → url. */
export function parseLinkHeader(header: string): Map<string, string> {
  const links = new Map<string, string>();
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const [, href, params] = match;
    if (href === undefined || params === undefined) continue;
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(params)?.[1];
    if (rel === undefined) continue;
    for (const name of rel.trim().split(/\s+/)) if (!links.has(name)) links.set(name.toLowerCase(), href);
  }
  return links;
}

/** The resource path without ids of people ("rostering/v1p2/users/{id}" → ".../users/…"). */
function operationPath(url: URL): string {
  const parts = url.pathname.replace(/^\/+/, '').split('/');
  const index = parts.indexOf('oneroster');
  const tail = index >= 0 ? parts.slice(index + 1) : parts;
  const collections = new Set(['enrollments', 'users', 'classes', 'courses', 'results', 'lineItems', 'students', 'academicSessions']);
  return tail.map((p, i) => (i > 1 && !collections.has(p) ? '{id}' : p)).join('/');
}
