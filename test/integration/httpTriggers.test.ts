/**
 * The HTTP functions through the objects Azure hands them (`HttpRequest`, `InvocationContext`),
 * against the Graph stand-in and Azurite; one suite also goes over a real local HTTP server.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import func from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { health } from '../../functions/health.js';
import { lmsWebhook } from '../../functions/lmsWebhook.js';
import { resync } from '../../functions/resync.js';
import { status } from '../../functions/status.js';
import { runCli } from '../../src/cli/main.js';
import { createHttpState, tableConnectionOf, type HttpState } from '../../src/state/httpState.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { silentLogger } from '../../src/sync/logger.js';
import { runScheduledSync } from '../../src/sync/scheduled.js';
import { healthEndpoint, statusEndpoint } from '../../src/webhook/endpoints.js';
import { signWebhook } from '../../src/webhook/signature.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function newHarness(options: Parameters<typeof SyncHarness.create>[0] = {}): Promise<SyncHarness> {
  harness = await SyncHarness.create(options);
  harness.env.WEBHOOK_SECRET = `${SECRET} ${OLD_SECRET}`;
  return harness;
}

type Handler = (request: func.HttpRequest, context: func.InvocationContext) => Promise<func.HttpResponseInit>;

interface Call {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly logs: string[];
}

/** Runs a handler as the host would: the app's settings in process.env, the app root as cwd. */
async function invoke(h: SyncHarness, handler: Handler, request: func.HttpRequest, env: Record<string, string> = {}): Promise<Call> {
  const logs: string[] = [];
  const context = new func.InvocationContext({ invocationId: randomBytes(4).toString('hex'), functionName: handler.name, logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
  const saved = process.env;
  const cwd = process.cwd();
  process.env = { ...saved, ...h.env, ...env };
  process.chdir(h.dir);
  try {
    const response = await handler(request, context);
    return { status: response.status ?? 200, body: (response.jsonBody ?? {}) as Record<string, unknown>, headers: (response.headers ?? {}) as Record<string, string>, logs };
  } finally {
    process.chdir(cwd);
    process.env = saved;
  }
}

function webhookRequest(body: unknown, options: { id?: string; secret?: string; at?: Date; headers?: Record<string, string> } = {}): func.HttpRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signed = signWebhook(options.secret ?? SECRET, options.id ?? `msg_${randomBytes(6).toString('hex')}`, text, options.at);
  return new func.HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/lms/webhook',
    headers: { 'content-type': 'application/json', ...signed.headers, ...options.headers },
    body: { string: text },
  });
}

function resyncRequest(method: string, body?: unknown, runId?: string): func.HttpRequest {
  return new func.HttpRequest({
    method,
    url: `http://localhost:7071/api/resync${runId !== undefined ? `/${runId}` : ''}`,
    ...(runId !== undefined ? { params: { runId } } : {}),
    ...(body !== undefined ? { body: { string: JSON.stringify(body) } } : {}),
  });
}

function healthRequest(method = 'GET', query = ''): func.HttpRequest {
  return new func.HttpRequest({ method, url: `http://localhost:7071/api/health${query}` });
}

