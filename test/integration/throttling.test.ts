import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { anEnrollment, aSelfInitiatedEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
let proxy: Server | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  await new Promise<void>((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
  proxy = undefined;
});

function exportOf(n: number): Enrollment[] {
  return Array.from({ length: n }, (_, i) => {
    const common = { enrollmentId: `e-${i}`, learner: { id: `u${i % 9}`, upn: `l${i % 9}@contoso.example` }, course: { id: `c-${i % 4}` }, updatedAt: `2026-11-01T10:${String(i % 60).padStart(2, '0')}:${String(Math.floor(i / 60)).padStart(2, '0')}.000Z` };
    return i % 4 === 0 ? aSelfInitiatedEnrollment(common) : anEnrollment(common);
  });
}

function expectExact(h: SyncHarness, records: readonly Enrollment[]): void {
  const byId = h.activitiesByExternalId();
  expect(byId.size).toBe(records.length);
  for (const r of records) {
    expect(byId.get(r.enrollmentId), r.enrollmentId).toHaveLength(1);
    expect(byId.get(r.enrollmentId)?.[0]?.status).toBe(r.status);
  }
}

/** Runs until a run succeeds with nothing dead-lettered; returns how many runs it took. */
async function syncUntilDone(h: SyncHarness, env: Record<string, string> = {}, maxRuns = 6): Promise<number> {
  for (let run = 1; run <= maxRuns; run += 1) {
    const summary = await h.run({}, env);
    if (summary.status === 'succeeded' && summary.counts.failed === 0) return run;
  }
  return Infinity;
}

describe('at Graph\'s limits', () => {
  it('sends nothing to Graph before a Retry-After has passed, for any request', async () => {
    harness = await SyncHarness.create({ faults: { seed: 3, throttleRate: 0.05, retryAfterSeconds: 1, retryAfterStyle: 'header' } });
    const records = exportOf(20);
    harness.writeExport(records);
    expect(await syncUntilDone(harness)).toBeLessThanOrEqual(2);
    const log = harness.standIn.requests();
    const throttled = log.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const refusal of throttled) {
      // Requests already on their way when the 429 was sent may still be logged a moment later
      // (client and stand-in share one event loop here, which lags under load).
      const early = log.filter((r) => r.at > refusal.at + 250 && r.at < refusal.at + 1_000);
      expect(early, `requests within the Retry-After of the 429 at ${refusal.at}`).toEqual([]);
    }
    expectExact(harness, records);
  });

  it('understands "Retry after N minutes" in the body when there is no header', async () => {
    let refused = false;
    harness = await SyncHarness.create({
      faults: { retryAfterSeconds: 1, retryAfterStyle: 'body-minutes', decide: ({ index }) => (index === 3 && !refused ? ((refused = true), 'throttle') : undefined) },
    });
    harness.writeExport(exportOf(3));
    // A one-minute wait does not fit a five-second budget: the run stops partial instead of sleeping.
    const summary = await harness.run({}, { SYNC_TIME_BUDGET_SECONDS: '5' });
    expect(summary.status).toBe('partial');
    expect(summary.durationMs).toBeLessThan(5_000);
    harness.standIn.setOptions({ faults: {} });
    expect(await syncUntilDone(harness, { SYNC_TIME_BUDGET_SECONDS: '0' })).toBe(1);
    expectExact(harness, exportOf(3).map((r, i) => ({ ...r, enrollmentId: `e-${i}` })));
  });

  it('stays within a rate limit, drawing few 429s', async () => {
    harness = await SyncHarness.create({ rateLimit: { requestsPerSecond: 40, burst: 40 } });
    const records = exportOf(60);
    harness.writeExport(records);
    expect(await syncUntilDone(harness)).toBe(1);
    const stats = harness.standIn.stats();
    expect(stats.throttled / stats.total).toBeLessThan(0.2);
    expectExact(harness, records);
  });

  it('sends a request that would be alone in its envelope as a plain request', async () => {
    harness = await SyncHarness.create();
    const records = exportOf(1);
    harness.writeExport(records);
    expect(await syncUntilDone(harness, { GRAPH_BATCH_SIZE: '20' })).toBe(1);
    // The create follows its lookup, and nothing else is in flight then.
    const creates = harness.standIn.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/learningCourseActivities'));
    expect(creates).toHaveLength(1);
    expect(creates[0]?.batched).toBe(false);
    expectExact(harness, records);
  });

  it('batches requests into $batch envelopes, retrying a throttled item alone', async () => {
    harness = await SyncHarness.create({ faults: { seed: 11, throttleRate: 0.08, retryAfterSeconds: 1, retryAfterStyle: 'header' } });
    const records = exportOf(50);
    harness.writeExport(records);
    expect(await syncUntilDone(harness, { GRAPH_BATCH_SIZE: '20' })).toBeLessThanOrEqual(2);
    const log = harness.standIn.requests();
    const envelopes = log.filter((r) => r.path.endsWith('/$batch'));
    const items = log.filter((r) => r.batched);
    expect(envelopes.length).toBeGreaterThan(0);
    expect(items.length).toBeGreaterThan(envelopes.length * 2);
    expect(items.some((r) => r.status === 429)).toBe(true);
    expectExact(harness, records);
  });

  it('abandons a request Graph never answers after GRAPH_REQUEST_TIMEOUT_SECONDS, and retries it', async () => {
    let hung = 0;
    harness = await SyncHarness.create({ faults: { decide: ({ method }) => (method === 'POST' && hung++ === 0 ? 'hang' : undefined) } });
    const records = exportOf(3);
    harness.writeExport(records);
    const summary = await harness.run({}, { GRAPH_REQUEST_TIMEOUT_SECONDS: '1' });
    expect(summary.status).toBe('succeeded');
    expect(summary.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(summary.graph?.retries).toBeGreaterThanOrEqual(1);
    expectExact(harness, records);
  });

  it('survives connection resets, 500s, lost responses and a Graph restart mid-run', async () => {
    harness = await SyncHarness.create({
      faults: {
        seed: 5,
        resetRate: 0.03,
        serverErrorRate: 0.05,
        decide: ({ index, method }) => (method === 'POST' && index % 17 === 0 ? 'lostResponse' : undefined),
      },
    });
    const records = exportOf(40);
    harness.writeExport(records);
    const port = harness.standIn.port;
    const restart = setTimeout(() => {
      void harness?.standIn.stop().then(() => harness?.standIn.start(port));
    }, 300);
    const runs = await syncUntilDone(harness, { GRAPH_REQUEST_TIMEOUT_SECONDS: '2' });
    clearTimeout(restart);
    expect(runs).toBeLessThanOrEqual(3);
    expectExact(harness, records);
  });

  it('ends a record Graph keeps refusing as a dead letter with its last error, after bounded attempts across runs', async () => {
    harness = await SyncHarness.create();
    harness.writeExport(exportOf(3));
    // Graph refuses this learner's activities (no Viva Learning licence) on every run.
    harness.standIn.addUser({ id: harness.userId('l1@contoso.example'), userPrincipalName: 'l1@contoso.example', licensed: false });
    for (let i = 0; i < 7; i += 1) await harness.run();
    const letter = await (await harness.state()).deadLetters.get('e-1');
    expect(letter).toMatchObject({ kind: 'write', statusCode: 403, attempts: 5, retryable: false });
    expect(letter?.reason).toContain('license');
    expect(harness.activitiesByExternalId().size).toBe(2);
  });

  it('dead-letters a write that fails with 500 after the retries of one run', async () => {
    harness = await SyncHarness.create({
      faults: { decide: ({ method, body }) => (method === 'POST' && (body as { externalCourseActivityId?: string } | null)?.externalCourseActivityId === 'e-1' ? 'serverError' : undefined) },
    });
    harness.writeExport(exportOf(3));
    const summary = await harness.run();
    expect(summary.counts).toMatchObject({ created: 2, failed: 1 });
    expect(await (await harness.state()).deadLetters.get('e-1')).toMatchObject({ statusCode: 500, attempts: 1, retryable: true });
  });

  it('rides out Table Storage answering 503 for a moment', async () => {
    // A proxy in front of Azurite that answers 503 ServerBusy for the first requests.
    const target = new URL(/TableEndpoint=([^;]+)/.exec(inject('azuriteConnectionString'))?.[1] ?? '');
    let busy = 6;
    proxy = createServer((req, res) => {
      if (busy > 0) {
        busy -= 1;
        res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ 'odata.error': { code: 'ServerBusy', message: { value: 'The server is busy.' } } }));
        return;
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyPort = typeof address === 'object' && address !== null ? address.port : 0;
    harness = await SyncHarness.create();
    harness.env.AzureWebJobsStorage = inject('azuriteConnectionString').replace(/TableEndpoint=[^;]+/, `TableEndpoint=http://127.0.0.1:${proxyPort}/devstoreaccount1`);
    const records = exportOf(10);
    harness.writeExport(records);
    expect(await syncUntilDone(harness)).toBe(1);
    expect(busy).toBe(0);
    expectExact(harness, records);
  });
});
