/**
 * The health report behind GET /api/health: settings valid, state tables reachable, the last
 * sync pass's outcome and age, dead letters and queued records. It names settings, never their
 * values, and reports storage failures without the underlying message (which may name the
 * account): the detail goes to the log.
 */
import { isConfigError } from '../config/errors.js';
import type { Config } from '../config/loadConfig.js';
import type { PendingStore } from '../state/pendingStore.js';
import type { QuarantineStore } from '../state/quarantineStore.js';
import type { RunRecord, SyncState } from '../state/types.js';
import type { Logger } from './logger.js';

/** Triggers of runs that are not sync passes: single records, and full re-sync requests. */
const NOT_A_PASS = /^(webhook|pending|resync:(learner|course|enrollment|all))$/;
const RECENT_RUNS = 200;
const STORAGE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_AGE_MINUTES = 60;

export interface HealthReport {
  /** `unhealthy`: settings or storage broken (HTTP 503); `degraded`: the sync is behind or failing (HTTP 200). */
  readonly status: 'ok' | 'degraded' | 'unhealthy';
  readonly checkedAt: string;
  readonly problems: readonly string[];
  readonly config: { readonly ok: boolean; readonly invalidSettings?: readonly string[] };
  readonly storage: { readonly ok: boolean } | null;
  readonly lastRun: {
    readonly runId: string;
    readonly trigger: string;
    readonly status: RunRecord['status'];
    readonly startedAt: string;
    readonly finishedAt: string | null;
    readonly ageSeconds: number;
  } | null;
  readonly deadLetters: { readonly count: number } | null;
  readonly pending: { readonly count: number } | null;
  readonly runLease: { readonly held: boolean; readonly expiresAt: string | null } | null;
  readonly webhook: { readonly configured: boolean } | null;
  /** Active: the sync passes are skipped until `viva-sync quarantine clear` (docs/operations.md). */
  readonly quarantine: { readonly active: boolean; readonly trigger: string | null; readonly reason: string | null; readonly since: string | null } | null;
}

export interface HealthSource {
  /** Throws a ConfigError when the settings are invalid. */
  config(): Config;
  stores(config: Config): Promise<{ readonly state: SyncState; readonly pending: PendingStore; readonly quarantine?: QuarantineStore }>;
}

export interface HealthOptions {
  readonly logger: Logger;
  readonly maxAgeMinutes?: number;
  /** How long the storage may take to answer (default 5 s). */
  readonly storageTimeoutMs?: number;
  readonly now?: Date;
}

export async function checkHealth(source: HealthSource, options: HealthOptions): Promise<HealthReport> {
  const now = options.now ?? new Date();
  const empty = { checkedAt: now.toISOString(), storage: null, lastRun: null, deadLetters: null, pending: null, runLease: null, webhook: null, quarantine: null };
  let config: Config;
  try {
    config = source.config();
  } catch (err) {
    if (!isConfigError(err)) throw err;
    const names = [...new Set(err.problems.map((p) => p.setting))];
    return { ...empty, status: 'unhealthy', problems: [`invalid settings: ${names.join(', ')}`], config: { ok: false, invalidSettings: names } };
  }
  const webhook = { configured: config.webhookSecret !== undefined };
  const abortSignal = AbortSignal.timeout(options.storageTimeoutMs ?? STORAGE_TIMEOUT_MS);
  let readings;
  try {
    // Opening the stores creates missing tables: bounded by the same timeout as the reads.
    const { state, pending, quarantine } = await Promise.race([source.stores(config), rejectOnAbort(abortSignal)]);
    const [runs, deadLetters, pendingCount, lease, quarantined] = await Promise.all([
      state.runs.listRecent(RECENT_RUNS, { abortSignal }),
      state.deadLetters.count({ abortSignal }),
      pending.countRecords({ abortSignal }),
      state.lease.current({ abortSignal }),
      quarantine?.get({ abortSignal }),
    ]);
    readings = { runs, deadLetters, pendingCount, lease, quarantined };
  } catch (err) {
    options.logger.error('Health check: the state tables could not be read', { reason: err instanceof Error ? err.message : String(err) });
    return { ...empty, status: 'unhealthy', problems: ['the state tables could not be read (see the function log)'], config: { ok: true }, storage: { ok: false }, webhook };
  }

  const problems: string[] = [];
  const q = readings.quarantined;
  if (q?.active === true) problems.push(`the sync is quarantined since ${q.since ?? 'unknown'}: ${(q.reason ?? '').replace(/^quarantined: /, '').split('\n')[0] ?? ''}`);
  const pass = readings.runs.find((r) => !NOT_A_PASS.test(r.trigger));
  let lastRun: HealthReport['lastRun'] = null;
  if (pass === undefined) {
    problems.push('no sync pass has run yet');
  } else {
    const at = Date.parse(pass.finishedAt ?? pass.startedAt);
    const ageSeconds = Math.max(0, Math.round((now.getTime() - at) / 1000));
    lastRun = { runId: pass.runId, trigger: pass.trigger, status: pass.status, startedAt: pass.startedAt, finishedAt: pass.finishedAt ?? null, ageSeconds };
    if (pass.status === 'failed') problems.push(`the last sync pass failed${pass.message !== undefined ? `: ${pass.message.split('\n')[0] ?? ''}` : ''}`);
    const maxAgeMinutes = options.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES;
    if (ageSeconds > maxAgeMinutes * 60) problems.push(`the last sync pass is older than ${maxAgeMinutes} minutes`);
  }
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    checkedAt: now.toISOString(),
    problems,
    config: { ok: true },
    storage: { ok: true },
    lastRun,
    deadLetters: { count: readings.deadLetters },
    pending: { count: readings.pendingCount },
    runLease: { held: readings.lease !== undefined, expiresAt: readings.lease?.expiresAt ?? null },
    webhook,
    quarantine: q === undefined ? null : { active: q.active, trigger: q.trigger ?? null, reason: q.reason ?? null, since: q.since ?? null },
  };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