async function httpState(h: SyncHarness): Promise<HttpState> {
  const config = loadConfig(h.env, { cwd: h.dir });
  return createHttpState({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
}

function scheduled(h: SyncHarness) {
  return runScheduledSync({ logger: silentLogger, trigger: 'timer', env: h.env, appRoot: h.dir });
}

const ada = { upn: 'ada.lovelace@contoso.example', email: 'ada.lovelace@contoso.example', id: 'u-ada' };
const alan = { upn: 'alan.turing@contoso.example', email: 'alan.turing@contoso.example', id: 'u-alan' };

describe('POST /api/lms/webhook', () => {
  it('syncs the named enrollment from the LMS and answers 200; a replay is a duplicate; the cursor is untouched', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'w1', learner: ada })]);
    const request = webhookRequest({ enrollmentId: 'w1' }, { id: 'msg_first' });
    const first = await invoke(h, lmsWebhook, request.clone());
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'processed', duplicate: false, webhookId: 'msg_first', enrollmentId: 'w1', outcome: 'created' });
    expect(h.standIn.activities()).toHaveLength(1);
    const writes = h.standIn.stats().writes;

    const replay = await invoke(h, lmsWebhook, request.clone());
    expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate', duplicate: true, webhookId: 'msg_first' } });
    expect(h.standIn.stats().writes).toBe(writes);

    const state = await h.state();
    expect((await state.cursor.get()).value).toBeUndefined();
    const runs = await state.runs.listRecent(5);
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([['webhook', 'succeeded']]);
    // The same change signed with the older secret of a rotation, under a new id: nothing to write.
    const rotated = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w1' }, { secret: OLD_SECRET }));
    expect(rotated.body).toMatchObject({ status: 'processed', outcome: 'unchanged' });
  });

  it('takes the newer of the body\'s record and the LMS\'s, and deletes on a withdrawal', async () => {
    const h = await newHarness();
    const enrollment = anEnrollment({ enrollmentId: 'w2', learner: ada, updatedAt: '2026-11-01T10:00:00.000Z' });
    h.writeExport([enrollment]);
    await h.run();
    const completed = { ...enrollment, status: 'completed', progressPercent: 100, completedAt: '2026-11-02T09:00:00.000Z', updatedAt: '2026-11-02T09:00:00.000Z' };
    const updated = await invoke(h, lmsWebhook, webhookRequest({ type: 'enrollment.completed', timestamp: new Date().toISOString(), data: completed }));
    expect(updated.body).toMatchObject({ outcome: 'updated' });
    expect(h.standIn.activities()[0]).toMatchObject({ status: 'completed', completionPercentage: 100 });
    // An older record arriving late changes nothing.
    const stale = await invoke(h, lmsWebhook, webhookRequest(enrollment));
    expect(stale.body).toMatchObject({ outcome: 'unchanged' });
    expect(h.standIn.activities()[0]).toMatchObject({ status: 'completed' });
    const withdrawn = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w2', deleted: true, updatedAt: '2026-11-03T00:00:00Z' }));
    expect(withdrawn.body).toMatchObject({ outcome: 'deleted' });
    expect(h.standIn.activities()).toHaveLength(0);
  });

  it('answers 200 with the reason when the record is dead-lettered (no such learner)', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'w3', learner: { upn: 'former.worker@contoso.example', email: 'former.worker@contoso.example' } })]);
    const result = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w3' }));
    expect(result).toMatchObject({ status: 200, body: { outcome: 'deadLettered', reason: expect.stringContaining('former.worker@contoso.example') as unknown } });
  });

  it('refuses bad input: 401 unsigned, stale or wrongly signed; 400 malformed or unknown; 413 too large; 405 wrong method', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'w4', learner: ada })]);
    const unsigned = new func.HttpRequest({ method: 'POST', url: 'http://localhost/api/lms/webhook', body: { string: '{"enrollmentId":"w4"}' } });
    const cases: [func.HttpRequest, number, RegExp][] = [
      [unsigned, 401, /^missing webhook-id/],
      [webhookRequest({ enrollmentId: 'w4' }, { at: new Date(Date.now() - 6 * 60_000) }), 401, /5 minutes old/],
      [webhookRequest({ enrollmentId: 'w4' }, { secret: `whsec_${randomBytes(32).toString('base64')}` }), 401, /no signature matches/],
      [webhookRequest({ enrollmentId: 'w4' }, { headers: { 'webhook-signature': 'v1' } }), 401, /malformed webhook-signature/],
      [webhookRequest('{"enrollmentId": "w4"'), 400, /not valid JSON/],
      [webhookRequest({ enrollmentId: 'nobody-knows' }), 400, /does not know enrollment "nobody-knows"/],
      [webhookRequest({ enrollmentId: 'w4', pad: 'x'.repeat(256 * 1024) }), 413, /larger than 262144 bytes/],
      [new func.HttpRequest({ method: 'GET', url: 'http://localhost/api/lms/webhook' }), 405, /use POST/],
    ];
    for (const [request, status, reason] of cases) {
      const result = await invoke(h, lmsWebhook, request);
      expect(result.status, String(reason)).toBe(status);
      expect(String(result.body['reason'])).toMatch(reason);
      expect(String(result.body['reason'])).not.toContain('\n');
    }
    expect(h.standIn.stats().writes).toBe(0);
    expect(await (await h.state()).runs.listRecent(5)).toEqual([]);
  });

  it('answers 503 when settings are missing: naming nothing to an anonymous caller', async () => {
    const h = await newHarness();
    const noSecret = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w' }), { WEBHOOK_SECRET: '' });
    expect(noSecret).toMatchObject({ status: 503, body: { error: 'notConfigured', reason: 'the webhook endpoint has no secret configured (WEBHOOK_SECRET)' } });
    const broken = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w' }), { VIVA_PROVIDER_ID: '' });
    expect(broken).toMatchObject({ status: 503, body: { reason: 'the function app settings are invalid; see the function log' } });
    // The re-sync endpoint sits behind a function key: it names the setting.
    const resyncBroken = await invoke(h, resync, resyncRequest('POST', { enrollment: 'w' }), { VIVA_PROVIDER_ID: '' });
    expect(resyncBroken).toMatchObject({ status: 503, body: { reason: 'invalid settings: VIVA_PROVIDER_ID' } });
  });

  it('never logs a secret or a signature', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'w5', learner: ada })]);
    const requests = [webhookRequest({ enrollmentId: 'w5' }), webhookRequest({ enrollmentId: 'w5' }, { secret: `whsec_${randomBytes(32).toString('base64')}` }), webhookRequest('{oops')];
    const logs: string[] = [];
    for (const request of requests) {
      const signature = request.headers.get('webhook-signature') ?? '';
      const result = await invoke(h, lmsWebhook, request);
      logs.push(...result.logs, JSON.stringify(result.body));
      expect(logs.join('\n')).not.toContain(signature.slice(3));
    }
    const text = logs.join('\n');
    for (const secret of [SECRET, OLD_SECRET]) expect(text).not.toContain(secret.slice(6));
    expect(text).not.toContain(h.env.GRAPH_TOKEN ?? 'none');
  });

  it('answers 202 and queues the enrollment while a run holds the lease; the next scheduled run syncs it', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'w6', learner: ada })]);
    const state = await h.state();
    const lease = await state.lease.tryAcquire('a-long-run', 60_000);
    const result = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w6' }));
    expect(result).toMatchObject({ status: 202, body: { status: 'queued', reason: 'runInProgress', enrollmentId: 'w6' } });
    expect(h.standIn.activities()).toHaveLength(0);
    const queues = await httpState(h);
    expect(await queues.pending.countRecords()).toBe(1);
    await lease?.release();

    // The export was written after the run's cursor: the run itself creates w6, the drain finds it unchanged.
    const summary = await scheduled(h);
    expect(summary?.status).toBe('succeeded');
    expect(h.standIn.activities()).toHaveLength(1);
    expect(await queues.pending.countRecords()).toBe(0);
  });

  it('answers 202 quickly when Graph throttles past the budget, and the queue drains once it stops', async () => {
    const h = await newHarness({ faults: { decide: () => 'throttle', retryAfterSeconds: 120 } });
    h.writeExport([anEnrollment({ enrollmentId: 'w7', learner: ada })]);
    const started = Date.now();
    const result = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'w7' }));
    expect(result).toMatchObject({ status: 202, body: { status: 'queued', reason: 'throttled' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    h.standIn.setOptions({ faults: {} });
    // A cursor past w7: only the drain can bring it in.
    await (await h.state()).cursor.save({ value: '2026-12-01T00:00:00.000Z', ledgerComplete: true, runId: 'x' }, undefined);
    h.writeExport([anEnrollment({ enrollmentId: 'w7', learner: ada })]);
    await scheduled(h);
    expect(h.standIn.activities().map((a) => a.externalCourseActivityId)).toEqual(['w7']);
    expect(await (await httpState(h)).pending.countRecords()).toBe(0);
  });
});

