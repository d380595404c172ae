/**
 * GraphStandIn: the HTTP transport of the stand-in. It answers on 127.0.0.1 under /v1.0 and /beta
 * (same behaviour), checks the bearer token, applies the token bucket and the injected faults per
 * request (and per $batch sub-request), delays responses by `latencyMs`, writes Graph's error
 * shape with request-id / client-request-id, and keeps a request log and counters.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan, TokenBucket } from './faults.js';
import { stableContentId } from './odata.js';
import { MESSAGES, graphError, json, methodNotAllowed, retryAfterMinutesMessage, type Reply } from './replies.js';
import { Routes, type RequestBody, type RouteRequest } from './routes.js';
import { StandInStore } from './store.js';
import type {
  ActivityRecord,
  ContentRecord,
  FaultKind,
  FaultOptions,
  GraphStandInOptions,
  JsonObject,
  ProviderRecord,
  RateLimitOptions,
  RecordedRequest,
  StandInContent,
  StandInProvider,
  StandInState,
  StandInStats,
  StandInUser,
} from './types.js';
import { isJsonObject, isReply, validateContent } from './validate.js';

const VERSIONS = new Set(['v1.0', 'beta']);
/** Graph's request size limit (4 MB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** JSON batching: "JSON batch requests are currently limited to 20 individual requests". */
const MAX_BATCH = 20;
const BATCH_METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const PLACEHOLDER_LOGO = 'https://example.invalid/viva-learning-sync/logo.png';

/** What one (sub-)request came to. */
type Outcome = { reply: Reply } | { drop: 'reset' | 'hang' };

interface Ids {
  requestId: string;
  clientRequestId: string;
}

interface DispatchInput {
  method: string;
  version: string;
  /** After the version segment, starting with '/'. */
  rawPath: string;
  query: URLSearchParams;
  header: (name: string) => string | undefined;
  body: RequestBody;
  batched: boolean;
}

function innerErrorDate(): string {
  return new Date().toISOString().slice(0, 19);
}

