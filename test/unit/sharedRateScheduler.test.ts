import { describe, expect, it } from 'vitest';
import { RequestScheduler, type SchedulerSnapshot } from '../../src/graph/requestScheduler.js';

/** A clock that only moves when someone sleeps. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('RequestScheduler under a shared rate budget', () => {
  it('adopts a shared rate (never above its ceiling) and extends its pause', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 4, maxRequestsPerSecond: 50, now: time.now, sleep: time.sleep });
    s.adopt({ requestsPerSecond: 10, pausedUntil: time.now() + 3_000 });
    expect(s.snapshot()).toMatchObject({ requestsPerSecond: 10, pausedUntil: 1_003_000 });
    s.adopt({ requestsPerSecond: 500, pausedUntil: 0 });
    expect(s.snapshot()).toMatchObject({ requestsPerSecond: 50, pausedUntil: 1_003_000 });
    const started: number[] = [];
    await s.run(async () => started.push(time.now()));
    expect(started[0]).toBeGreaterThanOrEqual(1_003_000);
  });

  it('keeps half a second of burst, and leaves raising the rate to the budget', async () => {
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 64, maxRequestsPerSecond: 100, now: time.now, sleep: time.sleep });
    s.adopt({ requestsPerSecond: 20, pausedUntil: 0 });
    const started: number[] = [];
    await Promise.all(Array.from({ length: 40 }, () => s.run(async () => started.push(time.now()))));
    // 10 at once (half a second of 20/s), the other 30 spaced at 20/s.
    expect(started.filter((t) => t === 1_000_000).length).toBeLessThanOrEqual(10);
    expect(Math.max(...started) - 1_000_000).toBeGreaterThanOrEqual(1_400);
    for (let i = 0; i < 50; i += 1) s.onAccepted();
    expect(s.snapshot().requestsPerSecond).toBe(20);
  });

  it('reports each reaction to throttling, for the budget to publish', () => {
    const reactions: SchedulerSnapshot[] = [];
    const time = fakeTime();
    const s = new RequestScheduler({ maxConcurrency: 4, maxRequestsPerSecond: 10, now: time.now, sleep: time.sleep, onThrottleReaction: (r) => reactions.push(r) });
    s.onThrottled(1_500);
    expect(reactions).toHaveLength(1);
    expect(reactions[0]?.pausedUntil).toBe(1_001_500);
  });
});