describe('the stores of the HTTP endpoints', () => {
  it('remembers a webhook id for a day across midnight, then forgets and purges it', async () => {
    const h = await newHarness();
    const { webhookIds } = await httpState(h);
    const at = (iso: string) => ({ now: new Date(iso) });
    const night = await webhookIds.claim('msg_night', at('2026-11-01T23:30:00Z'));
    expect(night.claimed).toBe(true);
    // Being processed: another delivery is told to retry once the claim may have expired.
    expect(await webhookIds.claim('msg_night', at('2026-11-01T23:31:00Z'))).toEqual({ claimed: false, firstSeenAt: '2026-11-01T23:30:00.000Z', inProgress: { retryAfterSeconds: 120 } });
    if (night.claimed) await night.complete();
    expect(await webhookIds.claim('msg_night', at('2026-11-02T00:30:00Z'))).toEqual({ claimed: false, firstSeenAt: '2026-11-01T23:30:00.000Z' });
    expect(await webhookIds.claim('msg_night', at('2026-11-01T23:59:00Z'))).toMatchObject({ claimed: false });
    expect((await webhookIds.claim('msg_night', at('2026-11-02T23:45:00Z'))).claimed).toBe(true);
    // A claim left `processing` (its instance died) is taken over once expired, and only by one delivery.
    const stuck = await webhookIds.claim('msg_stuck', at('2026-11-02T11:00:00Z'));
    expect(stuck).toMatchObject({ claimed: true, takenOver: false });
    const [a, b] = await Promise.all([webhookIds.claim('msg_stuck', at('2026-11-02T11:04:00Z')), webhookIds.claim('msg_stuck', at('2026-11-02T11:04:00Z'))]);
    expect([a.claimed, b.claimed].sort()).toEqual([false, true]);
    expect([a, b].find((c) => c.claimed)).toMatchObject({ takenOver: true });
    const released = await webhookIds.claim('msg_given_back', at('2026-11-02T10:00:00Z'));
    if (released.claimed) await released.release();
    expect((await webhookIds.claim('msg_given_back', at('2026-11-02T10:01:00Z'))).claimed).toBe(true);
    expect(await webhookIds.purgeExpired(at('2026-11-04T08:00:00Z'))).toBe(4);
    expect(await webhookIds.purgeExpired(at('2026-11-04T08:00:00Z'))).toBe(0);
  });

  it('keeps the newer of two queued records, and keeps one that changed while it was drained', async () => {
    const h = await newHarness();
    const { pending } = await httpState(h);
    const newer = anEnrollment({ enrollmentId: 'q1', updatedAt: '2026-11-02T00:00:00.000Z' });
    const older = anEnrollment({ enrollmentId: 'q1', updatedAt: '2026-11-01T00:00:00.000Z' });
    const entry = (record: typeof newer) => ({ enrollmentId: 'q1', record: JSON.stringify(record), updatedAt: record.updatedAt, reason: 'runInProgress', source: 'webhook', queuedAt: new Date().toISOString() });
    await pending.queue(entry(newer));
    await pending.queue(entry(older));
    await pending.queue({ enrollmentId: 'q1', reason: 'timeout', source: 'webhook', queuedAt: new Date().toISOString() });
    const [read] = await pending.listRecords(10);
    expect(read).toMatchObject({ enrollmentId: 'q1', updatedAt: '2026-11-02T00:00:00.000Z', reason: 'timeout' });
    await pending.queue(entry({ ...newer, updatedAt: '2026-11-03T00:00:00.000Z' }));
    expect(read !== undefined && (await pending.remove(read))).toBe(false);
    expect(await pending.countRecords()).toBe(1);
    const [again] = await pending.listRecords(10);
    expect(again !== undefined && (await pending.remove(again))).toBe(true);
    expect(await pending.countRecords()).toBe(0);
  });
});

