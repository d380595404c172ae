/**
 * A local xAPI Learning Record Store that follows the published API (adlnet/xAPI-Spec
 * xAPI-Communication.md §2.1 Statement Resource, §3.3 Versioning, §4 Authentication;
 * xAPI-Data.md §2.3.2 Voiding, §2.5 StatementResult), for tests and local runs:
 * - HTTP Basic with one key/secret (401 with WWW-Authenticate otherwise);
 * - `X-Experience-API-Version` required on every statements request (400 without it, or
 *   with a version other than 1.0.x / 2.0.x), and returned on every answer; `GET /about`;
 * - `GET /statements` with statementId, voidedStatementId, agent, verb, activity,
 *   registration, related_activities, related_agents, since (exclusive), until (inclusive),
 *   limit (0 = the server maximum), ascending; a StatementResult whose `more` is a relative
 *   IRL; `X-Experience-API-Consistent-Through` on every answer;
 * - `POST`/`PUT /statements` store statements (id, stored, timestamp, authority, version set
 *   as an LRS sets them); a voiding statement hides its target from queries;
 * - faults and a rate limit from LmsStandInServer (429/503 with Retry-After, a malformed page).
 * Late commits are simulated with `visibleThrough`: statements stored after it stay hidden
 * and Consistent-Through says so.
 */
import { randomUUID } from 'node:crypto';
import { LmsStandInServer, readBasic, type IncomingLmsRequest, type Reply } from './standInHttp.js';

export type XapiStatement = Record<string, unknown>;

export interface XapiStandInOptions {
  readonly username: string;
  readonly password: string;
  /** What GET /about lists; default ['1.0.3', '2.0.0']. */
  readonly versions?: readonly string[];
  /** The most statements one page returns; default 100. */
  readonly maxLimit?: number;
  /** The LRS clock; default Date.now. */
  readonly now?: () => number;
  /** Make `more` an absolute URL on this origin (a misconfigured or hostile LRS). */
  readonly linkOrigin?: string;
}

interface Stored {
  readonly seq: number;
  readonly statement: XapiStatement;
  readonly stored: string;
  voided: boolean;
}

const VOIDED = 'http://adlnet.gov/expapi/verbs/voided';
const AUTHORITY = { objectType: 'Agent', name: 'xAPI stand-in', account: { homePage: 'http://127.0.0.1/', name: 'stand-in' } };

export class XapiStandIn extends LmsStandInServer {
  readonly #options: XapiStandInOptions;
  readonly #statements: Stored[] = [];
  readonly #byId = new Map<string, Stored>();
  #seq = 0;
  #lastStoredMs = 0;
  /** Statements stored after this instant are not visible yet (a commit in flight); undefined: all are. */
  visibleThrough: string | undefined;

  constructor(options: XapiStandInOptions) {
    super();
    this.#options = options;
  }

  /** Starts the LRS; returns its endpoint, the LMS_BASE_URL ("http://127.0.0.1:PORT/xapi/"). */
  async start(port = 0): Promise<string> {
    return `${await this.listen(port)}/xapi/`;
  }

  get endpoint(): string {
    return `${this.origin}/xapi/`;
  }

