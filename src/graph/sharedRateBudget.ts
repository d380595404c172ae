import { randomBytes } from 'node:crypto';
import type { TableSharedRateStore } from '../state/sharedRateStore.js';
import type { RequestScheduler, SchedulerSnapshot } from './requestScheduler.js';

export interface SharedRateBudgetOptions {
  readonly store: TableSharedRateStore;
  /** GRAPH_MAX_RPS: the ceiling for all workers together (undefined: none until Graph throttles). */
  readonly maxRequestsPerSecond?: number;
  /** How often a worker reads the shared state (default 1 s). */
  readonly intervalMs?: number;
  readonly workerId?: string;
  /** Told when a read or write of the shared state fails (the worker goes on with what it knows). */
  readonly onError?: (err: unknown) => void;
}

/** At a 429 the shared rate drops by this factor, at most once per second for all workers… */
const DECREASE_FACTOR = 0.9;
const DECREASE_INTERVAL_MS = 1_000;
/** …and climbs back by this share per second without one, split among the workers. */
const INCREASE_SHARE_PER_SECOND = 0.02;

/**
 * One Graph rate budget for every worker (queue mode): the rate and the Retry-After pause live in
 * Table Storage (`TableSharedRateStore`, ETag-guarded), so that a 429 seen by one worker slows all
 * of them. Each worker's `RequestScheduler` publishes its throttling reactions here and, every
 * interval, adopts its share: the shared rate divided by the workers alive.
 */
export class SharedRateBudget {
  readonly workerId: string;
  private timer: NodeJS.Timeout | undefined;
  private scheduler: RequestScheduler | undefined;
  private workers = 1;
  private lastTick = Date.now();
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SharedRateBudgetOptions) {
    this.workerId = options.workerId ?? `w-${randomBytes(6).toString('hex')}`;
  }

  /** For `RequestSchedulerOptions.onThrottleReaction`. */
  readonly onThrottleReaction = (local: SchedulerSnapshot): void => {
    this.pending = this.pending.then(() => this.publishThrottle(local)).catch((err: unknown) => this.options.onError?.(err));
  };

  /** Joins the budget: reads the shared state once before the first request, then every interval. */
  async start(scheduler: RequestScheduler): Promise<void> {
    this.scheduler = scheduler;
    await this.tick(false);
    this.timer = setInterval(() => {
      this.tick(true).catch((err: unknown) => this.options.onError?.(err));
    }, this.options.intervalMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
    await this.options.store.leave(this.workerId).catch(() => undefined);
  }

  private async publishThrottle(local: SchedulerSnapshot): Promise<void> {
    const now = Date.now();
    const shared = await this.options.store.update((current) => {
      let rate = current.rate;
      if (now - current.lastDecrease >= DECREASE_INTERVAL_MS) {
        // Unknown so far: this worker's learned rate, times the workers, is the first estimate.
        rate = Number.isFinite(rate) ? Math.max(1, rate * DECREASE_FACTOR) : Number.isFinite(local.requestsPerSecond) ? local.requestsPerSecond * this.workers : rate;
      }
      return { rate, pausedUntil: Math.max(current.pausedUntil, local.pausedUntil), lastDecrease: rate !== current.rate ? now : current.lastDecrease };
    });
    this.adopt(shared.rate, shared.pausedUntil);
  }

  private async tick(increase: boolean): Promise<void> {
    const interval = this.options.intervalMs ?? 1_000;
    this.workers = await this.options.store.heartbeat(this.workerId, interval * 3);
    const now = Date.now();
    const seconds = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const max = this.options.maxRequestsPerSecond ?? Infinity;
    let shared = await this.options.store.get();
    if (!Number.isFinite(shared.rate) && Number.isFinite(max)) shared = await this.options.store.update((c) => (Number.isFinite(c.rate) ? c : { ...c, rate: max }));
    else if (increase && Number.isFinite(shared.rate) && shared.rate < max && now - shared.lastDecrease >= DECREASE_INTERVAL_MS) {
      // Additive increase, each worker its share, so that all of them together climb 2% a second.
      const step = (Math.max(1, shared.rate * INCREASE_SHARE_PER_SECOND) * seconds) / this.workers;
      shared = await this.options.store.update((c) => (Number.isFinite(c.rate) && now - c.lastDecrease >= DECREASE_INTERVAL_MS ? { ...c, rate: Math.min(max, c.rate + step) } : c));
    }
    this.adopt(shared.rate, shared.pausedUntil);
  }

  private adopt(rate: number, pausedUntil: number): void {
    this.scheduler?.adopt({ requestsPerSecond: Number.isFinite(rate) ? rate / this.workers : Infinity, pausedUntil });
  }
}
