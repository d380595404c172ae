/**
 * A local OneRoster provider that follows the published API (the official 1EdTech 1.2
 * Rostering and Gradebook OpenAPI files; 1.1's single base path), for tests and local runs:
 * - OAuth 2 client credentials at `/oauth/token` (client authentication by HTTP Basic or in
 *   the form body; scopes checked per service as the OpenAPI lists them; tokens expire);
 * - `…/rostering/v1p2/{enrollments,users,classes,courses,orgs,academicSessions}[/{id}]`,
 *   `…/gradebook/v1p2/{results,lineItems}[/{id}]`, `…/classes/{id}/lineItems`,
 *   `…/classes/{id}/results`, `…/classes/{id}/students/{id}/results`, or the same under
 *   `/ims/oneroster/v1p1/` for 1.1;
 * - `limit` (default 100, capped), `offset`, `sort`, `orderBy`, `filter` (`field op 'value'`,
 *   up to two predicates joined by AND or OR, dotted paths, ops = != > >= < <= ~), `fields`;
 *   `X-Total-Count` and an RFC 8288 `Link` header (next, prev, first, last);
 * - envelopes `{ "enrollments": [...] }` / `{ "enrollment": {...} }`, errors as
 *   imsx_StatusInfoDType (400 invalid_filter_field, 401 unauthorisedrequest, 403 forbidden,
 *   404 unknownobject, 429 server_busy with Retry-After);
 * - provider quirks on request: `ignoreSort` (order stays insertion order), `brokenFilter`
 *   (the filter is ignored or refused, as some providers do), no Link header.
 */
import { randomBytes } from 'node:crypto';
import { LmsStandInServer, readBasic, type IncomingLmsRequest, type Reply } from './standInHttp.js';

export type OneRosterObject = Record<string, unknown>;

export type Collection = 'enrollments' | 'users' | 'classes' | 'courses' | 'orgs' | 'academicSessions' | 'lineItems' | 'results';

export interface OneRosterStandInOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly version?: '1.2' | '1.1';
  readonly tokenLifetimeSeconds?: number;
  /** The most records one page returns; default 100. */
  readonly maxLimit?: number;
  /** Answer in insertion order whatever `sort` asks. */
  readonly ignoreSort?: boolean;
  /** A broken filter, as some providers have: `ignore` it (return everything) or `reject` it (400). */
  readonly brokenFilter?: 'ignore' | 'reject';
  /** Send the Link header; default true. */
  readonly links?: boolean;
  /** Check scopes per service (1.2); default true. */
  readonly checkScopes?: boolean;
  /** Make Link URLs point at this origin (a misconfigured or hostile provider). */
  readonly linkOrigin?: string;
  readonly now?: () => number;
}

const SINGULAR: Readonly<Record<Collection, string>> = {
  enrollments: 'enrollment',
  users: 'user',
  classes: 'class',
  courses: 'course',
  orgs: 'org',
  academicSessions: 'academicSession',
  lineItems: 'lineItem',
  results: 'result',
};

const ROSTERING: readonly Collection[] = ['enrollments', 'users', 'classes', 'courses', 'orgs', 'academicSessions'];
const GRADEBOOK: readonly Collection[] = ['lineItems', 'results'];

const SCOPE = 'https://purl.imsglobal.org/spec/or/v1p2/scope/';
const ROSTER_SCOPES = [`${SCOPE}roster.readonly`, `${SCOPE}roster-core.readonly`];
const GRADEBOOK_SCOPES = [`${SCOPE}gradebook.readonly`, `${SCOPE}gradebook-core.readonly`];

interface Token {
  readonly expiresAtMs: number;
  readonly scopes: readonly string[];
}

export class OneRosterStandIn extends LmsStandInServer {
  readonly #options: OneRosterStandInOptions;
  readonly #data = new Map<Collection, Map<string, OneRosterObject>>();
  readonly #tokens = new Map<string, Token>();
  #issued = 0;

  constructor(options: OneRosterStandInOptions) {
    super();
    this.#options = options;
  }

  /** Starts the provider; returns LMS_BASE_URL (the root under which /ims/oneroster/… is served). */
  async start(port = 0): Promise<string> {
    return this.listen(port);
  }

