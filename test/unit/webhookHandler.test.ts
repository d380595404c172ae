import { randomBytes } from 'node:crypto';
import func from '@azure/functions';
import { describe, expect, it, vi } from 'vitest';
import type { ClaimResult } from '../../src/state/webhookIdStore.js';
import type { Logger } from '../../src/sync/logger.js';
import type { SingleRecordResult } from '../../src/sync/singleRecord.js';
import { emptyCounts, type RunSummary } from '../../src/sync/types.js';
import { handleWebhook, MAX_WEBHOOK_BODY_BYTES, type WebhookDeps } from '../../src/webhook/handler.js';
import { toHttpLike, type HttpResult } from '../../src/webhook/http.js';
import type { WebhookNotice } from '../../src/webhook/payload.js';
import { handleResync, MAX_RESYNC_BODY_BYTES, type ResyncDeps } from '../../src/webhook/resyncHttp.js';
import { SignatureVerifier, signWebhook } from '../../src/webhook/signature.js';
import { anEnrollment } from '../support/builders.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const URL_ = 'http://localhost:7071/api/lms/webhook';

function summary(counts: Partial<RunSummary['counts']> = {}): RunSummary {
  return { runId: 'run-1', status: 'succeeded', counts: { ...emptyCounts(), read: 1, ...counts }, cursor: { before: null, after: null }, durationMs: 5, dryRun: false };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (m: string, f?: object) => lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  return { lines, info: log, warn: log, error: log };
}

/** A webhook handler over fakes: a replay memory in a Set, and a sync that answers `result`. */
function fakes(result: SingleRecordResult | Error = { kind: 'processed', enrollmentId: 'e-1', outcome: 'created', runId: 'run-1', summary: summary({ created: 1 }) }) {
  const seen = new Set<string>();
  const released: string[] = [];
  const synced: WebhookNotice[] = [];
  const logger = recordingLogger();
  const deps: WebhookDeps = {
    verifier: new SignatureVerifier([SECRET]),
    logger,
    webhookIds: {
      claim: async (id): Promise<ClaimResult> => {
        if (seen.has(id)) return { claimed: false, firstSeenAt: '2026-11-01T00:00:00.000Z' };
        seen.add(id);
        return { claimed: true, takenOver: false, complete: async () => undefined, release: async () => void (seen.delete(id), released.push(id)) };
      },
    },
    sync: vi.fn(async (notice: WebhookNotice) => {
      synced.push(notice);
      if (result instanceof Error) throw result;
      return result;
    }),
  };
  return { deps, seen, released, synced, logger };
}

function signedRequest(body: string, options: { id?: string; secret?: string; at?: Date; method?: string; headers?: Record<string, string> } = {}): func.HttpRequest {
  const signed = signWebhook(options.secret ?? SECRET, options.id ?? `msg_${randomBytes(4).toString('hex')}`, body, options.at);
  return new func.HttpRequest({
    method: options.method ?? 'POST',
    url: URL_,
    headers: { 'content-type': 'application/json', ...signed.headers, ...options.headers },
    body: { string: body },
  });
}

async function call(request: func.HttpRequest, deps: WebhookDeps): Promise<HttpResult> {
  return handleWebhook(await toHttpLike(request, MAX_WEBHOOK_BODY_BYTES), deps);
}

