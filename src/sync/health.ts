/**
 * The anonymous health answer behind GET /api/health: one word for a load balancer or an uptime
 * probe, and the age of the last successful sync pass. Nothing else leaves: run ids, counts,
 * reasons and settings are for the operator's `GET /api/status` (src/sync/status.ts).
 *
 * It must stay cheap under a probe every few seconds from several places: it reads one short page
 * of the run history (newest first by row key) and the quarantine's single row, never counts a
 * table, and the answer is cached per process for a few seconds (`HealthCache`).
 */
import { isConfigError } from '../config/errors.js';
import type { Config } from '../config/loadConfig.js';
import type { Quarantine } from '../state/quarantineStore.js';
import type { LeaseHolder, RunRecord, StateOperationOptions } from '../state/types.js';
import type { Logger } from './logger.js';
import { withAbandoned } from './runStatus.js';

/** `failing`: nothing is being synced (settings, storage, a failed or quarantined pass); `degraded`: behind. */
export type OverallStatus = 'ok' | 'degraded' | 'failing';

export interface HealthAnswer {
  readonly status: OverallStatus;
  /** Seconds since the last sync pass that finished without failing; null when none is known. */
  readonly lastSuccessAgeSeconds: number | null;
}

/** Triggers of runs that are not sync passes: single records, and full re-sync requests. */
const NOT_A_PASS = /^(webhook|pending|resync:(learner|course|enrollment|all))$/;
/** One page of the run history: webhooks add runs between passes, so read past a few of them. */
export const RECENT_RUNS = 200;
export const STORAGE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_AGE_MINUTES = 60;
/** How long an answer is reused; probes hit every few seconds, a sync pass lasts minutes. */
export const HEALTH_CACHE_MS = 5_000;

export interface PassSummary {
  readonly runId: string;
  readonly trigger: string;
  readonly status: RunRecord['status'];
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly ageSeconds: number;
}

export interface PassAssessment {
  readonly status: OverallStatus;
  readonly problems: readonly string[];
  readonly lastRun: PassSummary | null;
  readonly lastSuccess: PassSummary | null;
}

export function isSyncPass(run: RunRecord): boolean {
  return !NOT_A_PASS.test(run.trigger);
}

/** The rules health and status share: what the recent runs and the quarantine say about the sync. */
export function assessPasses(input: { readonly runs: readonly RunRecord[]; readonly quarantine: Quarantine | undefined; readonly now: Date; readonly maxAgeMinutes: number }): PassAssessment {
  const failing: string[] = [];
  const degraded: string[] = [];
  const q = input.quarantine;
  if (q?.active === true) failing.push(`the sync is quarantined since ${q.since ?? 'unknown'}: ${(q.reason ?? '').replace(/^quarantined: /, '').split('\n')[0] ?? ''}`);
  const summary = (run: RunRecord): PassSummary => {
    const at = Date.parse(run.finishedAt ?? run.startedAt);
    const ageSeconds = Math.max(0, Math.round((input.now.getTime() - at) / 1000));
    return { runId: run.runId, trigger: run.trigger, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt ?? null, ageSeconds };
  };
  const passes = input.runs.filter(isSyncPass);
  const last = passes[0];
  const success = passes.find((r) => r.status === 'succeeded' || r.status === 'partial');
  const lastRun = last === undefined ? null : summary(last);
  if (last === undefined || lastRun === null) {
    degraded.push('no sync pass has run yet');
  } else {
    if (last.status === 'failed') failing.push(`the last sync pass failed${last.message !== undefined ? `: ${last.message.split('\n')[0] ?? ''}` : ''}`);
    if (last.status === 'abandoned') failing.push(`the last sync pass was abandoned: its process stopped at ${last.startedAt} or later without recording an outcome`);
    if (lastRun.ageSeconds > input.maxAgeMinutes * 60) degraded.push(`the last sync pass is older than ${input.maxAgeMinutes} minutes`);
  }
  const status: OverallStatus = failing.length > 0 ? 'failing' : degraded.length > 0 ? 'degraded' : 'ok';
  return { status, problems: [...failing, ...degraded], lastRun, lastSuccess: success === undefined ? null : summary(success) };
}

/** The two cheap reads health needs. */
export interface HealthStores {
  readonly runs: { listRecent(limit: number, options?: StateOperationOptions): Promise<RunRecord[]> };
  readonly quarantine?: { get(options?: StateOperationOptions): Promise<Quarantine> };
  /** The run lease's single row: a `running` pass without it was abandoned (src/sync/runStatus.ts). */
  readonly lease?: { current(options?: StateOperationOptions): Promise<LeaseHolder | undefined> };
}

export interface HealthSource {
  /** Throws a ConfigError when the settings are invalid. */
  config(): Config;
  stores(config: Config): Promise<HealthStores>;
}

export interface HealthOptions {
  readonly logger: Logger;
  readonly maxAgeMinutes?: number;
  /** How long the storage may take to answer (default 5 s). */
  readonly storageTimeoutMs?: number;
  readonly now?: Date;
}

export async function checkHealth(source: HealthSource, options: HealthOptions): Promise<HealthAnswer> {
  const now = options.now ?? new Date();
  let config: Config;
  try {
    config = source.config();
  } catch (err) {
    if (!isConfigError(err)) throw err;
    options.logger.error('Health check: the settings are invalid', { settings: [...new Set(err.problems.map((p) => p.setting))].join(', ') });
    return { status: 'failing', lastSuccessAgeSeconds: null };
  }
  const abortSignal = AbortSignal.timeout(options.storageTimeoutMs ?? STORAGE_TIMEOUT_MS);
  try {
    const stores = await withTimeout(source.stores(config), abortSignal);
    const [recent, quarantine, lease] = await Promise.all([stores.runs.listRecent(RECENT_RUNS, { abortSignal }), stores.quarantine?.get({ abortSignal }), stores.lease?.current({ abortSignal })]);
    const runs = stores.lease === undefined ? recent : withAbandoned(recent, lease);
    const assessed = assessPasses({ runs, quarantine, now, maxAgeMinutes: options.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES });
    return { status: assessed.status, lastSuccessAgeSeconds: assessed.lastSuccess?.ageSeconds ?? null };
  } catch (err) {
    options.logger.error('Health check: the state tables could not be read', { reason: err instanceof Error ? err.message : String(err) });
    return { status: 'failing', lastSuccessAgeSeconds: null };
  }
}

/** Opening the stores creates missing tables: bounded by the same timeout as the reads. */
export function withTimeout<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  ]);
}

/**
 * Answers reused for a few seconds per key (the settings and query that produced them); callers
 * of an expired key while it is being computed share that computation, so a burst of probes costs
 * one read.
 */
export class HealthCache {
  readonly #entries = new Map<string, { readonly at: number; readonly answer: Promise<HealthAnswer> }>();

  get(key: string, compute: () => Promise<HealthAnswer>, options: { readonly ttlMs?: number; readonly nowMs?: number } = {}): Promise<HealthAnswer> {
    const nowMs = options.nowMs ?? Date.now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && nowMs - entry.at < (options.ttlMs ?? HEALTH_CACHE_MS)) return entry.answer;
    // Settings rarely change: a handful of keys at most; forget them all rather than track ages.
    if (this.#entries.size >= 16) this.#entries.clear();
    const answer = compute();
    this.#entries.set(key, { at: nowMs, answer });
    answer.catch(() => this.#entries.delete(key));
    return answer;
  }
}