  get tokenUrl(): string {
    return `${this.origin}/oauth/token`;
  }

  get tokensIssued(): number {
    return this.#issued;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Adds or replaces records; a record without dateLastModified gets the current time. */
  put(collection: Collection, records: readonly OneRosterObject[]): void {
    const table = this.#table(collection);
    for (const record of records) {
      const id = record['sourcedId'];
      if (typeof id !== 'string' || id === '') throw new Error(`a ${SINGULAR[collection]} needs a sourcedId`);
      table.set(id, { status: 'active', ...record, dateLastModified: record['dateLastModified'] ?? new Date(this.#now()).toISOString() });
    }
  }

  /** Changes one record as the provider's users would, stamping dateLastModified (now, or `at`). */
  update(collection: Collection, sourcedId: string, changes: OneRosterObject, at?: string): void {
    const record = this.#table(collection).get(sourcedId);
    if (record === undefined) throw new Error(`no ${SINGULAR[collection]} ${sourcedId}`);
    this.#table(collection).set(sourcedId, { ...record, ...changes, dateLastModified: at ?? new Date(this.#now()).toISOString() });
  }

  get(collection: Collection, sourcedId: string): OneRosterObject | undefined {
    return this.#table(collection).get(sourcedId);
  }

  all(collection: Collection): readonly OneRosterObject[] {
    return [...this.#table(collection).values()];
  }

  /** Every issued token stops working (as when the provider rotates keys or tokens expire early). */
  revokeTokens(): void {
    this.#tokens.clear();
  }

  #table(collection: Collection): Map<string, OneRosterObject> {
    let table = this.#data.get(collection);
    if (table === undefined) {
      table = new Map();
      this.#data.set(collection, table);
    }
    return table;
  }

  protected override exempt(path: string): boolean {
    return path === '/oauth/token';
  }

  protected errorBody(_status: number, code: string, message: string): unknown {
    return {
      imsx_codeMajor: 'failure',
      imsx_severity: 'error',
      imsx_description: message,
      imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: code }] },
    };
  }

  #error(status: number, code: string, message: string): Reply {
    return { status, body: this.errorBody(status, code, message) };
  }

  protected handle(request: IncomingLmsRequest): Reply {
    const path = request.url.pathname;
    if (path === '/oauth/token') return this.#token(request);
    const version = this.#options.version ?? '1.2';
    const match = version === '1.2' ? /^\/ims\/oneroster\/(rostering|gradebook)\/v1p2\/(.+)$/.exec(path) : /^\/ims\/oneroster\/v1p1\/(.+)$/.exec(path);
    if (match === null) return this.#error(404, 'unknownobject', `No OneRoster ${version} endpoint at ${path}.`);
    const service = version === '1.2' ? match[1] : undefined;
    const rest = (version === '1.2' ? match[2] : match[1]) ?? '';
    if (request.method !== 'GET') return this.#error(405, 'unsupported', 'This provider only reads.');
    const segments = rest.split('/').map(decodeURIComponent);
    const route = this.#route(segments, service);
    if (route === undefined) return this.#error(404, 'unknownobject', `No OneRoster ${version} endpoint at ${path}.`);
    const denied = this.#authorize(request, route.gradebook);
    if (denied !== undefined) return denied;
    if (route.single !== undefined) {
      const record = this.#table(route.collection).get(route.single);
      if (record === undefined) return this.#error(404, 'unknownobject', `Unknown Object: no ${SINGULAR[route.collection]} ${route.single}.`);
      return { status: 200, body: { [SINGULAR[route.collection]]: record } };
    }
    return this.#list(request.url, route.collection, route.scope);
  }

