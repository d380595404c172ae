/**
 * Plumbing shared by the LMS stand-ins: a node:http server on 127.0.0.1 (a free port by
 * default), a request log, queued faults (429/503 with Retry-After, 500, a malformed body)
 * and an optional token bucket, so tests can make an LMS behave as its documentation says it
 * may.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedLmsRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Request headers, lower-case names; Authorization shows only its scheme. */
  readonly headers: Readonly<Record<string, string>>;
  readonly status: number;
  readonly at: string;
}

export type LmsFault =
  | { readonly kind: 'throttle'; readonly retryAfterSeconds?: number }
  | { readonly kind: 'unavailable'; readonly retryAfterSeconds?: number }
  | { readonly kind: 'serverError' }
  | { readonly kind: 'malformed' };

export interface RateLimit {
  /** Requests allowed per window… */
  readonly requests: number;
  /** …of this many milliseconds; more get 429 with Retry-After. */
  readonly windowMs: number;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  /** Sent as is (not JSON-encoded) when set. */
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface IncomingLmsRequest {
  readonly method: string;
  readonly url: URL;
  readonly header: (name: string) => string | undefined;
  readonly body: string;
}

export abstract class LmsStandInServer {
  readonly #http = new LocalServer((req, res) => void this.#serve(req, res));
  readonly #log: RecordedLmsRequest[] = [];
  readonly #faults: { match: (path: string) => boolean; fault: LmsFault }[] = [];
  #window: { startedMs: number; count: number } = { startedMs: 0, count: 0 };
  rateLimit: RateLimit | undefined;

  protected abstract handle(request: IncomingLmsRequest): Promise<Reply> | Reply;
  /** The body of an error reply in this LMS's own shape. */
  protected abstract errorBody(status: number, code: string, message: string): unknown;
  /** Requests that faults and the rate limit do not apply to (e.g. the token endpoint). */
  protected exempt(_path: string): boolean {
    return false;
  }

  /** Listens on 127.0.0.1 (port 0: a free one); returns the root URL ("http://127.0.0.1:PORT"). */
  listen(port = 0): Promise<string> {
    return this.#http.start(port);
  }

  get origin(): string {
    const origin = this.#http.origin;
    if (origin === undefined) throw new Error('the stand-in is not started');
    return origin;
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  /** The next `count` matching requests fail this way (requests whose path contains `pathIncludes`, default all). */
  inject(fault: LmsFault, count = 1, pathIncludes?: string): void {
    for (let i = 0; i < count; i += 1) this.#faults.push({ match: (path) => pathIncludes === undefined || path.includes(pathIncludes), fault });
  }

  requests(): readonly RecordedLmsRequest[] {
    return [...this.#log];
  }

  clearRequests(): void {
    this.#log.length = 0;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.origin);
    const request: IncomingLmsRequest = {
      method: req.method ?? 'GET',
      url,
      header: (name) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      body: Buffer.concat(chunks).toString('utf8'),
    };
    let reply: Reply;
    try {
      reply = this.#preempt(url.pathname) ?? (await this.handle(request));
    } catch (err) {
      reply = { status: 500, body: this.errorBody(500, 'internal_server_error', err instanceof Error ? err.message : String(err)) };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(', ') : value;
      headers[name] = name === 'authorization' ? `${text.split(' ')[0] ?? ''} (hidden)` : text;
    }
    this.#log.push({ method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, status: reply.status, at: new Date().toISOString() });
    const replyHeaders: Record<string, string> = { ...reply.headers };
    let body = reply.rawBody;
    if (body === undefined && reply.body !== undefined) {
      body = JSON.stringify(reply.body);
      replyHeaders['Content-Type'] ??= 'application/json';
    }
    res.writeHead(reply.status, replyHeaders);
    res.end(body);
  }

  #preempt(path: string): Reply | undefined {
    if (this.exempt(path)) return undefined;
    const index = this.#faults.findIndex((f) => f.match(path));
    if (index >= 0) {
      const fault = this.#faults.splice(index, 1)[0]?.fault;
      switch (fault?.kind) {
        case undefined:
          break;
        case 'throttle':
          return { status: 429, headers: { 'Retry-After': String(fault.retryAfterSeconds ?? 1) }, body: this.errorBody(429, 'server_busy', 'Too many requests; retry later.') };
        case 'unavailable':
          return { status: 503, headers: { 'Retry-After': String(fault.retryAfterSeconds ?? 1) }, body: this.errorBody(503, 'unavailable', 'The service is briefly unavailable.') };
        case 'serverError':
          return { status: 500, body: this.errorBody(500, 'internal_server_error', 'Something went wrong.') };
        case 'malformed':
          return { status: 200, headers: { 'Content-Type': 'application/json' }, rawBody: '{"statements": [ {"id": "trunc' };
      }
    }
    const limit = this.rateLimit;
    if (limit !== undefined) {
      const now = Date.now();
      if (now - this.#window.startedMs >= limit.windowMs) this.#window = { startedMs: now, count: 0 };
      this.#window.count += 1;
      if (this.#window.count > limit.requests) {
        const retryAfter = Math.max(1, Math.ceil((this.#window.startedMs + limit.windowMs - now) / 1000));
        return { status: 429, headers: { 'Retry-After': String(retryAfter) }, body: this.errorBody(429, 'server_busy', 'Rate limit exceeded.') };
      }
    }
    return undefined;
  }
}

/**
 * One node:http server on 127.0.0.1: started on a free port (or the one given, e.g. to restart
 * on the same port), stopped at once with its open connections.
 */
export class LocalServer {
  #server: Server | undefined;
  #origin: string | undefined;

  constructor(private readonly handler: RequestListener) {}

  /** Resolves the root URL, "http://127.0.0.1:PORT". */
  async start(port = 0): Promise<string> {
    const server = createServer(this.handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#origin;
  }

  /** Undefined before the first start; kept after stop. */
  get origin(): string | undefined {
    return this.#origin;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** "Basic base64(user:password)" → [user, password]; undefined when absent or not Basic. */
export function readBasic(header: string | undefined): [string, string] | undefined {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : [text.slice(0, colon), text.slice(colon + 1)];
}
