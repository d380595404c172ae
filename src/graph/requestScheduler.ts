import pLimit, { type LimitFunction } from 'p-limit';
import { BudgetExhaustedError } from './errors.js';

export interface RequestSchedulerOptions {
  /** Requests in flight at most (GRAPH_MAX_CONCURRENCY); throttling lowers it, successes raise it back. */
  readonly maxConcurrency: number;
  /**
   * Requests in flight at the start (default maxConcurrency). Below maxConcurrency, the limit grows
   * towards it while latency, not the service, is the bottleneck (GRAPH_MAX_CONCURRENCY unset).
   */
  readonly initialConcurrency?: number;
  /** Requests per second at most (GRAPH_MAX_RPS); undefined: no ceiling until the service says otherwise. */
  readonly maxRequestsPerSecond?: number;
  /** No request starts, and no wait is begun, that would end after this (epoch ms): the run's time budget. */
  readonly deadline?: number;
  /** Injectable clock and sleep, for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called after each reaction to throttling, with the new rate and pause (a shared rate budget publishes them). */
  readonly onThrottleReaction?: (state: SchedulerSnapshot) => void;
}

export interface SchedulerSnapshot {
  readonly concurrency: number;
  /** Current rate ceiling in requests per second (Infinity: none yet). */
  readonly requestsPerSecond: number;
  readonly pausedUntil: number;
  /** Average request duration so far, in ms (0 before the first). */
  readonly latencyMs?: number;
}

/** How long a burst the client may send after a quiet spell, in seconds of the current rate. */
const BURST_SECONDS = 1;
/** Under a shared budget every worker may burst at once, and the service's bucket holds one second for all: each keeps half. */
const SHARED_BURST_SECONDS = 0.5;
/**
 * The first 429 ends the free run: the rate starts from this share of what was sent in the last
 * second, since a service with a token bucket accepts up to two seconds' worth in the first one
 * (its burst and its refill); half of that is about its rate (TCP's slow-start exit does the same).
 */
const FIRST_DECREASE_FACTOR = 0.5;
/** At a later throttling signal the rate drops by this factor (multiplicative decrease)… */
const DECREASE_FACTOR = 0.9;
/** …and climbs back by this share per second without one (additive increase, at least 1 req/s). */
const INCREASE_SHARE_PER_SECOND = 0.02;
/** Responses already in flight when a 429 arrives say nothing new: react once per this long. */
const REACT_INTERVAL_MS = 1_000;
const SUCCESSES_PER_CONCURRENCY_STEP = 10;
/** Growing past what was needed before: no throttling, and no wait for the rate, for this long. */
const CALM_MS = 2_000;
/** With a learned rate, in flight at most this many times rate × latency (Little's law, with room for jitter). */
const LATENCY_HEADROOM = 1.5;
/**
 * Before a rate is learned, growth stops once the requests in flight could carry this many a second
 * at the measured latency: at 10 ms, 8 in flight already could, so only high latency makes it grow.
 */
const GROWTH_TARGET_PER_SECOND = 200;
/** Weight of the newest request in the latency average. */
const LATENCY_WEIGHT = 0.1;

/**
 * The gateway's traffic control (STYLE.md §6): one p-limit bounds the requests in flight, a
 * token bucket bounds the rate, and a shared pause holds every request while a Retry-After
 * is in force, because Graph throttles per app and tenant, not per request.
 *
 * The rate adapts (AIMD). With no ceiling configured it runs free until the first 429, and
 * then starts from half of what it sent in the last second. At each later 429 it drops 10%, but
 * only when it was really sending near its rate (a 429 that arrives while the client is mostly
 * idle is the service's hiccup, not its limit); without 429s it climbs 2% a second. The
 * bucket keeps up to a second of tokens, so the time spent waiting out a Retry-After is made
 * up by a burst afterwards.
 */
export class RequestScheduler {
  private readonly limit: LimitFunction;
  private readonly maxConcurrency: number;
  private readonly maxRate: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly deadline: number | undefined;
  private rate: number;
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private lastReaction = -Infinity;
  private lastIncrease: number;
  private successesSinceStep = 0;
  /** The limit may grow past where it started (latency-aware), up to maxConcurrency. */
  private readonly adaptive: boolean;
  /** Average duration of a request, in ms (0 until one finished). */
  private latencyMs = 0;
  /** When a request last had to wait for the rate or a pause: then the rate, not latency, is the bottleneck. */
  private lastRateWait = -Infinity;
  /** Start times of recent requests (a bounded tail). */
  private readonly sent: number[] = [];
  private readonly onThrottleReaction: ((state: SchedulerSnapshot) => void) | undefined;
  /** Set once a shared rate was adopted: from then on the shared budget raises the rate, not this scheduler. */
  private governed = false;

  constructor(options: RequestSchedulerOptions) {
    this.maxConcurrency = options.maxConcurrency;
    const initial = Math.min(options.maxConcurrency, options.initialConcurrency ?? options.maxConcurrency);
    this.adaptive = initial < options.maxConcurrency;
    this.limit = pLimit(initial);
    this.maxRate = options.maxRequestsPerSecond ?? Infinity;
    this.rate = this.maxRate;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.deadline = options.deadline;
    this.onThrottleReaction = options.onThrottleReaction;
    this.tokens = Number.isFinite(this.rate) ? this.rate * BURST_SECONDS : 0;
    this.lastRefill = this.now();
    this.lastIncrease = this.now();
  }

  snapshot(): SchedulerSnapshot {
    return { concurrency: this.limit.concurrency, requestsPerSecond: this.rate, pausedUntil: this.pausedUntil, latencyMs: Math.round(this.latencyMs) };
  }