  #route(segments: readonly string[], service: string | undefined): { collection: Collection; single?: string; scope?: (r: OneRosterObject) => boolean; gradebook: boolean } | undefined {
    const [first, second, third, fourth, fifth] = segments;
    const inService = (c: Collection): boolean => service === undefined || (service === 'rostering' ? ROSTERING.includes(c) : GRADEBOOK.includes(c));
    const direct = (r: OneRosterObject, field: string): unknown => (r[field] as { sourcedId?: unknown } | undefined)?.sourcedId;
    // A result's class is optional: its line item's class stands in.
    const ref = (r: OneRosterObject, field: string): unknown => direct(r, field) ?? (field === 'class' ? direct(this.#table('lineItems').get(String(direct(r, 'lineItem'))) ?? {}, 'class') : undefined);
    if (first === undefined) return undefined;
    const collection = first as Collection;
    if (segments.length <= 2 && collection in SINGULAR && inService(collection)) {
      return { collection, ...(second !== undefined ? { single: second } : {}), gradebook: GRADEBOOK.includes(collection) };
    }
    if (first === 'classes' && second !== undefined && (service === undefined || service === 'gradebook')) {
      if (third === 'lineItems' && segments.length === 3) return { collection: 'lineItems', scope: (r) => ref(r, 'class') === second, gradebook: true };
      if (third === 'results' && segments.length === 3) return { collection: 'results', scope: (r) => ref(r, 'class') === second, gradebook: true };
      if (third === 'students' && fourth !== undefined && fifth === 'results' && segments.length === 5) {
        return { collection: 'results', scope: (r) => ref(r, 'class') === second && ref(r, 'student') === fourth, gradebook: true };
      }
    }
    return undefined;
  }

  #authorize(request: IncomingLmsRequest, gradebook: boolean): Reply | undefined {
    const header = request.header('authorization');
    const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const token = bearer === undefined ? undefined : this.#tokens.get(bearer);
    if (token === undefined || token.expiresAtMs <= this.#now()) {
      if (token !== undefined && bearer !== undefined) this.#tokens.delete(bearer);
      return { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' }, body: this.errorBody(401, 'unauthorisedrequest', token === undefined ? 'A valid bearer token is required.' : 'The access token has expired.') };
    }
    if ((this.#options.version ?? '1.2') === '1.2' && this.#options.checkScopes !== false) {
      const needed = gradebook ? GRADEBOOK_SCOPES : ROSTER_SCOPES;
      if (!needed.some((s) => token.scopes.includes(s))) return this.#error(403, 'forbidden', `The token's scopes do not include ${needed.join(' or ')}.`);
    }
    return undefined;
  }

  #token(request: IncomingLmsRequest): Reply {
    const oauthError = (status: number, error: string, description: string): Reply => ({ status, headers: { 'Cache-Control': 'no-store' }, body: { error, error_description: description } });
    if (request.method !== 'POST') return oauthError(405, 'invalid_request', 'Use POST.');
    if (!/^application\/x-www-form-urlencoded\b/i.test(request.header('content-type') ?? '')) return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const form = new URLSearchParams(request.body);
    const basic = readBasic(request.header('authorization'));
    const id = basic !== undefined ? decodeURIComponent(basic[0]) : form.get('client_id');
    const secret = basic !== undefined ? decodeURIComponent(basic[1]) : form.get('client_secret');
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
    if (id !== this.#options.clientId || secret !== this.#options.clientSecret) {
      return { ...oauthError(401, 'invalid_client', 'Client authentication failed.'), headers: { 'WWW-Authenticate': 'Basic realm="oneroster"', 'Cache-Control': 'no-store' } };
    }
    const requested = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
    const known = [...ROSTER_SCOPES, ...GRADEBOOK_SCOPES, `${SCOPE}roster-demographics.readonly`];
    const unknown = requested.filter((s) => !known.includes(s));
    if (unknown.length > 0) return oauthError(400, 'invalid_scope', `Unknown scope ${unknown.join(' ')}.`);
    const lifetime = this.#options.tokenLifetimeSeconds ?? 3600;
    const value = randomBytes(24).toString('base64url');
    this.#tokens.set(value, { expiresAtMs: this.#now() + lifetime * 1000, scopes: requested });
    this.#issued += 1;
    return { status: 200, headers: { 'Cache-Control': 'no-store' }, body: { access_token: value, token_type: 'bearer', expires_in: lifetime, scope: requested.join(' ') } };
  }

  #list(url: URL, collection: Collection, scope: ((r: OneRosterObject) => boolean) | undefined): Reply {
    const query = url.searchParams;
    const limitParam = query.get('limit') ?? '100';
    const offsetParam = query.get('offset') ?? '0';
    if (!/^\d+$/.test(limitParam) || Number(limitParam) < 1) return this.#error(400, 'invalid_selection_field', 'limit must be a positive integer.');
    if (!/^\d+$/.test(offsetParam)) return this.#error(400, 'invalid_selection_field', 'offset must be a non-negative integer.');
    const limit = Math.min(Number(limitParam), this.#options.maxLimit ?? 100);
    const offset = Number(offsetParam);
    let records = [...this.#table(collection).values()];
    if (scope !== undefined) records = records.filter(scope);
    const filter = query.get('filter');
    if (filter !== null && this.#options.brokenFilter === 'reject') return this.#error(400, 'invalid_filter_field', `Filtering is not supported (${filter}).`);
    if (filter !== null && this.#options.brokenFilter !== 'ignore') {
      const predicate = parseFilter(filter);
      if (typeof predicate === 'string') return this.#error(400, 'invalid_filter_field', predicate);
      records = records.filter(predicate);
    }
    const sort = query.get('sort');
    if (sort !== null && this.#options.ignoreSort !== true) {
      const direction = query.get('orderBy') === 'desc' ? -1 : 1;
      records = records
        .map((r, i) => ({ r, i, key: String(valueAt(r, sort) ?? '') }))
        .sort((a, b) => (a.key < b.key ? -direction : a.key > b.key ? direction : a.i - b.i))
        .map((x) => x.r);
    }
    const total = records.length;
    const page = records.slice(offset, offset + limit);
    const headers: Record<string, string> = { 'X-Total-Count': String(total) };
    if (this.#options.links !== false) {
      const at = (o: number): string => {
        const copy = new URL(`${this.#options.linkOrigin ?? url.origin}${url.pathname}${url.search}`);
        copy.searchParams.set('limit', String(limit));
        copy.searchParams.set('offset', String(o));
        return copy.href;
      };
      const links = [`<${at(0)}>; rel="first"`, `<${at(Math.max(0, Math.floor(Math.max(0, total - 1) / limit) * limit))}>; rel="last"`];
      if (offset + limit < total) links.push(`<${at(offset + limit)}>; rel="next"`);
      if (offset > 0) links.push(`<${at(Math.max(0, offset - limit))}>; rel="prev"`);
      headers['Link'] = links.join(', ');
    }
    return { status: 200, headers, body: { [collection]: page } };
  }
}

function valueAt(record: OneRosterObject, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** OneRoster filter: `field op 'value'`, optionally `AND`/`OR` one more (not mixed). */
export function parseFilter(filter: string): ((r: OneRosterObject) => boolean) | string {
  const predicate = /^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'((?:[^']|'')*)'\s*/;
  const parts: ((r: OneRosterObject) => boolean)[] = [];
  let rest = filter;
  let joiner: 'AND' | 'OR' | undefined;
  for (let i = 0; i < 2; i += 1) {
    const match = predicate.exec(rest);
    if (match === null) return `The filter "${filter}" is not field<op>'value'.`;
    const [whole, field = '', op = '', rawValue = ''] = match;
    const value = rawValue.replace(/''/g, "'");
    parts.push((r) => {
      const actual = valueAt(r, field);
      const text = actual === undefined || actual === null ? '' : typeof actual === 'string' ? actual : JSON.stringify(actual);
      switch (op) {
        case '=':
          return text === value;
        case '!=':
          return text !== value;
        case '>':
          return text > value;
        case '>=':
          return text >= value;
        case '<':
          return text < value;
        case '<=':
          return text <= value;
        default:
          return text.toLowerCase().includes(value.toLowerCase());
      }
    });
    rest = rest.slice(whole.length);
    if (rest.trim() === '') break;
    const join = /^(AND|OR)\s+/.exec(rest);
    if (join === null || i === 1) return `The filter "${filter}" allows at most two predicates joined by AND or OR.`;
    joiner = join[1] as 'AND' | 'OR';
    rest = rest.slice(join[0].length);
  }
  if (rest.trim() !== '') return `The filter "${filter}" allows at most two predicates joined by AND or OR.`;
  return joiner === 'OR' ? (r) => parts.some((p) => p(r)) : (r) => parts.every((p) => p(r));
}
