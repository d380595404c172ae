import pLimit, { type LimitFunction } from 'p-limit';

export interface RequestSchedulerOptions {
  readonly maxConcurrency: number;
  /** Injectable clock and sleep, for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Bounds the requests in flight (one p-limit per gateway, STYLE.md §6) and holds every new
 * request while a throttling signal is in force: Graph throttles per app and tenant, so a
 * Retry-After seen by one request applies to all of them.
 */
export class RequestScheduler {
  private readonly limit: LimitFunction;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private pausedUntil = 0;

  constructor(options: RequestSchedulerOptions) {
    this.limit = pLimit(options.maxConcurrency);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
  }

  get concurrency(): number {
    return this.limit.concurrency;
  }

  /** No request starts before `until` (epoch ms). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  get pausedUntilMs(): number {
    return this.pausedUntil;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.limit(async () => {
      for (let wait = this.pausedUntil - this.now(); wait > 0; wait = this.pausedUntil - this.now()) {
        await this.sleep(wait, signal);
      }
      signal?.throwIfAborted();
      return task();
    });
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
