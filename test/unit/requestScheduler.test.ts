import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../../src/graph/errors.js';
import { RequestScheduler } from '../../src/graph/requestScheduler.js';

/** A clock that only moves when someone sleeps. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('RequestScheduler', () => {
  it('holds every request while a Retry-After is in force', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 4, now: time.now, sleep: time.sleep });
    s.onThrottled(2_000);
    const started: number[] = [];
    await Promise.all([1, 2, 3].map(() => s.run(async () => started.push(time.now()))));
    expect(Math.min(...started)).toBeGreaterThanOrEqual(1_002_000);
  });

  it('spaces requests to the configured rate, after a one-second burst', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 1, maxRequestsPerSecond: 10, now: time.now, sleep: time.sleep });
    const start = time.now();
    for (let i = 0; i < 30; i += 1) await s.run(async () => undefined);
    // 10 from the initial bucket, then 20 at 10 per second.
    expect(time.now() - start).toBeGreaterThanOrEqual(1_900);
    expect(time.now() - start).toBeLessThanOrEqual(2_100);
  });

  it('starts from half of what it sent when the first 429 comes, then backs off 10% per 429 and climbs 2% a second', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 8, now: time.now, sleep: time.sleep });
    expect(s.snapshot().requestsPerSecond).toBe(Infinity);
    // 50 requests in the last second, then a refusal.
    for (let i = 0; i < 50; i += 1) {
      await s.run(async () => undefined);
      await time.sleep(20);
    }
    s.onThrottled(1_000);
    expect(s.snapshot().requestsPerSecond).toBe(25);
    expect(s.snapshot().concurrency).toBe(7);
    for (let i = 0; i < 10; i += 1) {
      await time.sleep(1_000);
      s.onAccepted();
    }
    // 1 a second (2% of 25 is less than 1).
    expect(s.snapshot().requestsPerSecond).toBe(35);
  });

  it('reacts once to a volley of 429s, and not at all to its rate when it was mostly idle', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 16, maxRequestsPerSecond: 100, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 80; i += 1) await s.run(async () => undefined);
    for (let i = 0; i < 8; i += 1) s.onThrottled(1_000);
    expect(s.snapshot().requestsPerSecond).toBe(90);
    expect(s.snapshot().concurrency).toBe(15);
    await time.sleep(5_000);
    await s.run(async () => undefined);
    s.onThrottled(1_000);
    expect(s.snapshot().requestsPerSecond).toBe(90);
  });

  it('never starts a wait that would end past the deadline', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 1, now: time.now, sleep: time.sleep, deadline: 1_000_000 + 5_000 });
    s.onThrottled(60_000);
    await expect(s.run(async () => 'x')).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(time.slept).toEqual([]);
  });

  describe('latency-aware concurrency (GRAPH_MAX_CONCURRENCY unset)', () => {
    /** `total` requests of `latencyMs` each, all queued at once; finishes them in order, one clock step apart. */
    async function drive(s: RequestScheduler, time: { advance: (ms: number) => void }, total: number, latencyMs: number, between?: (done: number) => void): Promise<number[]> {
      const releases: (() => void)[] = [];
      const seen: number[] = [];
      const runs = Array.from({ length: total }, () => s.run(() => new Promise<void>((resolve) => releases.push(resolve))).then(() => s.onAccepted()));
      for (let done = 0; done < total; done += 1) {
        await new Promise((r) => setImmediate(r));
        between?.(done);
        // The oldest request in flight answers; requests start in order, so each took about latencyMs.
        time.advance(latencyMs / s.snapshot().concurrency);
        releases.shift()?.();
        seen.push(s.snapshot().concurrency);
      }
      await Promise.all(runs);
      return seen;
    }

    function manualClock(): { now: () => number; advance: (ms: number) => void; sleep: (ms: number) => Promise<void> } {
      let t = 1_000_000;
      return { now: () => t, advance: (ms) => (t += ms), sleep: async (ms) => void (t += ms) };
    }

    it('grows from its start while requests queue for a slot and nothing is throttled', async () => {
      const time = manualClock();
      const s = new RequestScheduler({ maxConcurrency: 64, initialConcurrency: 8, now: time.now, sleep: time.sleep });
      const seen = await drive(s, time, 400, 150);
      expect(seen[0]).toBe(8);
      expect(Math.max(...seen)).toBeGreaterThanOrEqual(30);
      expect(Math.max(...seen)).toBeLessThanOrEqual(64);
    });

    it('does not grow where 8 in flight already carry 200 requests a second (10 ms)', async () => {
      const time = manualClock();
      const s = new RequestScheduler({ maxConcurrency: 64, initialConcurrency: 8, now: time.now, sleep: time.sleep });
      expect(Math.max(...(await drive(s, time, 300, 10)))).toBe(8);
    });

    it('a set GRAPH_MAX_CONCURRENCY is never exceeded', async () => {
      const time = manualClock();
      const s = new RequestScheduler({ maxConcurrency: 8, now: time.now, sleep: time.sleep });
      expect(Math.max(...(await drive(s, time, 200, 150)))).toBe(8);
    });

    it('does not grow for two seconds after a throttling signal', async () => {
      const time = manualClock();
      const s = new RequestScheduler({ maxConcurrency: 64, initialConcurrency: 4, now: time.now, sleep: time.sleep });
      // Throttled at once (too few sent to learn a rate from): one step down, then two calm seconds before it grows.
      const seen = await drive(s, time, 200, 150, (done) => {
        if (done === 0) s.onThrottled(undefined);
      });
      // 3 in flight at 150 ms: 20 answers a second.
      expect(seen.slice(0, 38).every((c) => c === 3)).toBe(true);
      expect(Math.max(...seen)).toBeGreaterThan(4);
    });
  });
});