describe('handleWebhook', () => {
  it('answers 200 with what it did, passing the enrollment on', async () => {
    const f = fakes();
    const result = await call(signedRequest('{"enrollmentId":"e-1"}', { id: 'msg_a' }), f.deps);
    expect(result).toEqual({
      status: 200,
      jsonBody: { status: 'processed', duplicate: false, webhookId: 'msg_a', enrollmentId: 'e-1', outcome: 'created', runId: 'run-1', counts: { ...emptyCounts(), read: 1, created: 1 } },
    });
    expect(f.synced).toEqual([{ enrollmentId: 'e-1' }]);
  });

  it('answers a replayed webhook-id 200 duplicate:true and does nothing twice', async () => {
    const f = fakes();
    const body = '{"enrollmentId":"e-1"}';
    await call(signedRequest(body, { id: 'msg_r' }), f.deps);
    // A retry of the same delivery is signed again with a new timestamp: still the same id.
    const again = await call(signedRequest(body, { id: 'msg_r', at: new Date(Date.now() + 1000) }), f.deps);
    expect(again).toEqual({ status: 200, jsonBody: { status: 'duplicate', duplicate: true, webhookId: 'msg_r', firstSeenAt: '2026-11-01T00:00:00.000Z' } });
    expect(f.deps.sync).toHaveBeenCalledTimes(1);
  });

  it('asks the LMS while it claims the id (not after), and syncs with that answer; a replay asks again but syncs nothing', async () => {
    const f = fakes();
    const events: string[] = [];
    let answerClaim: () => void = () => undefined;
    const claimed = new Promise<void>((resolve) => (answerClaim = resolve));
    const fromLms = { kind: 'record' as const, from: 'lms' as const, record: anEnrollment({ enrollmentId: 'e-1' }) };
    const lookedUp: unknown[] = [];
    const deps: WebhookDeps = {
      ...f.deps,
      webhookIds: {
        claim: async (id) => {
          events.push('claim asked');
          await claimed;
          events.push('claim answered');
          return f.deps.webhookIds.claim(id);
        },
      },
      lookUp: async (notice) => {
        events.push(`LMS asked for ${notice.enrollmentId}`);
        return fromLms;
      },
      sync: async (notice, early) => {
        lookedUp.push(await early);
        return f.deps.sync(notice);
      },
    };
    const answered = call(signedRequest('{"enrollmentId":"e-1"}', { id: 'msg_la' }), deps);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['LMS asked for e-1', 'claim asked']);
    answerClaim();
    expect((await answered).status).toBe(200);
    expect(lookedUp).toEqual([fromLms]);
    const replay = await call(signedRequest('{"enrollmentId":"e-1"}', { id: 'msg_la' }), deps);
    expect(replay.jsonBody).toMatchObject({ status: 'duplicate' });
    expect(lookedUp).toHaveLength(1);
  });

  it('asks the LMS nothing for a delivery whose signature or payload is refused', async () => {
    const f = fakes();
    const lookUp = vi.fn(async () => ({ kind: 'unknown' as const }));
    const deps: WebhookDeps = { ...f.deps, lookUp };
    expect((await call(signedRequest('{"enrollmentId":"e-1"}', { secret: `whsec_${randomBytes(32).toString('base64')}` }), deps)).status).toBe(401);
    expect((await call(signedRequest('{"course":"c"}'), deps)).status).toBe(400);
    expect(lookUp).not.toHaveBeenCalled();
  });

  it('answers 202 when the work was queued', async () => {
    const f = fakes({ kind: 'queued', enrollmentId: 'e-1', reason: 'runInProgress', message: 'a sync run holds the run lease' });
    const result = await call(signedRequest('{"enrollmentId":"e-1"}', { id: 'msg_q' }), f.deps);
    expect(result.status).toBe(202);
    expect(result.jsonBody).toMatchObject({ status: 'queued', reason: 'runInProgress', enrollmentId: 'e-1', webhookId: 'msg_q' });
    expect(f.seen.has('msg_q')).toBe(true);
  });

  it('answers 401 with a one-line reason and processes nothing, for missing, wrong, stale or future signatures', async () => {
    const f = fakes();
    const body = '{"enrollmentId":"e-1"}';
    const unsigned = new func.HttpRequest({ method: 'POST', url: URL_, body: { string: body } });
    const cases: [func.HttpRequest, RegExp][] = [
      [unsigned, /^missing webhook-id, webhook-timestamp, webhook-signature headers$/],
      [signedRequest(body, { secret: `whsec_${randomBytes(32).toString('base64')}` }), /^no signature matches/],
      [signedRequest(body, { at: new Date(Date.now() - 10 * 60_000) }), /^webhook-timestamp is more than 5 minutes old$/],
      [signedRequest(body, { at: new Date(Date.now() + 10 * 60_000) }), /^webhook-timestamp is more than 5 minutes in the future$/],
      [signedRequest(body, { headers: { 'webhook-signature': 'garbage' } }), /^malformed webhook-signature header/],
      [signedRequest(body, { headers: { 'webhook-timestamp': 'yesterday' } }), /^malformed webhook-timestamp header/],
    ];
    for (const [request, reason] of cases) {
      const result = await call(request, f.deps);
      expect(result.status).toBe(401);
      const answer = result.jsonBody as { error: string; reason: string };
      expect(answer.error).toBe('unauthorized');
      expect(answer.reason).toMatch(reason);
    }
    expect(f.deps.sync).not.toHaveBeenCalled();
    expect(f.seen.size).toBe(0);
  });

  it('answers 400 for malformed JSON or a body without an enrollment, after the signature, with nothing processed', async () => {
    const f = fakes();
    const bad = await call(signedRequest('{"enrollmentId":'), f.deps);
    expect(bad.status).toBe(400);
    expect((bad.jsonBody as { reason: string }).reason).toMatch(/^the body is not valid JSON/);
    const noId = await call(signedRequest('{"course":"c"}'), f.deps);
    expect(noId).toEqual({ status: 400, jsonBody: { error: 'badRequest', reason: 'the body names no enrollmentId' } });
    expect(f.deps.sync).not.toHaveBeenCalled();
  });

  it('answers 400 for an unknown enrollment and forgets the id, so a corrected retry is processed', async () => {
    const f = fakes({ kind: 'rejected', enrollmentId: 'nope', reason: 'the LMS does not know enrollment "nope"' });
    const result = await call(signedRequest('{"enrollmentId":"nope"}', { id: 'msg_u' }), f.deps);
    expect(result).toEqual({ status: 400, jsonBody: { error: 'badRequest', reason: 'the LMS does not know enrollment "nope"' } });
    expect(f.released).toEqual(['msg_u']);
  });

  it('answers 413 for a body over 256 KB, before reading it or checking anything', async () => {
    const f = fakes();
    const big = JSON.stringify({ enrollmentId: 'e-1', pad: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) });
    const result = await call(signedRequest(big), f.deps);
    expect(result.status).toBe(413);
    const declared = new func.HttpRequest({ method: 'POST', url: URL_, headers: { 'content-length': String(MAX_WEBHOOK_BODY_BYTES + 1) }, body: { string: '{}' } });
    expect((await call(declared, f.deps)).status).toBe(413);
    expect(f.deps.sync).not.toHaveBeenCalled();
  });

  it('answers 405 with Allow for any other method', async () => {
    const f = fakes();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const result = await call(new func.HttpRequest({ method, url: URL_ }), f.deps);
      expect(result).toMatchObject({ status: 405, headers: { Allow: 'POST' } });
    }
  });

  it('answers 503 when no secret is configured, and 500 (id given back) when the sync fails', async () => {
    const f = fakes(new Error('storage is down: AccountKey=should-not-show'));
    expect((await call(signedRequest('{"enrollmentId":"e"}'), { ...f.deps, verifier: undefined })).status).toBe(503);
    const failed = await call(signedRequest('{"enrollmentId":"e"}', { id: 'msg_f' }), f.deps);
    expect(failed).toEqual({ status: 500, jsonBody: { error: 'internal', reason: 'the webhook could not be processed; see the function log' } });
    expect(f.released).toEqual(['msg_f']);
  });

  it('never logs the secret or a signature', async () => {
    const f = fakes();
    const requests = [signedRequest('{"enrollmentId":"e-1"}'), signedRequest('{"enrollmentId":"e-1"}', { secret: `whsec_${randomBytes(32).toString('base64')}` }), signedRequest('{bad')];
    const signatures = requests.map((r) => r.headers.get('webhook-signature') ?? '');
    for (const request of requests) await call(request, f.deps);
    const log = f.logger.lines.join('\n');
    expect(log).not.toContain(SECRET.slice(6));
    for (const signature of signatures) expect(log).not.toContain(signature.slice(3));
    expect(f.logger.lines.length).toBeGreaterThan(2);
  });
});

