/**
 * Credentials never leave for another host, and no LMS answer is read past a size: the LMS HTTP
 * layer (src/lms/http/) against real local servers. Two loopback ports are two origins.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { isLmsRequestError } from '../../src/lms/http/errors.js';
import { LmsHttpClient } from '../../src/lms/http/lmsHttp.js';
import { ClientCredentialsToken } from '../../src/lms/http/oauth2.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handle(req, body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const failure = async (promise: Promise<unknown>): Promise<{ code: string; message: string; setting: string | undefined }> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLmsRequestError(err)) throw new Error(`expected an LmsRequestError, got ${String(err)}`);
  return { code: err.code, message: err.message, setting: err.setting };
};

describe('LMS HTTP: redirects', () => {
  it.each([307, 308, 302])('a token endpoint redirecting (%i) to another origin gets no client secret there; the error names LMS_TOKEN_URL', async (status) => {
    const elsewhere = await serve((_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"stolen","token_type":"bearer"}'));
    const tokens = await serve((_req, _body, res) => res.writeHead(status, { location: `${elsewhere.origin}/token` }).end());
    const client = new ClientCredentialsToken({ system: 'oneroster', tokenUrl: `${tokens.origin}/token`, clientId: 'cid', clientSecret: 'top-secret-value', maxRetries: 0 });
    const err = await failure(client.token());
    expect(err).toMatchObject({ code: 'foreignRedirect', setting: 'LMS_TOKEN_URL' });
    expect(err.message).toContain(elsewhere.origin);
    expect(elsewhere.seen).toEqual([]);
    expect(tokens.seen).toHaveLength(1);
  });

  it('an API redirecting to another origin is refused before the Authorization header is sent there', async () => {
    const elsewhere = await serve((_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const lms = await serve((_req, _body, res) => res.writeHead(301, { location: `${elsewhere.origin}/xapi/statements` }).end());
    const http = new LmsHttpClient({ system: 'xapi', maxRetries: 0, credentials: { headers: () => ({ Authorization: 'Basic dXNlcjpzZWNyZXQ=' }) } });
    expect(await failure(http.json(new URL(`${lms.origin}/xapi/statements`), { operation: 'GET /statements' }))).toMatchObject({ code: 'foreignRedirect', setting: 'LMS_BASE_URL' });
    expect(elsewhere.seen).toEqual([]);
  });

  it('follows a redirect within the origin (a 307 keeps the POST and its body; a 303 becomes a GET)', async () => {
    const lms = await serve((req, body, res) => {
      if (req.url === '/token') res.writeHead(307, { location: '/oauth/token' }).end();
      else if (req.url === '/oauth/token') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: body.includes('grant_type=client_credentials') ? 'ok-token' : 'no-body', expires_in: 3600 }));
      else if (req.url === '/a') res.writeHead(303, { location: '/b' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method }));
    });
    const client = new ClientCredentialsToken({ system: 'oneroster', tokenUrl: `${lms.origin}/token`, clientId: 'cid', clientSecret: 'secret', maxRetries: 0 });
    expect(await client.token()).toBe('ok-token');
    const http = new LmsHttpClient({ system: 'xapi', maxRetries: 0 });
    expect((await http.json(new URL(`${lms.origin}/a`), { operation: 'POST /a', method: 'POST', body: 'x' }))?.body).toEqual({ method: 'GET' });
  });
});

describe('LMS HTTP: response size', () => {
  it('refuses a body over the cap, declared or streamed, without reading it all', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const lms = await serve((req, _body, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length + 2) }).end(`"${big}"`);
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('"');
        res.end(`${big}"`);
      }
    });
    const http = new LmsHttpClient({ system: 'xapi', maxRetries: 0, maxResponseBytes: 1024 * 1024 });
    for (const path of ['/declared', '/streamed']) {
      const err = await failure(http.json(new URL(`${lms.origin}${path}`), { operation: `GET ${path}` }));
      expect(err).toMatchObject({ code: 'responseTooLarge' });
      expect(err.message).toContain('larger than 1048576 bytes');
    }
    const roomy = new LmsHttpClient({ system: 'xapi', maxRetries: 0 });
    expect(((await roomy.json(new URL(`${lms.origin}/streamed`), { operation: 'GET' }))?.body as string).length).toBe(big.length);
  });
});

describe('LMS URLs', () => {
  const env = (extra: Record<string, string>) => ({ VIVA_PROVIDER_ID: 'p', GRAPH_AUTH: 'managed-identity', AzureWebJobsStorage: 'UseDevelopmentStorage=true', LMS_ADAPTER: 'xapi', LMS_USERNAME: 'u', LMS_PASSWORD: 'p', ...extra });

  it('refuses plain http for LMS_BASE_URL and LMS_TOKEN_URL except on loopback, naming the setting', () => {
    expect(() => loadConfig(env({ LMS_BASE_URL: 'http://lrs.example/xapi/' }), { cwd: '/' })).toThrow(/LMS_BASE_URL/);
    expect(() => loadConfig(env({ LMS_BASE_URL: 'https://lrs.example/xapi/', LMS_TOKEN_URL: 'http://idp.example/token' }), { cwd: '/' })).toThrow(/LMS_TOKEN_URL must be an https URL/);
    expect(() => loadConfig(env({ LMS_BASE_URL: 'http://127.0.0.1:8080/xapi/', LMS_TOKEN_URL: 'http://localhost:9/token' }), { cwd: '/' })).not.toThrow();
  });
});
