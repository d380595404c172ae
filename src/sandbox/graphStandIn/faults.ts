/** Throttling (token bucket) and injected faults (seeded PRNG or a decide callback). */

import type { FaultKind, FaultOptions, FaultRequest, RateLimitOptions } from './types.js';

/** A token bucket: `capacity` tokens, refilled at `rate` tokens per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly capacity: number;

  constructor(options: RateLimitOptions, now: number) {
    if (!(options.requestsPerSecond > 0) || !Number.isFinite(options.requestsPerSecond)) {
      throw new RangeError('rateLimit.requestsPerSecond must be a positive number');
    }
    this.rate = options.requestsPerSecond;
    this.capacity = Math.max(1, options.burst ?? options.requestsPerSecond);
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Takes one token. Returns 0 when granted, otherwise the whole seconds until one is available (at least 1). */
  take(now: number): number {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_SEED = 42;

/**
 * Decides the fault of each request. Every evaluated request gets the next `index`; every request
 * that may get a random fault draws exactly one number, so a seed gives the same sequence of
 * faults whatever the rates and whatever `decide` answers.
 */
export class FaultPlan {
  private index = 0;
  private readonly random: () => number;
  readonly options: FaultOptions;

  constructor(options: FaultOptions | undefined) {
    this.options = options ?? {};
    for (const name of ['throttleRate', 'unavailableRate', 'serverErrorRate', 'resetRate'] as const) {
      const v = this.options[name];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`faults.${name} must be between 0 and 1`);
    }
    this.random = mulberry32(this.options.seed ?? DEFAULT_SEED);
  }

  get retryAfterSeconds(): number {
    return Math.max(0, Math.round(this.options.retryAfterSeconds ?? 1));
  }

  get retryAfterStyle(): NonNullable<FaultOptions['retryAfterStyle']> {
    return this.options.retryAfterStyle ?? 'both';
  }

  /**
   * @param random false for a $batch envelope: only `decide` applies to it (random faults are drawn
   *   for the sub-requests, which are the requests Graph evaluates one by one).
   */
  next(req: Omit<FaultRequest, 'index'>, random: boolean): FaultKind | undefined {
    const index = this.index++;
    const u = random ? this.random() : undefined;
    const decided = this.options.decide?.({ ...req, index });
    if (decided !== undefined) return decided;
    if (u === undefined) return undefined;
    let edge = this.options.throttleRate ?? 0;
    if (u < edge) return 'throttle';
    edge += this.options.unavailableRate ?? 0;
    if (u < edge) return 'unavailable';
    edge += this.options.serverErrorRate ?? 0;
    if (u < edge) return 'serverError';
    edge += this.options.resetRate ?? 0;
    if (u < edge) return 'reset';
    return undefined;
  }
}