function errorBody(reply: Extract<Reply, { kind: 'error' }>, ids: Ids): object {
  return {
    error: {
      code: reply.code,
      message: reply.message,
      innerError: { date: innerErrorDate(), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^\s*application\/json\b/i.test(value);
}

function parseBody(raw: Buffer, contentType: string | undefined): RequestBody {
  if (raw.length === 0) return { kind: 'none' };
  if (!isJsonContentType(contentType)) return { kind: 'invalid' };
  try {
    return { kind: 'json', value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class GraphStandIn {
  private readonly store = new StandInStore();
  private readonly routes = new Routes(this.store);
  private token: string;
  private latencyMs: number;
  private bucket: TokenBucket | undefined;
  private faults: FaultPlan;
  private server: Server | undefined;
  private boundPort = 0;
  private log: RecordedRequest[] = [];
  private counters: StandInStats = { total: 0, byStatus: {}, throttled: 0, writes: 0 };

  constructor(options: GraphStandInOptions = {}) {
    this.token = options.token ?? 'sandbox-token';
    this.latencyMs = Math.max(0, options.latencyMs ?? 0);
    this.bucket = options.rateLimit ? new TokenBucket(options.rateLimit, performance.now()) : undefined;
    this.faults = new FaultPlan(options.faults);
    for (const p of options.providers ?? []) this.addProvider(p);
    for (const u of options.users ?? []) this.addUser(u);
    this.store.provisionUser = options.provisionUser;
    this.routes.refuseProviderRegistration = options.refuseProviderRegistration === true;
    this.routes.validateBodies = options.validateBodies !== false;
  }

  // ===========================================================================================
  // lifecycle
  // ===========================================================================================

  /** Listens on 127.0.0.1 (port 0 = a free port) and resolves the base URL, e.g. "http://127.0.0.1:43121". */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error('GraphStandIn is already started');
    const server = createServer((req, res) => {
      void this.onRequest(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    return this.url;
  }

  /**
   * Closes the server and destroys every open socket (hung requests included). The state (providers,
   * contents, activities, users, log) is kept, so start(samePort) simulates a service restart.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The base URL (without version), e.g. "http://127.0.0.1:43121". Throws before the first start(). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The bound port (kept after stop() so start(port) can reuse it). Throws before the first start(). */
  get port(): number {
    if (this.boundPort === 0) throw new Error('GraphStandIn has not been started');
    return this.boundPort;
  }

  // ===========================================================================================
  // seeding and inspection
  // ===========================================================================================

  /** Adds (or replaces, by id) a tenant user. */
  addUser(user: StandInUser): void {
    this.store.putUser(user);
  }

  /** Adds (or replaces, by id) a learningProvider registration. */
  addProvider(provider: StandInProvider): void {
    this.store.putProvider({
      id: provider.id,
      displayName: provider.displayName,
      squareLogoWebUrlForDarkTheme: provider.squareLogoWebUrlForDarkTheme ?? PLACEHOLDER_LOGO,
      longLogoWebUrlForDarkTheme: provider.longLogoWebUrlForDarkTheme ?? PLACEHOLDER_LOGO,
      squareLogoWebUrlForLightTheme: provider.squareLogoWebUrlForLightTheme ?? PLACEHOLDER_LOGO,
      longLogoWebUrlForLightTheme: provider.longLogoWebUrlForLightTheme ?? PLACEHOLDER_LOGO,
      loginWebUrl: provider.loginWebUrl ?? null,
      isCourseActivitySyncEnabled: provider.isCourseActivitySyncEnabled,
    });
  }

  /**
   * Stand-in extension: seeds a learningContent under a registered provider (validated like the
   * upsert), e.g. with the Viva id a documented example refers to. Returns the stored record.
   */
  addContent(providerId: string, content: StandInContent): ContentRecord {
    const provider = this.store.provider(providerId);
    if (!provider) throw new Error(`addContent: provider ${providerId} is not registered`);
    const existing = this.store.contentByExternalId(provider.id, content.externalId);
    const id = content.id ?? existing?.id ?? stableContentId(provider.id, content.externalId);
    const body = { ...content } as unknown as JsonObject;
    const record = validateContent(body, content.externalId, id);
    if (isReply(record)) throw new Error(`addContent: ${record.kind === 'error' ? record.message : 'invalid content'}`);
    if (existing && existing.id.toLowerCase() !== id.toLowerCase()) this.store.deleteContent(existing.id);
    this.store.putContent(provider.id, record);
    return structuredClone(record);
  }

  /** Patches the transport options. Setting `faults` restarts its PRNG (from its seed) and its index. */
  setOptions(patch: Partial<Pick<GraphStandInOptions, 'latencyMs' | 'rateLimit' | 'faults' | 'token'>>): void {
    if (patch.token !== undefined) this.token = patch.token;
    if (patch.latencyMs !== undefined) this.latencyMs = Math.max(0, patch.latencyMs);
    if ('rateLimit' in patch) {
      const rl: RateLimitOptions | undefined = patch.rateLimit;
      this.bucket = rl ? new TokenBucket(rl, performance.now()) : undefined;
    }
    if ('faults' in patch) {
      const f: FaultOptions | undefined = patch.faults;
      this.faults = new FaultPlan(f);
    }
  }

  /** Every stored learningCourseActivity (Graph JSON without @odata.context), in creation order. */
  activities(providerId?: string): ActivityRecord[] {
    return structuredClone(this.store.activitiesOf(providerId));
  }

  /** Every stored learningContent (Graph JSON without @odata.context). */
  contents(providerId?: string): ContentRecord[] {
    return structuredClone(this.store.contentsOf(providerId));
  }

  /** Stand-in extension: every registered learningProvider. */
  providers(): ProviderRecord[] {
    return structuredClone(this.store.allProviders());
  }

  /** Stand-in extension: a JSON-serializable snapshot of providers, contents, activities and users. */
  exportState(): StandInState {
    return structuredClone({
      version: 1 as const,
      providers: this.store.allProviders(),
      contents: this.store.allProviders().flatMap((p) => this.store.contentsOf(p.id).map((content) => ({ providerId: p.id, content }))),
      activities: this.store.activitiesOf(),
      users: this.store.allUsers(),
    });
  }

  /**
   * Stand-in extension: loads a snapshot from exportState(). Records are added, or replace the
   * ones with the same id; nothing else is removed.
   */
  importState(state: StandInState): void {
    if (state.version !== 1) throw new Error(`importState: unsupported snapshot version ${String(state.version)}`);
    for (const p of state.providers) this.store.putProvider(structuredClone(p));
    for (const u of state.users) this.store.putUser(u);
    for (const { providerId, content } of state.contents) this.store.putContent(providerId, structuredClone(content));
    for (const a of state.activities) {
      if (this.store.activity(a.id)) this.store.deleteActivity(a.id);
      this.store.putActivity(a.learningProviderId, structuredClone(a));
    }
  }

  /** The log of every request answered (429s, faults and $batch sub-requests included). */
  requests(): RecordedRequest[] {
    return this.log.slice();
  }

  stats(): StandInStats {
    return { ...this.counters, byStatus: { ...this.counters.byStatus } };
  }

  /** Clears the request log and the counters (not the state, not the fault sequence). */
  resetStats(): void {
    this.log = [];
    this.counters = { total: 0, byStatus: {}, throttled: 0, writes: 0 };
  }

  // ===========================================================================================
  // transport
  // ===========================================================================================

  private record(method: string, path: string, status: number, batched: boolean, envelope = false): void {
    this.log.push({ method, path, status, at: Date.now(), batched });
    const c = this.counters;
    c.total += 1;
    c.byStatus[status] = (c.byStatus[status] ?? 0) + 1;
    if (status === 429) c.throttled += 1;
    if (!envelope && status >= 200 && status < 300 && WRITE_METHODS.has(method)) c.writes += 1;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const fullPath = q >= 0 ? target.slice(0, q) : target;
    const query = new URLSearchParams(q >= 0 ? target.slice(q + 1) : '');
    const headerValue = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const ids: Ids = { requestId: randomUUID(), clientRequestId: headerValue('client-request-id') ?? randomUUID() };

    let raw: Buffer;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      }
      if (size > MAX_BODY_BYTES) {
        this.record(method, fullPath, 413, false);
        await this.send(res, graphError(413, 'RequestEntityTooLarge', 'The request body is larger than 4 MB.'), ids);
        return;
      }
      raw = Buffer.concat(chunks);
    } catch {
      return; // the client went away while sending
    }

    const finish = async (outcome: Outcome, envelope = false): Promise<void> => {
      if ('drop' in outcome) {
        if (outcome.drop === 'hang') return; // answered never; stop() destroys the socket
        this.record(method, fullPath, 0, false, envelope);
        if (this.latencyMs > 0) await sleep(this.latencyMs);
        req.socket.destroy();
        return;
      }
      this.record(method, fullPath, outcome.reply.status, false, envelope);
      await this.send(res, outcome.reply, ids);
    };

    // Authentication comes first, whatever the path (Graph's gateway).
    const authError = this.authenticate(headerValue('authorization'));
    if (authError) return finish({ reply: authError });

    const slash = fullPath.indexOf('/', 1);
    const versionRaw = slash >= 0 ? fullPath.slice(1, slash) : fullPath.slice(1);
    const rawPath = slash >= 0 ? fullPath.slice(slash) : '/';
    let version = versionRaw;
    try {
      version = decodeURIComponent(versionRaw);
    } catch {
      /* reported below as an invalid version */
    }
    if (!VERSIONS.has(version)) {
      return finish({ reply: graphError(400, 'BadRequest', `Invalid version: ${version}`) });
    }

    const body = parseBody(raw, headerValue('content-type'));
    if (/^\/\$batch\/?$/i.test(rawPath)) {
      if (method !== 'POST') return finish({ reply: methodNotAllowed(['POST']) }, true);
      return finish(this.batch(version, fullPath, body, ids), true);
    }
    return finish(
      this.dispatch({ method, version, rawPath, query, header: headerValue, body, batched: false }),
    );
  }

  private authenticate(authorization: string | undefined): Reply | undefined {
    const challenge = {
      'WWW-Authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    };
    const m = authorization === undefined ? null : /^\s*bearer\s+(.*?)\s*$/i.exec(authorization);
    const presented = m?.[1] ?? '';
    if (presented.length === 0) return graphError(401, 'InvalidAuthenticationToken', MESSAGES.tokenEmpty, challenge);
    if (presented !== this.token) return graphError(401, 'InvalidAuthenticationToken', MESSAGES.tokenInvalid, challenge);
    return undefined;
  }

  /** 429 or 503 with the wait stated as `retryAfterStyle` says. */
  private retryReply(status: 429 | 503, seconds: number): Reply {
    const style = this.faults.retryAfterStyle;
    const inHeader = style === 'header' || style === 'both';
    const inBody = style === 'body-minutes' || style === 'both';
    const code = status === 429 ? 'tooManyRequests' : 'serviceUnavailable';
    const generic = status === 429 ? MESSAGES.throttledGeneric : MESSAGES.unavailableGeneric;
    const message = inBody ? retryAfterMinutesMessage(seconds) : generic;
    return graphError(status, code, message, inHeader ? { 'Retry-After': String(seconds) } : undefined);
  }

  private faultReply(kind: Exclude<FaultKind, 'reset' | 'hang' | 'lostResponse'>): Reply {
    switch (kind) {
      case 'throttle':
        return this.retryReply(429, this.faults.retryAfterSeconds);
      case 'unavailable':
        return this.retryReply(503, this.faults.retryAfterSeconds);
      case 'serverError':
        return graphError(500, 'internalServerError', MESSAGES.internalServerError);
    }
  }

  /** One request through the token bucket, the faults and the routes. Throttled or failed requests change nothing. */
  private dispatch(input: DispatchInput): Outcome {
    if (this.bucket) {
      const wait = this.bucket.take(performance.now());
      if (wait > 0) return { reply: this.retryReply(429, wait) };
    }
    const path = `/${input.version}${input.rawPath}`;
    const fault = this.faults.next(
      { method: input.method, path, body: input.body.kind === 'json' ? input.body.value : undefined, batched: input.batched },
      true,
    );
    if (fault === 'reset' || fault === 'hang') return { drop: fault };
    if (fault !== undefined && fault !== 'lostResponse') return { reply: this.faultReply(fault) };
    const routeRequest: RouteRequest = {
      method: input.method,
      rawPath: input.rawPath,
      query: input.query,
      header: input.header,
      body: input.body,
      serviceRoot: `${this.url}/${input.version}`,
    };
    const reply = this.routes.handle(routeRequest);
    return fault === 'lostResponse' ? { drop: 'reset' } : { reply };
  }

  // ===========================================================================================
  // $batch
  // ===========================================================================================

  /**
   * JSON batching (learn: graph/json-batching): up to 20 requests `{id, method, url, headers?, body?,
   * dependsOn?}` with relative urls without the version; each is dispatched like a top-level request
   * (auth is the envelope's) and answered in `{responses:[{id, status, headers, body}]}` with 200.
   * Requests run in the order given; one whose dependency did not succeed is answered 424.
   */
  private batch(version: string, envelopePath: string, body: RequestBody, ids: Ids): Outcome {
    const bad = (message: string): Outcome => ({ reply: graphError(400, 'BadRequest', message) });
    if (body.kind !== 'json' || !isJsonObject(body.value)) return { reply: graphError(400, 'BadRequest', MESSAGES.invalidJson) };
    const requests = body.value.requests;
    if (!Array.isArray(requests) || requests.length === 0) return bad('Invalid batch payload format.');
    if (requests.length > MAX_BATCH) {
      return bad(`The batch contains ${requests.length} requests; JSON batch requests are limited to ${MAX_BATCH}.`);
    }

    interface Item {
      id: string;
      method: string;
      url: string;
      headers: Record<string, string>;
      body: unknown;
      dependsOn: string[];
    }
    const items: Item[] = [];
    const seen = new Set<string>();
    for (const r of requests) {
      if (!isJsonObject(r)) return bad('Invalid batch payload format.');
      const { id, method, url } = r;
      if (typeof id !== 'string' || id.length === 0) return bad('Invalid batch payload format: every request needs a string id.');
      if (seen.has(id)) return bad(`Request id '${id}' is used more than once in the batch.`);
      if (typeof method !== 'string' || !BATCH_METHODS.has(method.toUpperCase())) {
        return bad(`Invalid batch payload format: request '${id}' has an invalid method.`);
      }
      if (typeof url !== 'string' || url.length === 0) return bad(`Invalid batch payload format: request '${id}' has no url.`);
      const headers: Record<string, string> = {};
      if (r.headers !== undefined && r.headers !== null) {
        if (!isJsonObject(r.headers)) return bad(`Invalid batch payload format: request '${id}' has invalid headers.`);
        for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
      }
      const dependsOn: string[] = [];
      if (r.dependsOn !== undefined && r.dependsOn !== null) {
        if (!Array.isArray(r.dependsOn)) return bad(`Invalid batch payload format: request '${id}' has an invalid dependsOn.`);
        for (const d of r.dependsOn) {
          if (typeof d !== 'string' || !seen.has(d)) return bad(`Request '${id}' depends on '${String(d)}', which is not an earlier request of the batch.`);
          dependsOn.push(d);
        }
      }
      const upper = method.toUpperCase();
      if ((upper === 'POST' || upper === 'PATCH' || upper === 'PUT') && (r.body === undefined || headers['content-type'] === undefined)) {
        // Graph's wording for a write without Content-Type or body.
        return bad(`Write request id : ${id} does not contain Content-Type header or body.`);
      }
      seen.add(id);
      items.push({ id, method: upper, url, headers, body: r.body, dependsOn });
    }

    // The envelope itself only meets `decide` (random faults are drawn for its sub-requests).
    const envelopeFault = this.faults.next({ method: 'POST', path: envelopePath, body: body.value, batched: false }, false);
    if (envelopeFault === 'reset' || envelopeFault === 'hang' || envelopeFault === 'lostResponse') {
      return { drop: envelopeFault === 'hang' ? 'hang' : 'reset' };
    }
    if (envelopeFault !== undefined) return { reply: this.faultReply(envelopeFault) };

    const statusById = new Map<string, number>();
    const responses: object[] = [];
    for (const item of items) {
      const subIds: Ids = { requestId: randomUUID(), clientRequestId: item.headers['client-request-id'] ?? ids.clientRequestId };
      const q = item.url.indexOf('?');
      let rawPath = q >= 0 ? item.url.slice(0, q) : item.url;
      const query = new URLSearchParams(q >= 0 ? item.url.slice(q + 1) : '');
      if (!rawPath.startsWith('/')) rawPath = `/${rawPath}`;
      const recordPath = `/${version}${rawPath}`;

      let outcome: Outcome;
      if (item.dependsOn.some((d) => {
        const s = statusById.get(d) ?? 0;
        return s < 200 || s >= 300;
      })) {
        // [stand-in] wording of the 424 of a request whose dependency failed.
        outcome = { reply: graphError(424, 'FailedDependency', 'A request this request depends on failed.') };
      } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item.url)) {
        // [stand-in] wording: batch urls are relative to the version root.
        outcome = { reply: graphError(400, 'BadRequest', 'The url of a batched request must be relative, e.g. "/users/{id}".') };
      } else {
        let subBody: RequestBody = { kind: 'none' };
        if (item.body !== undefined && item.body !== null) {
          subBody = isJsonContentType(item.headers['content-type']) ? { kind: 'json', value: item.body } : { kind: 'invalid' };
        }
        outcome = this.dispatch({
          method: item.method,
          version,
          rawPath,
          query,
          header: (name) => item.headers[name],
          body: subBody,
          batched: true,
        });
      }
      if ('drop' in outcome) {
        // A dropped sub-request takes the whole envelope with it.
        if (outcome.drop === 'reset') this.record(item.method, recordPath, 0, true);
        return outcome;
      }
      const reply = outcome.reply;
      this.record(item.method, recordPath, reply.status, true);
      statusById.set(item.id, reply.status);
      const headers: Record<string, string> = { ...(reply.headers ?? {}) };
      const entry: Record<string, unknown> = { id: item.id, status: reply.status, headers };
      if (reply.kind === 'json') {
        headers['Content-Type'] ??= 'application/json';
        entry.body = reply.body;
      } else if (reply.kind === 'error') {
        headers['Content-Type'] = 'application/json';
        entry.body = errorBody(reply, subIds);
      }
      responses.push(entry);
    }
    return { reply: json(200, { responses }, { 'Content-Type': 'application/json; charset=utf-8' }) };
  }

  // ===========================================================================================
  // writing
  // ===========================================================================================

  private async send(res: ServerResponse, reply: Reply, ids: Ids): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = {
      'request-id': ids.requestId,
      'client-request-id': ids.clientRequestId,
      ...(reply.headers ?? {}),
    };
    let payload: string | undefined;
    if (reply.kind === 'error') {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(errorBody(reply, ids));
    } else if (reply.kind === 'json') {
      headers['Content-Type'] ??= 'application/json';
      payload = JSON.stringify(reply.body);
    }
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    try {
      res.writeHead(reply.status, headers);
      res.end(payload);
    } catch {
      /* the socket closed under us */
    }
  }
}