  /**
   * Stores statements as a Learning Record Provider would send them, and returns their ids.
   * `stored` defaults to the LRS clock (1 ms apart, so the order is the call order); give it
   * to store a late arrival or several statements at one instant.
   */
  store(statements: readonly XapiStatement[], options: { stored?: string } = {}): string[] {
    return statements.map((input) => {
      const problem = checkStatement(input);
      if (problem !== undefined) throw new Error(`not a statement: ${problem}`);
      const id = typeof input['id'] === 'string' ? input['id'] : randomUUID();
      if (this.#byId.has(id)) throw new Error(`statement ${id} exists already`);
      const stored = options.stored !== undefined ? new Date(options.stored).toISOString() : this.#nextStored();
      const statement: XapiStatement = { ...input, id, stored, timestamp: input['timestamp'] ?? stored, authority: input['authority'] ?? AUTHORITY, version: input['version'] ?? '1.0.0' };
      const entry: Stored = { seq: (this.#seq += 1), statement, stored, voided: false };
      this.#statements.push(entry);
      this.#statements.sort((a, b) => (a.stored < b.stored ? -1 : a.stored > b.stored ? 1 : a.seq - b.seq));
      this.#byId.set(id, entry);
      const verb = (statement['verb'] as { id?: unknown }).id;
      const object = statement['object'] as { objectType?: unknown; id?: unknown };
      if (verb === VOIDED && object.objectType === 'StatementRef' && typeof object.id === 'string') {
        const target = this.#byId.get(object.id);
        // A voiding statement cannot itself be voided (xAPI-Data.md §2.3.2).
        if (target !== undefined && (target.statement['verb'] as { id?: unknown }).id !== VOIDED) target.voided = true;
      }
      return id;
    });
  }

  /** Voids a statement as an administrator would (stores a voiding statement); returns the voiding statement's id. */
  void(statementId: string, options: { stored?: string } = {}): string {
    const [id] = this.store([{ actor: { objectType: 'Agent', name: 'LRS admin', mbox: 'mailto:lrs-admin@example.invalid' }, verb: { id: VOIDED, display: { 'en-US': 'voided' } }, object: { objectType: 'StatementRef', id: statementId } }], options);
    return id ?? '';
  }

  statements(): readonly XapiStatement[] {
    return this.#statements.map((s) => s.statement);
  }

  #nextStored(): string {
    const now = (this.#options.now ?? Date.now)();
    this.#lastStoredMs = Math.max(now, this.#lastStoredMs + 1);
    return new Date(this.#lastStoredMs).toISOString();
  }

  protected errorBody(_status: number, code: string, message: string): unknown {
    return { error: code, message };
  }

  protected handle(request: IncomingLmsRequest): Reply {
    const path = request.url.pathname;
    if (path === '/xapi/about') {
      if (request.method !== 'GET') return this.#error(405, 'method_not_allowed', 'Use GET.');
      return { status: 200, body: { version: this.#options.versions ?? ['1.0.3', '2.0.0'] } };
    }
    if (path !== '/xapi/statements') return this.#error(404, 'not_found', `No resource at ${path}.`);
    const credentials = readBasic(request.header('authorization'));
    if (credentials === undefined || credentials[0] !== this.#options.username || credentials[1] !== this.#options.password) {
      return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="xAPI"' }, body: this.errorBody(401, 'unauthorized', 'Valid Basic credentials are required.') };
    }
    const version = request.header('x-experience-api-version');
    if (version === undefined) return this.#error(400, 'bad_request', 'The X-Experience-API-Version header is required.');
    if (!/^(1\.0(\.\d+)?|2\.0(\.\d+)?)$/.test(version.trim())) return this.#error(400, 'bad_request', `X-Experience-API-Version ${version} is not supported.`);
    const headers = { 'X-Experience-API-Version': version.startsWith('2') ? '2.0.0' : '1.0.3', 'X-Experience-API-Consistent-Through': this.#consistentThrough() };
    const reply = request.method === 'GET' ? this.#get(request.url.searchParams) : request.method === 'POST' || request.method === 'PUT' ? this.#post(request) : this.#error(405, 'method_not_allowed', 'Use GET, PUT or POST.');
    return { ...reply, headers: { ...headers, ...reply.headers } };
  }

  #consistentThrough(): string {
    return this.visibleThrough ?? new Date((this.#options.now ?? Date.now)()).toISOString();
  }

  #error(status: number, code: string, message: string): Reply {
    return { status, body: this.errorBody(status, code, message) };
  }

  #visible(entry: Stored): boolean {
    return this.visibleThrough === undefined || entry.stored <= this.visibleThrough;
  }

  #post(request: IncomingLmsRequest): Reply {
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return this.#error(400, 'bad_request', 'The body is not JSON.');
    }
    const list = Array.isArray(body) ? body : [body];
    if (request.method === 'PUT') {
      const id = request.url.searchParams.get('statementId');
      if (id === null || list.length !== 1) return this.#error(400, 'bad_request', 'PUT needs statementId and one statement.');
      list[0] = { ...(list[0] as object), id };
    }
    for (const item of list) {
      const problem = typeof item === 'object' && item !== null ? checkStatement(item as XapiStatement) : 'not an object';
      if (problem !== undefined) return this.#error(400, 'bad_request', problem);
      const id = (item as XapiStatement)['id'];
      if (typeof id === 'string' && this.#byId.has(id)) return this.#error(409, 'conflict', `Statement ${id} exists already.`);
    }
    const ids = this.store(list as XapiStatement[]);
    return request.method === 'PUT' ? { status: 204 } : { status: 200, body: ids };
  }

  #get(query: URLSearchParams): Reply {
    const statementId = query.get('statementId');
    const voidedStatementId = query.get('voidedStatementId');
    if (statementId !== null || voidedStatementId !== null) {
      const others = [...query.keys()].filter((k) => !['statementId', 'voidedStatementId', 'format', 'attachments'].includes(k));
      if ((statementId !== null && voidedStatementId !== null) || others.length > 0) return this.#error(400, 'bad_request', 'statementId and voidedStatementId take no other filters.');
      const entry = this.#byId.get(statementId ?? voidedStatementId ?? '');
      if (entry === undefined || !this.#visible(entry) || entry.voided !== (voidedStatementId !== null)) return this.#error(404, 'not_found', 'No such statement.');
      return { status: 200, body: entry.statement };
    }

    let agent: Record<string, unknown> | undefined;
    const agentParam = query.get('agent');
    if (agentParam !== null) {
      try {
        agent = JSON.parse(agentParam) as Record<string, unknown>;
      } catch {
        return this.#error(400, 'bad_request', 'agent is not JSON.');
      }
      if (typeof agent !== 'object' || agent === null || ifiOf(agent) === undefined) return this.#error(400, 'bad_request', 'agent must be an Agent with one inverse functional identifier.');
    }
    const since = query.get('since');
    const until = query.get('until');
    for (const [name, value] of [['since', since], ['until', until]] as const) {
      if (value !== null && Number.isNaN(Date.parse(value))) return this.#error(400, 'bad_request', `${name} is not a timestamp.`);
    }
    const limitParam = query.get('limit') ?? '0';
    if (!/^\d+$/.test(limitParam)) return this.#error(400, 'bad_request', 'limit must be a non-negative integer.');
    const max = this.#options.maxLimit ?? 100;
    const limit = Number(limitParam) === 0 ? max : Math.min(Number(limitParam), max);
    const ascending = query.get('ascending') === 'true';
    const relatedActivities = query.get('related_activities') === 'true';
    const relatedAgents = query.get('related_agents') === 'true';
    const verb = query.get('verb');
    const activity = query.get('activity');
    const registration = query.get('registration');
    const sinceMs = since === null ? undefined : Date.parse(since);
    const untilMs = until === null ? undefined : Date.parse(until);

    // Keyset continuation: the (stored, seq) of the last statement returned.
    const after = decodeMore(query.get('more_after'));
    const ordered = ascending ? this.#statements : [...this.#statements].reverse();
    const matches: Stored[] = [];
    let more = false;
    for (const entry of ordered) {
      if (!this.#visible(entry) || entry.voided) continue;
      const storedMs = Date.parse(entry.stored);
      if (sinceMs !== undefined && storedMs <= sinceMs) continue;
      if (untilMs !== undefined && storedMs > untilMs) continue;
      if (after !== undefined && !isAfter(entry, after, ascending)) continue;
      const s = entry.statement;
      if (verb !== null && (s['verb'] as { id?: unknown }).id !== verb) continue;
      if (registration !== null && (s['context'] as { registration?: unknown } | undefined)?.registration !== registration) continue;
      if (activity !== null && !activitiesOf(s, relatedActivities).includes(activity)) continue;
      if (agent !== undefined && !agentsOf(s, relatedAgents).includes(ifiOf(agent) ?? '')) continue;
      if (matches.length === limit) {
        more = true;
        break;
      }
      matches.push(entry);
    }
    const last = matches[matches.length - 1];
    let moreIrl = '';
    if (more && last !== undefined) {
      const next = new URLSearchParams(query);
      next.set('more_after', Buffer.from(JSON.stringify({ stored: last.stored, seq: last.seq })).toString('base64url'));
      // A relative IRL: path and query, no scheme, host or port (xAPI-Data.md §2.5).
      moreIrl = `${this.#options.linkOrigin ?? ''}/xapi/statements?${next.toString()}`;
    }
    return { status: 200, headers: { 'Last-Modified': new Date().toUTCString() }, body: { statements: matches.map((m) => m.statement), more: moreIrl } };
  }
}

function checkStatement(s: XapiStatement): string | undefined {
  if (typeof s['actor'] !== 'object' || s['actor'] === null) return 'actor is required';
  const verb = s['verb'] as { id?: unknown } | undefined;
  if (typeof verb?.id !== 'string') return 'verb.id is required';
  const object = s['object'] as { id?: unknown } | undefined;
  if (typeof object?.id !== 'string' && typeof object !== 'object') return 'object is required';
  return undefined;
}

/** An Agent's inverse functional identifier as one comparable string. */
function ifiOf(agent: Record<string, unknown>): string | undefined {
  if (typeof agent['mbox'] === 'string') return `mbox|${agent['mbox']}`;
  if (typeof agent['mbox_sha1sum'] === 'string') return `sha1|${agent['mbox_sha1sum']}`;
  if (typeof agent['openid'] === 'string') return `openid|${agent['openid']}`;
  const account = agent['account'] as { homePage?: unknown; name?: unknown } | undefined;
  if (typeof account?.homePage === 'string' && typeof account.name === 'string') return `account|${account.homePage}|${account.name}`;
  return undefined;
}

function agentsOf(s: XapiStatement, related: boolean): string[] {
  const out: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    const ifi = ifiOf(value as Record<string, unknown>);
    if (ifi !== undefined) out.push(ifi);
    const members = (value as { member?: unknown }).member;
    if (related && Array.isArray(members)) members.forEach(add);
  };
  add(s['actor']);
  const object = s['object'] as { objectType?: unknown } | undefined;
  if (object?.objectType === 'Agent' || object?.objectType === 'Group') add(object);
  if (related) {
    const context = s['context'] as { instructor?: unknown; team?: unknown } | undefined;
    add(context?.instructor);
    add(context?.team);
    add(s['authority']);
  }
  return out;
}

function activitiesOf(s: XapiStatement, related: boolean): string[] {
  const out: string[] = [];
  const object = s['object'] as { objectType?: unknown; id?: unknown } | undefined;
  if ((object?.objectType === undefined || object.objectType === 'Activity') && typeof object?.id === 'string') out.push(object.id);
  if (!related) return out;
  const contextActivities = (s['context'] as { contextActivities?: Record<string, unknown> } | undefined)?.contextActivities ?? {};
  for (const kind of ['parent', 'grouping', 'category', 'other']) {
    const list = contextActivities[kind];
    for (const activity of Array.isArray(list) ? list : list !== undefined ? [list] : []) {
      const id = (activity as { id?: unknown }).id;
      if (typeof id === 'string') out.push(id);
    }
  }
  if (object?.objectType === 'SubStatement') out.push(...activitiesOf(object as XapiStatement, true));
  return out;
}

function decodeMore(value: string | null): { stored: string; seq: number } | undefined {
  if (value === null) return undefined;
  try {
    const json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { stored?: unknown; seq?: unknown };
    return typeof json.stored === 'string' && typeof json.seq === 'number' ? { stored: json.stored, seq: json.seq } : undefined;
  } catch {
    return undefined;
  }
}

function isAfter(entry: Stored, after: { stored: string; seq: number }, ascending: boolean): boolean {
  const cmp = entry.stored < after.stored ? -1 : entry.stored > after.stored ? 1 : entry.seq - after.seq;
  return ascending ? cmp > 0 : cmp < 0;
}