describe('handleResync', () => {
  const done = { kind: 'done' as const, scope: { kind: 'learner' as const, value: 'ada' }, matched: 2, forced: 2, notInLms: [], invalid: [], unavailable: [], summary: summary({ updated: 2 }) };
  function resyncFakes(overrides: Partial<ResyncDeps> = {}): ResyncDeps {
    return {
      logger: recordingLogger(),
      inline: vi.fn(async () => done),
      full: vi.fn(async () => ({ kind: 'requested' as const, runId: 'r-all', since: '2026-10-01T00:00:00.000Z', applied: true, cursor: { before: '2026-11-01T00:00:00.000Z', after: '2026-10-01T00:00:00.000Z' } })),
      status: vi.fn(async (runId: string) => (runId === 'r-all' ? { runId, trigger: 'resync:all', status: 'running' as const, finished: false, startedAt: 'x', finishedAt: null, counts: emptyCounts(), cursor: { before: null, after: null }, message: null } : undefined)),
      ...overrides,
    };
  }
  const post = async (body: string, deps: ResyncDeps, method = 'POST', params: Record<string, string> = {}) =>
    handleResync(await toHttpLike(new func.HttpRequest({ method, url: 'http://localhost/api/resync', params, ...(method === 'GET' ? {} : { body: { string: body } }) }), MAX_RESYNC_BODY_BYTES), deps);

  it('runs small scopes inline and answers 200 with the summary', async () => {
    const deps = resyncFakes();
    const result = await post('{"learner":"ada"}', deps);
    expect(result.status).toBe(200);
    expect(result.jsonBody).toMatchObject({ runId: 'run-1', scope: { learner: 'ada' }, dryRun: false, status: 'succeeded', matched: 2, forced: 2 });
    expect(deps.inline).toHaveBeenCalledWith({ kind: 'learner', value: 'ada' }, false);
  });

  it('answers all with 202, the run id and where to follow it', async () => {
    const deps = resyncFakes();
    const result = await post('{"all":true,"since":"2026-10-01T00:00:00Z"}', deps);
    expect(result).toMatchObject({ status: 202, headers: { Location: '/api/resync/r-all' }, jsonBody: { runId: 'r-all', status: 'running', statusUrl: '/api/resync/r-all' } });
    expect(deps.full).toHaveBeenCalledWith('2026-10-01T00:00:00.000Z', false);
  });

  it('reports a run by id, 404 for an unknown one', async () => {
    const deps = resyncFakes();
    expect(await post('', deps, 'GET', { runId: 'r-all' })).toMatchObject({ status: 200, jsonBody: { runId: 'r-all', status: 'running' } });
    expect(await post('', deps, 'GET', { runId: 'r-none' })).toMatchObject({ status: 404 });
  });

  it('answers 400, 404, 405, 409 and 413 with reasons', async () => {
    const deps = resyncFakes();
    expect(await post('{"learner":', deps)).toEqual({ status: 400, jsonBody: { error: 'badRequest', reason: 'the body is not valid JSON' } });
    expect(await post('{"learner":"a","course":"b"}', deps)).toMatchObject({ status: 400 });
    expect(await post('', deps, 'GET')).toMatchObject({ status: 405, headers: { Allow: 'POST' } });
    expect(await post('{}', deps, 'POST', { runId: 'r-all' })).toMatchObject({ status: 405, headers: { Allow: 'GET' } });
    expect(await post('{"course":"x"}', resyncFakes({ inline: async () => ({ kind: 'notFound', reason: 'no synced enrollment matches course "x"' }) }))).toMatchObject({ status: 404 });
    expect(await post('{"course":"x"}', resyncFakes({ inline: async () => ({ kind: 'busy', reason: 'Another sync run holds the lease.' }) }))).toMatchObject({ status: 409, headers: { 'Retry-After': '60' } });
    expect(await post(JSON.stringify({ course: 'x'.repeat(MAX_RESYNC_BODY_BYTES) }), deps)).toMatchObject({ status: 413 });
  });
});

