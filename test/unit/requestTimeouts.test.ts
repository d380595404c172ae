import { describe, expect, it } from 'vitest';
import { RequestTimeouts } from '../../src/graph/requestTimeouts.js';

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
}

describe('RequestTimeouts', () => {
  it('gives the requests of one second one signal, and another second another', () => {
    let now = 5_000;
    const timeouts = new RequestTimeouts(60_000, () => now);
    const a = timeouts.signal(undefined);
    now = 5_999;
    expect(timeouts.signal(undefined)).toBe(a);
    now = 6_000;
    expect(timeouts.signal(undefined)).not.toBe(a);
  });

  it('aborts with a TimeoutError no earlier than the timeout after the request started', async () => {
    const timeouts = new RequestTimeouts(100, Date.now, 50);
    const started = Date.now();
    const signal = timeouts.signal(undefined);
    const reason = await aborted(signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(99);
    expect(reason).toBeInstanceOf(DOMException);
    expect((reason as DOMException).name).toBe('TimeoutError');
  });

  it("passes the run's abort on at once, with the run's reason", async () => {
    const timeouts = new RequestTimeouts(60_000);
    const run = new AbortController();
    const signal = timeouts.signal(run.signal);
    expect(timeouts.signal(new AbortController().signal)).not.toBe(signal);
    const reason = new Error('cancelled');
    run.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('many requests of one second listen to one signal without a listener warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const timeouts = new RequestTimeouts(60_000);
    const signal = timeouts.signal(undefined);
    for (let i = 0; i < 50; i += 1) signal.addEventListener('abort', () => undefined);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