  /** A copy that shares this one's learned rate and pause but has its own deadline (one per run). */
  withDeadline(deadline: number | undefined): ScheduledRun {
    return { run: (task, signal) => this.run(task, signal, deadline), scheduler: this };
  }

  /** No request starts before `until` (epoch ms). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  /** The service refused a request for load (429, 503): slow everything down. */
  onThrottled(retryAfterMs: number | undefined): void {
    const now = this.now();
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.pauseUntil(now + retryAfterMs);
    if (now - this.lastReaction < REACT_INTERVAL_MS) {
      // Not a new reaction, but a new Retry-After: a shared budget still passes the pause on.
      if (retryAfterMs !== undefined && retryAfterMs > 0) this.onThrottleReaction?.(this.snapshot());
      return;
    }
    this.lastReaction = now;
    const sentLastSecond = this.sentSince(now - 1_000);
    if (!Number.isFinite(this.rate)) {
      if (sentLastSecond >= 5) this.rate = Math.min(this.maxRate, Math.max(1, sentLastSecond * FIRST_DECREASE_FACTOR));
    } else if (sentLastSecond >= this.rate * 0.5) {
      this.rate = Math.max(1, this.rate * DECREASE_FACTOR);
    }
    this.tokens = Math.min(this.tokens, Math.max(1, this.rate * this.burstSeconds()));
    this.limit.concurrency = Math.max(1, this.limit.concurrency - 1);
    this.successesSinceStep = 0;
    this.lastIncrease = now;
    this.onThrottleReaction?.(this.snapshot());
  }

  /**
   * Takes a rate and pause decided elsewhere (the shared rate budget of several workers): the
   * rate replaces this one's (never above the ceiling), the pause extends this one's.
   */
  adopt(state: { readonly requestsPerSecond: number; readonly pausedUntil: number }): void {
    if (Number.isFinite(state.requestsPerSecond) && state.requestsPerSecond > 0) {
      this.rate = Math.min(this.maxRate, state.requestsPerSecond);
      this.governed = true;
      this.tokens = Math.min(this.tokens, Math.max(1, this.rate * this.burstSeconds()));
      this.lastIncrease = this.now();
    }
    this.pauseUntil(state.pausedUntil);
  }

  /** A request was accepted: let the rate and concurrency climb back. */
  onAccepted(): void {
    const now = this.now();
    if (this.adaptive) this.growWhileLatencyBound(now);
    else if (this.limit.concurrency < this.maxConcurrency && ++this.successesSinceStep >= SUCCESSES_PER_CONCURRENCY_STEP) {
      this.successesSinceStep = 0;
      this.limit.concurrency += 1;
    }
    const seconds = (now - this.lastIncrease) / 1000;
    if (seconds >= 1 && Number.isFinite(this.rate) && !this.governed) {
      this.rate = Math.min(this.maxRate, this.rate + Math.max(1, this.rate * INCREASE_SHARE_PER_SECOND) * seconds);
      this.lastIncrease = now;
    }
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal, deadline = this.deadline): Promise<T> {
    return this.limit(async () => {
      await this.waitForTurn(signal, deadline);
      const started = this.now();
      try {
        return await task();
      } finally {
        const took = this.now() - started;
        this.latencyMs = this.latencyMs === 0 ? took : this.latencyMs + LATENCY_WEIGHT * (took - this.latencyMs);
      }
    });
  }

  /**
   * Latency-aware concurrency (Little's law: in flight = rate × latency). At 150 ms a request,
   * 8 in flight can never send more than 53 a second whatever Graph accepts, so while requests
   * queue for a slot, none waited for the rate or was throttled lately, the limit grows by one
   * per half a round of successes, up to maxConcurrency and to what 200 requests a second need
   * at that latency; once a rate was learned, only up to 1.5 × rate × latency, since more in
   * flight would only wait for tokens.
   */
  private growWhileLatencyBound(now: number): void {
    if (this.limit.concurrency >= this.maxConcurrency || this.limit.pendingCount === 0) return;
    if (now - this.lastReaction < CALM_MS || now - this.lastRateWait < CALM_MS) return;
    const target = Number.isFinite(this.rate) ? this.rate * LATENCY_HEADROOM : GROWTH_TARGET_PER_SECOND;
    if (this.limit.concurrency >= Math.ceil((target * this.latencyMs) / 1000)) return;
    if (++this.successesSinceStep < Math.max(1, Math.ceil(this.limit.concurrency / 2))) return;
    this.successesSinceStep = 0;
    this.limit.concurrency += 1;
  }

  private async waitForTurn(signal: AbortSignal | undefined, deadline: number | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      const wait = Math.max(this.pausedUntil - now, this.refill(now));
      if (wait <= 0) {
        if (Number.isFinite(this.rate)) this.tokens -= 1;
        this.sent.push(now);
        if (this.sent.length > 4_096) this.sent.splice(0, this.sent.length - 2_048);
        return;
      }
      if (deadline !== undefined && now + wait > deadline) throw new BudgetExhaustedError(wait);
      this.lastRateWait = now;
      await this.sleep(wait, signal);
    }
  }

  /** Adds the tokens earned since the last refill; returns how long until one is available. */
  private refill(now: number): number {
    if (!Number.isFinite(this.rate)) return 0;
    const capacity = Math.max(1, this.rate * this.burstSeconds());
    this.tokens = Math.min(capacity, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private burstSeconds(): number {
    return this.governed ? SHARED_BURST_SECONDS : BURST_SECONDS;
  }

  private sentSince(since: number): number {
    let count = 0;
    for (let i = this.sent.length - 1; i >= 0 && (this.sent[i] ?? 0) >= since; i -= 1) count += 1;
    return count;
  }
}

/** The scheduler as one run sees it: the shared traffic control, with that run's deadline. */
export interface ScheduledRun {
  readonly scheduler: RequestScheduler;
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
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