describe('redactingLogger', () => {
  it('hides the value of every secret setting in messages and fields, whatever carries it', async () => {
    const { redactingLogger, secretSettingValues } = await import('../../src/sync/singleRecord.js');
    const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    const secrets = secretSettingValues({
      LMS_TOKEN: 'moodle-ws-token-123',
      WEBHOOK_SECRET: `${SECRET} whsec_c2Vjb25kLXNlY3JldC12YWx1ZQ==`,
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net`,
      VIVA_PROVIDER_ID: 'not-a-secret-provider',
    });
    const inner = recordingLogger();
    const logger = redactingLogger(inner, secrets);
    logger.warn('GET https://lms.example/webservice/rest/server.php?wstoken=moodle-ws-token-123 failed', { reason: `key ${key} and ${SECRET.slice(6)}`, count: 3 });
    logger.error('c2Vjb25kLXNlY3JldC12YWx1ZQ== leaked', { provider: 'not-a-secret-provider' });
    const text = inner.lines.join('\n');
    for (const secret of ['moodle-ws-token-123', key, SECRET.slice(6), 'c2Vjb25kLXNlY3JldC12YWx1ZQ==']) expect(text).not.toContain(secret);
    expect(text).toContain('wstoken=(hidden)');
    expect(text).toContain('not-a-secret-provider');
    expect(text).toContain('"count":3');
  });
});
