import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { RequestScheduler } from '../../src/graph/requestScheduler.js';
import { SharedRateBudget } from '../../src/graph/sharedRateBudget.js';
import { createSharedRateStore } from '../../src/state/sharedRateStore.js';
import { silentLogger } from '../../src/sync/logger.js';
import { openWorker, type QueueWorker } from '../../src/sync/queue/openQueue.js';
import { testConnection } from '../support/state.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
const workers: QueueWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await harness?.close();
  harness = undefined;
});

const LIMIT = 40;

/** n workers (each its own scheduler, as separate instances would have) hammering Graph for `ms`. */
async function hammer(h: SyncHarness, n: number, ms: number): Promise<{ accepted: number; throttled: number; seconds: number }> {
  const env = { ...h.env, SYNC_MODE: 'queue', SYNC_QUEUE_NAME: `q${randomBytes(6).toString('hex')}`, GRAPH_MAX_RPS: String(LIMIT), GRAPH_MAX_CONCURRENCY: '8' };
  const config = loadConfig(env, { cwd: h.dir });
  const opened = await Promise.all(Array.from({ length: n }, () => openWorker(config, { logger: silentLogger })));
  workers.push(...opened);
  // Let every worker see the others (heartbeats) before measuring.
  await new Promise((r) => setTimeout(r, 1_200));
  h.standIn.resetStats();
  const warmUp = 1_000;
  const start = Date.now();
  const end = start + warmUp + ms;
  await Promise.all(
    opened.flatMap((w) =>
      Array.from({ length: 8 }, async () => {
        while (Date.now() < end) await w.deps.gateway.findUser({ match: 'userPrincipalName', value: 'p1@contoso.example' }).catch(() => undefined);
      }),
    ),
  );
  const window = h.standIn.requests().filter((r) => r.at >= start + warmUp && r.at < end);
  return { accepted: window.filter((r) => r.status === 200).length, throttled: window.filter((r) => r.status === 429).length, seconds: ms / 1000 };
}

describe('one Graph rate budget for all queue workers', () => {
  it.each([2, 4])('%i concurrent workers together stay within the limit and use at least 90% of it', async (n) => {
    harness = await SyncHarness.create({ rateLimit: { requestsPerSecond: LIMIT }, faults: { retryAfterStyle: 'none' } });
    harness.standIn.addUser({ id: harness.userId('p1@contoso.example'), userPrincipalName: 'p1@contoso.example' });
    const { accepted, throttled, seconds } = await hammer(harness, n, 3_000);
    const limit = LIMIT * seconds;
    expect(accepted / limit, `${accepted} accepted of ${limit}`).toBeGreaterThanOrEqual(0.9);
    // The stand-in's bucket may lend a little on top of its rate; the workers never send a multiple.
    expect(accepted).toBeLessThanOrEqual(limit * 1.05 + LIMIT);
    expect(throttled, `${throttled} throttled`).toBeLessThanOrEqual(accepted * 0.05);
  });

  it('a 429 seen by one worker slows the others', async () => {
    const store = await createSharedRateStore({ connection: testConnection(), tablePrefix: `r${randomBytes(6).toString('hex')}` });
    const b = new RequestScheduler({ maxConcurrency: 4, maxRequestsPerSecond: 100 });
    const budgetA = new SharedRateBudget({ store, maxRequestsPerSecond: 100, intervalMs: 200 });
    const budgetB = new SharedRateBudget({ store, maxRequestsPerSecond: 100, intervalMs: 200 });
    const a = new RequestScheduler({ maxConcurrency: 4, maxRequestsPerSecond: 100, onThrottleReaction: budgetA.onThrottleReaction });
    await budgetA.start(a);
    await budgetB.start(b);
    await new Promise((r) => setTimeout(r, 500));
    expect(b.snapshot().requestsPerSecond).toBeCloseTo(50, 0);
    // A sends near its rate, then is told to wait 2 s.
    for (let i = 0; i < 60; i += 1) await a.run(() => Promise.resolve());
    a.onThrottled(2_000);
    await new Promise((r) => setTimeout(r, 500));
    const shared = await store.get();
    expect(shared.rate).toBeLessThan(100);
    expect(b.snapshot().requestsPerSecond).toBeLessThan(50);
    expect(b.snapshot().pausedUntil).toBeGreaterThan(Date.now() + 500);
    await budgetA.stop();
    await budgetB.stop();
  });
});