describe('POST /api/resync', () => {
  async function synced(): Promise<SyncHarness> {
    const h = await newHarness();
    h.writeExport([
      anEnrollment({ enrollmentId: 'r1', learner: ada, course: { id: 'c-1' } }),
      anEnrollment({ enrollmentId: 'r2', learner: ada, course: { id: 'c-2' } }),
      anEnrollment({ enrollmentId: 'r3', learner: alan, course: { id: 'c-1' } }),
    ]);
    await h.run();
    expect(h.standIn.activities()).toHaveLength(3);
    return h;
  }

  it('re-pushes a learner\'s enrollments inline, forcing writes the ledger would skip', async () => {
    const h = await synced();
    h.standIn.resetStats();
    const result = await invoke(h, resync, resyncRequest('POST', { learner: ada.upn }));
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ scope: { learner: ada.upn }, dryRun: false, status: 'succeeded', matched: 2, forced: 2, summary: { counts: { read: 2, updated: 2 } } });
    expect(h.standIn.requests().filter((r) => r.method === 'PATCH' && r.path.includes('learningCourseActivities'))).toHaveLength(2);
    // By Entra object id too; and a second time the fingerprints are back, yet a re-sync still forces.
    const byId = await invoke(h, resync, resyncRequest('POST', { learner: h.userId(alan.upn) }));
    expect(byId.body).toMatchObject({ matched: 1, summary: { counts: { updated: 1 } } });
    const runs = await (await h.state()).runs.listRecent(10);
    expect(runs[0]).toMatchObject({ trigger: 'resync:learner', status: 'succeeded' });
  });

  it('brings back an activity Viva lost, for one enrollment', async () => {
    const h = await synced();
    const lost = h.standIn.activities().find((a) => a.externalCourseActivityId === 'r3');
    const url = `${h.env.GRAPH_BASE_URL}/v1.0/employeeExperience/learningProviders/${h.tenant.provider.id}/learningCourseActivities/${encodeURIComponent(lost?.id ?? '')}`;
    expect((await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${h.tenant.token}` } })).status).toBe(204);
    expect(h.standIn.activities()).toHaveLength(2);
    const result = await invoke(h, resync, resyncRequest('POST', { enrollment: 'r3' }));
    expect(result.body).toMatchObject({ status: 'succeeded', matched: 1, forced: 1 });
    expect(h.standIn.activities().map((a) => a.externalCourseActivityId).sort()).toEqual(['r1', 'r2', 'r3']);
  });

  it('plans a course\'s re-push on dryRun without writing anything', async () => {
    const h = await synced();
    h.standIn.resetStats();
    const result = await invoke(h, resync, resyncRequest('POST', { course: 'c-1', dryRun: true }));
    expect(result.body).toMatchObject({ dryRun: true, matched: 2, forced: 2, summary: { dryRun: true } });
    const planned = (result.body['summary'] as { plannedCalls: { method: string; operation: string }[] }).plannedCalls;
    expect(planned.filter((c) => c.operation === 'update activity')).toHaveLength(2);
    expect(h.standIn.stats().total).toBe(0);
    const entries = await (await h.state()).ledger.getMany(['r1', 'r3']);
    expect([...entries.values()].every((e) => e.fingerprint !== undefined)).toBe(true);
  });

  it('answers 404 for nothing matched, 409 while a run holds the lease, 400 for a bad body, 405 for a wrong method', async () => {
    const h = await synced();
    expect((await invoke(h, resync, resyncRequest('POST', { enrollment: 'nope' }))).status).toBe(404);
    expect((await invoke(h, resync, resyncRequest('POST', { course: 'c-none' }))).status).toBe(404);
    expect(await invoke(h, resync, resyncRequest('POST', { all: 'yes' }))).toMatchObject({ status: 400, body: { reason: 'all must be true' } });
    expect(await invoke(h, resync, resyncRequest('GET'))).toMatchObject({ status: 405, headers: { Allow: 'POST' } });
    expect(await invoke(h, resync, resyncRequest('DELETE', undefined, 'x'))).toMatchObject({ status: 405, headers: { Allow: 'GET' } });
    const lease = await (await h.state()).lease.tryAcquire('a-long-run', 60_000);
    const busy = await invoke(h, resync, resyncRequest('POST', { enrollment: 'r1' }));
    expect(busy).toMatchObject({ status: 409, headers: { 'Retry-After': '60' }, body: { error: 'runInProgress' } });
    await lease?.release();
  });

  it('rewinds the cursor for all since a date, answers 202 with a run id, and reports the next passes by it', async () => {
    const h = await synced();
    const state = await h.state();
    expect((await state.cursor.get()).value).toBe('2026-11-01T10:00:00.000Z');
    const dry = await invoke(h, resync, resyncRequest('POST', { all: true, since: '2026-10-15T00:00:00Z', dryRun: true }));
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, cursor: { current: '2026-11-01T10:00:00.000Z', wouldBecome: '2026-10-15T00:00:00.000Z' } } });
    expect((await state.cursor.get()).value).toBe('2026-11-01T10:00:00.000Z');

    const accepted = await invoke(h, resync, resyncRequest('POST', { all: true, since: '2026-10-15T00:00:00Z' }));
    expect(accepted).toMatchObject({ status: 202, body: { status: 'running', since: '2026-10-15T00:00:00.000Z' } });
    const runId = String(accepted.body['runId']);
    expect(accepted.headers['Location']).toBe(`/api/resync/${runId}`);
    expect((await state.cursor.get()).value).toBe('2026-10-15T00:00:00.000Z');
    const before = await invoke(h, resync, resyncRequest('GET', undefined, runId));
    expect(before).toMatchObject({ status: 200, body: { runId, status: 'running', finished: false, passes: 0, cursor: { before: '2026-11-01T10:00:00.000Z', after: '2026-10-15T00:00:00.000Z' } } });

    const pass = await scheduled(h);
    expect(pass).toMatchObject({ status: 'succeeded', counts: { read: 3, unchanged: 3 } });
    const after = await invoke(h, resync, resyncRequest('GET', undefined, runId));
    expect(after).toMatchObject({ status: 200, body: { runId, trigger: 'resync:all', status: 'succeeded', finished: true, counts: { read: 3, unchanged: 3 } } });
    expect(String(after.body['message'])).toContain(pass?.runId ?? '?');
    expect((await invoke(h, resync, resyncRequest('GET', undefined, 'no-such-run'))).status).toBe(404);
  });

  it('queues the rewind of all while a run holds the lease; the pass that picks it up rewinds first', async () => {
    const h = await synced();
    const state = await h.state();
    const lease = await state.lease.tryAcquire('a-long-run', 60_000);
    const accepted = await invoke(h, resync, resyncRequest('POST', { all: true }));
    expect(accepted).toMatchObject({ status: 202, body: { status: 'queued', cursor: null } });
    const runId = String(accepted.body['runId']);
    expect((await invoke(h, resync, resyncRequest('GET', undefined, runId))).body).toMatchObject({ status: 'queued' });
    expect((await state.cursor.get()).value).toBe('2026-11-01T10:00:00.000Z');
    await lease?.release();
    const pass = await scheduled(h);
    // Reset: the pass read everything from the start.
    expect(pass).toMatchObject({ status: 'succeeded', cursor: { before: null }, counts: { read: 3 } });
    expect((await invoke(h, resync, resyncRequest('GET', undefined, runId))).body).toMatchObject({ status: 'succeeded', finished: true });
  });
});

describe('GET /api/health', () => {
  const fresh = (h: SyncHarness, env: NodeJS.ProcessEnv = h.env) => healthEndpoint(healthRequest(), { logger: silentLogger, env, cwd: h.dir, healthCacheMs: 0 });

  it('answers a probe with the status and the age of the last successful pass, nothing more', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'h1', learner: ada }), anEnrollment({ enrollmentId: 'h2', learner: { upn: 'former.x@contoso.example', email: 'former.x@contoso.example' } })]);
    const before = await invoke(h, health, healthRequest());
    expect(before).toMatchObject({ status: 200, headers: { 'Cache-Control': 'no-store' } });
    expect(before.body).toEqual({ status: 'degraded', lastSuccessAgeSeconds: null });
    await scheduled(h);
    const after = await fresh(h);
    expect(after.status).toBe(200);
    // A dead letter (h2 has no Entra user) is the operator's business, not a probe's.
    expect(Object.keys(after.jsonBody as object).sort()).toEqual(['lastSuccessAgeSeconds', 'status']);
    expect(after.jsonBody).toMatchObject({ status: 'ok', lastSuccessAgeSeconds: expect.any(Number) });
    expect((after.jsonBody as { lastSuccessAgeSeconds: number }).lastSuccessAgeSeconds).toBeLessThan(60);
  });

  it('reuses its answer for a few seconds, so a burst of probes reads the storage once', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'c1', learner: ada })]);
    const first = await invoke(h, health, healthRequest());
    await scheduled(h);
    // Within the cache's lifetime the probe still gets the answer from before the pass.
    expect((await invoke(h, health, healthRequest())).body).toEqual(first.body);
    expect((await fresh(h)).jsonBody).toMatchObject({ status: 'ok' });
  });

  it('answers 503 failing, naming nothing, when the settings are bad; 405 for a wrong method', async () => {
    const h = await newHarness();
    const broken = await invoke(h, health, healthRequest(), { VIVA_PROVIDER_ID: '', GRAPH_TOKEN: 'tok-should-not-leak', GRAPH_BASE_URL: 'https://graph.microsoft.com' });
    expect(broken).toMatchObject({ status: 503 });
    expect(broken.body).toEqual({ status: 'failing', lastSuccessAgeSeconds: null });
    expect(broken.logs.join('\n')).toContain('VIVA_PROVIDER_ID');
    expect(broken.logs.join('\n')).not.toContain('tok-should-not-leak');
    expect(await invoke(h, health, healthRequest('POST'))).toMatchObject({ status: 405, headers: { Allow: 'GET' } });
    expect(await invoke(h, health, healthRequest('GET', '?maxAgeMinutes=0'))).toMatchObject({ status: 400 });
  });

  it('answers 503 failing when the state tables cannot be reached', async () => {
    const h = await newHarness();
    const unreachable = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;';
    // The core endpoint the function calls, with a short storage timeout to keep the test fast.
    const logs: string[] = [];
    const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const result = await healthEndpoint(healthRequest(), { logger, env: { ...h.env, AzureWebJobsStorage: unreachable }, cwd: h.dir, healthStorageTimeoutMs: 500, healthCacheMs: 0 });
    expect(result).toMatchObject({ status: 503, jsonBody: { status: 'failing', lastSuccessAgeSeconds: null } });
    expect(logs).toContain('Health check: the state tables could not be read');
    const report = await statusEndpoint(healthRequest(), { logger, env: { ...h.env, AzureWebJobsStorage: unreachable }, cwd: h.dir, healthStorageTimeoutMs: 500 });
    expect(report).toMatchObject({ status: 200, jsonBody: { status: 'failing', storage: { ok: false } } });
    expect(JSON.stringify(report.jsonBody)).not.toContain('AccountKey');
  });
});

describe('GET /api/status', () => {
  it('reports runs with counts, dead letters by reason, cursor, lease and webhook, without secrets', async () => {
    const h = await newHarness();
    h.writeExport([
      anEnrollment({ enrollmentId: 's1', learner: ada }),
      anEnrollment({ enrollmentId: 's2', learner: { upn: 'former.x@contoso.example', email: 'former.x@contoso.example' } }),
      anEnrollment({ enrollmentId: 's3', learner: { upn: 'former.y@contoso.example', email: 'former.y@contoso.example' } }),
    ]);
    const before = await invoke(h, status, healthRequest());
    expect(before).toMatchObject({ status: 200, body: { status: 'degraded', problems: ['no sync pass has run yet'], config: { ok: true }, storage: { ok: true }, lastRun: null, webhook: { configured: true } } });
    await scheduled(h);
    const after = await invoke(h, status, healthRequest());
    expect(after).toMatchObject({ status: 200, headers: { 'Cache-Control': 'no-store' } });
    expect(after.body).toMatchObject({
      status: 'ok',
      problems: [],
      lastRun: { trigger: 'timer', status: 'succeeded' },
      lastSuccess: { trigger: 'timer', status: 'succeeded' },
      pending: { count: 0 },
      runLease: { held: false, owner: null },
      cursor: { ledgerComplete: true },
      quarantine: { active: false },
    });
    const runs = after.body['runs'] as { trigger: string; counts: { read: number; created: number; failed: number } }[];
    expect(runs[0]).toMatchObject({ trigger: 'timer', counts: { read: 3, created: 1, failed: 2 } });
    const deadLetters = after.body['deadLetters'] as { count: number; byReason: { reason: string; count: number }[]; complete: boolean };
    expect(deadLetters.count).toBe(2);
    expect(deadLetters.complete).toBe(true);
    expect(deadLetters.byReason.reduce((n, g) => n + g.count, 0)).toBe(2);
    const text = JSON.stringify(after.body) + JSON.stringify(before.body);
    for (const secret of [SECRET.slice(6), h.env.GRAPH_TOKEN ?? 'none', 'AccountKey', 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq']) expect(text).not.toContain(secret);
  });

  it('names bad settings (never their values) and answers 405 for a wrong method', async () => {
    const h = await newHarness();
    const broken = await invoke(h, status, healthRequest(), { VIVA_PROVIDER_ID: '', GRAPH_TOKEN: 'tok-should-not-leak', GRAPH_BASE_URL: 'https://graph.microsoft.com' });
    expect(broken).toMatchObject({ status: 200, body: { status: 'failing', config: { ok: false, invalidSettings: ['VIVA_PROVIDER_ID', 'GRAPH_AUTH'] } } });
    expect(JSON.stringify(broken.body)).not.toContain('tok-should-not-leak');
    expect(await invoke(h, status, healthRequest('POST'))).toMatchObject({ status: 405, headers: { Allow: 'GET' } });
  });
});

describe('over real HTTP', () => {
  /** A tiny host: node:http in front of the function handlers, as the Functions host would route them. */
  async function serve(h: SyncHarness): Promise<{ url: string; server: Server }> {
    const routes: [RegExp, Handler][] = [
      [/^\/api\/lms\/webhook$/, lmsWebhook],
      [/^\/api\/resync(?:\/(?<runId>[^/]+))?$/, resync],
      [/^\/api\/health$/, health],
      [/^\/api\/status$/, status],
    ];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const url = new URL(req.url ?? '/', 'http://localhost');
          const route = routes.find(([re]) => re.test(url.pathname));
          if (route === undefined) {
            res.writeHead(404).end();
            return;
          }
          const runId = route[0].exec(url.pathname)?.groups?.['runId'];
          const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
          const body = Buffer.concat(chunks);
          const request = new func.HttpRequest({ method: req.method ?? 'GET', url: url.href, headers, ...(runId !== undefined ? { params: { runId } } : {}), ...(body.length > 0 ? { body: { bytes: body } } : {}) });
          const result = await invoke(h, route[1], request);
          res.writeHead(result.status, { 'content-type': 'application/json', ...result.headers }).end(JSON.stringify(result.body));
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  it('serves a signed webhook made by `viva-sync webhook sign`, health and a re-sync', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'x1', learner: ada })]);
    const { url, server } = await serve(h);
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: h.env, cwd: h.dir };
      expect(await runCli(['webhook', 'sign', '--enrollment', 'x1', '--url', `${url}/api/lms/webhook`, '--json'], io)).toBe(0);
      const signed = JSON.parse(out.join('')) as { method: string; url: string; headers: Record<string, string>; body: string };
      expect(out.join('') + err.join('')).not.toContain(SECRET.slice(6));

      const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: signed.body });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'processed', enrollmentId: 'x1', outcome: 'created' });
      const replay = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: signed.body });
      expect(await replay.json()).toMatchObject({ duplicate: true });
      const tampered = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body.replace('x1', 'x2') });
      expect(tampered.status).toBe(401);
      expect((await fetch(`${url}/api/lms/webhook`)).status).toBe(405);

      const healthResponse = await fetch(`${url}/api/health`);
      expect(healthResponse.status).toBe(200);
      expect(Object.keys((await healthResponse.json()) as object).sort()).toEqual(['lastSuccessAgeSeconds', 'status']);
      const statusResponse = await fetch(`${url}/api/status`);
      expect(await statusResponse.json()).toMatchObject({ webhook: { configured: true }, runs: expect.any(Array) });
      const resynced = await fetch(`${url}/api/resync`, { method: 'POST', body: JSON.stringify({ enrollment: 'x1' }) });
      expect(await resynced.json()).toMatchObject({ status: 'succeeded', matched: 1, forced: 1 });
      const all = await fetch(`${url}/api/resync`, { method: 'POST', body: JSON.stringify({ all: true }) });
      expect(all.status).toBe(202);
      const progress = await fetch(`${url}${all.headers.get('location') ?? ''}`);
      expect(await progress.json()).toMatchObject({ status: 'running' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('viva-sync resync and webhook sign', () => {
  function cliIo(h: SyncHarness) {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: h.env, cwd: h.dir } };
  }

  it('re-syncs inline, requests all, and `sync` carries the request out and drains queued records', async () => {
    const h = await newHarness();
    h.writeExport([anEnrollment({ enrollmentId: 'k1', learner: ada }), anEnrollment({ enrollmentId: 'k2', learner: alan })]);
    await h.run();
    const one = cliIo(h);
    expect(await runCli(['resync', '--learner', ada.upn, '--json'], one.io)).toBe(0);
    expect(JSON.parse(one.out.join(''))).toMatchObject({ kind: 'done', matched: 1, forced: 1, summary: { counts: { updated: 1 } } });

    const usage = cliIo(h);
    expect(await runCli(['resync', '--learner', 'a', '--course', 'b'], usage.io)).toBe(2);
    expect(usage.err.join('')).toContain('name exactly one of --learner, --course, --enrollment or --all');
    expect(await runCli(['resync', '--enrollment', 'nope'], cliIo(h).io)).toBe(1);

    const all = cliIo(h);
    expect(await runCli(['resync', '--all', '--since', '2026-10-01', '--json'], all.io)).toBe(0);
    const request = JSON.parse(all.out.join('')) as { runId: string; applied: boolean };
    expect(request.applied).toBe(true);

    // A webhook queued while a run held the lease waits in the pending table …
    const state = await h.state();
    const lease = await state.lease.tryAcquire('a-long-run', 60_000);
    const queued = await invoke(h, lmsWebhook, webhookRequest({ enrollmentId: 'k2', status: 'completed' }));
    expect(queued.status).toBe(202);
    await lease?.release();
    h.writeExport([anEnrollment({ enrollmentId: 'k1', learner: ada }), anEnrollment({ enrollmentId: 'k2', learner: alan, status: 'completed', progressPercent: 100, completedAt: '2026-11-05T00:00:00Z', updatedAt: '2026-11-05T00:00:00Z' })]);
    // … and `viva-sync sync` carries out the re-sync request and drains the queue.
    const synced = cliIo(h);
    expect(await runCli(['sync', '--json'], synced.io)).toBe(0);
    const status = await invoke(h, resync, resyncRequest('GET', undefined, request.runId));
    expect(status.body).toMatchObject({ status: 'succeeded', finished: true });
    expect(await (await httpState(h)).pending.countRecords()).toBe(0);
    expect(h.standIn.activities().find((a) => a.externalCourseActivityId === 'k2')).toMatchObject({ status: 'completed' });
  });

  it('prints a curl command with the signature headers, and refuses without a secret', async () => {
    const h = await newHarness();
    const ok = cliIo(h);
    expect(await runCli(['webhook', 'sign', '--body', '{"enrollmentId":"it\'s-1"}', '--id', 'msg_fixed', '--timestamp', '1700000000'], ok.io)).toBe(0);
    const curl = ok.out.join('');
    expect(curl).toContain("curl -i -X POST 'http://localhost:7071/api/lms/webhook'");
    expect(curl).toContain("-H 'webhook-id: msg_fixed'");
    expect(curl).toContain("-H 'webhook-timestamp: 1700000000'");
    expect(curl).toMatch(/-H 'webhook-signature: v1,[A-Za-z0-9+/=]+'/);
    expect(curl).toContain(`--data-raw '{"enrollmentId":"it'\\''s-1"}'`);
    const none = cliIo(h);
    expect(await runCli(['webhook', 'sign', '--enrollment', 'e'], { ...none.io, env: { ...h.env, WEBHOOK_SECRET: '' } })).toBe(2);
    expect(none.err.join('')).toContain('WEBHOOK_SECRET is required');
    expect(await runCli(['webhook', 'sign', '--body', '[]'], cliIo(h).io)).toBe(2);
    expect(await runCli(['webhook', 'verify'], cliIo(h).io)).toBe(2);
  });
});
