/**
 * What the operator sees behind the function key (GET /api/status): the overall status with its
 * reasons, recent runs with their counts and outcome, dead letters grouped by reason, the
 * quarantine, the cursor, the run lease and the shared Graph rate. A typed object, so the JSON
 * answer and any rendering of it (an HTML page, the CLI) read the same data.
 *
 * Unlike the anonymous health answer it reads whole tables (dead letters, pending records), so it
 * is for a person asking, not for a probe. It names settings, never their values, and reports a
 * storage failure without the underlying message (which may name the account): that goes to the log.
 */
import { isConfigError } from '../config/errors.js';
import type { Config } from '../config/loadConfig.js';
import type { PendingStore } from '../state/pendingStore.js';
import type { Quarantine, QuarantineStore } from '../state/quarantineStore.js';
import type { SharedRate } from '../state/sharedRateStore.js';
import type { RunRecord, StateOperationOptions, SyncState } from '../state/types.js';
import { assessPasses, DEFAULT_MAX_AGE_MINUTES, RECENT_RUNS, STORAGE_TIMEOUT_MS, withTimeout, type OverallStatus, type PassSummary } from './health.js';
import type { Logger } from './logger.js';
import { withAbandoned } from './runStatus.js';

const SHOWN_RUNS = 20;
const SHOWN_DEAD_LETTERS = 20;
/** Dead letters read to group them by reason; past this the groups cover only the first ones read. */
const GROUPED_DEAD_LETTERS = 5_000;

export interface StatusDeadLetter {
  readonly key: string;
  readonly reason: string;
  readonly attempts: number;
  readonly retryable: boolean;
  readonly lastFailedAt: string;
  readonly position?: string;
}

export interface SyncStatusReport {
  readonly status: OverallStatus;
  readonly checkedAt: string;
  /** Each reason for a status other than `ok`, one line each. */
  readonly problems: readonly string[];
  readonly config: { readonly ok: boolean; readonly invalidSettings?: readonly string[] };
  readonly storage: { readonly ok: boolean } | null;
  /** The last sync pass (timer or CLI), not a webhook's or a re-sync's single-record run. */
  readonly lastRun: PassSummary | null;
  /** The last sync pass that finished without failing. */
  readonly lastSuccess: PassSummary | null;
  /** Every kind of run, newest first. */
  readonly runs: readonly RunRecord[] | null;
  readonly deadLetters: {
    readonly count: number;
    /** Most frequent first; `complete` is false when there were more dead letters than were grouped. */
    readonly byReason: readonly { readonly reason: string; readonly count: number }[];
    readonly complete: boolean;
    readonly recent: readonly StatusDeadLetter[];
  } | null;
  readonly pending: { readonly count: number } | null;
  readonly cursor: { readonly value: string | null; readonly savedAt: string | null; readonly ledgerComplete: boolean } | null;
  readonly runLease: { readonly held: boolean; readonly owner: string | null; readonly expiresAt: string | null; readonly holder?: string } | null;
  readonly webhook: { readonly configured: boolean } | null;
  /** Active: the sync passes are skipped until `viva-sync quarantine clear` (docs/operations.md). */
  readonly quarantine: { readonly active: boolean; readonly trigger: string | null; readonly reason: string | null; readonly since: string | null; readonly deletesApproved: boolean } | null;
  /** The Graph rate all workers share, as learned from 429s (queue mode); null when none was learned. */
  readonly throttling: { readonly sharedRatePerSecond: number | null; readonly pausedUntil: string | null } | null;
}

export interface StatusStores {
  readonly state: SyncState;
  readonly pending: PendingStore;
  readonly quarantine?: QuarantineStore;
  readonly sharedRate?: { get(options?: StateOperationOptions): Promise<SharedRate> };
}

export interface StatusSource {
  /** Throws a ConfigError when the settings are invalid. */
  config(): Config;
  stores(config: Config): Promise<StatusStores>;
}

export interface StatusOptions {
  readonly logger: Logger;
  readonly maxAgeMinutes?: number;
  /** How long the storage may take to answer (default 5 s for opening the stores; reads get 6 times that). */
  readonly storageTimeoutMs?: number;
  readonly now?: Date;
}

export async function readStatus(source: StatusSource, options: StatusOptions): Promise<SyncStatusReport> {
  const now = options.now ?? new Date();
  const empty = { checkedAt: now.toISOString(), storage: null, lastRun: null, lastSuccess: null, runs: null, deadLetters: null, pending: null, cursor: null, runLease: null, webhook: null, quarantine: null, throttling: null };
  let config: Config;
  try {
    config = source.config();
  } catch (err) {
    if (!isConfigError(err)) throw err;
    const names = [...new Set(err.problems.map((p) => p.setting))];
    return { ...empty, status: 'failing', problems: [`invalid settings: ${names.join(', ')}`], config: { ok: false, invalidSettings: names } };
  }
  const webhook = { configured: config.webhookSecret !== undefined };
  const timeoutMs = options.storageTimeoutMs ?? STORAGE_TIMEOUT_MS;
  let readings;
  try {
    const { state, pending, quarantine, sharedRate } = await withTimeout(source.stores(config), AbortSignal.timeout(timeoutMs));
    const abortSignal = AbortSignal.timeout(timeoutMs * 6);
    const [runs, deadLetters, pendingCount, lease, quarantined, cursor, rate] = await Promise.all([
      state.runs.listRecent(RECENT_RUNS, { abortSignal }),
      readDeadLetters(state, abortSignal),
      pending.countRecords({ abortSignal }),
      state.lease.current({ abortSignal }),
      quarantine?.get({ abortSignal }),
      state.cursor.get({ abortSignal }),
      sharedRate?.get({ abortSignal }),
    ]);
    readings = { runs, deadLetters, pendingCount, lease, quarantined, cursor, rate };
  } catch (err) {
    options.logger.error('Status: the state tables could not be read', { reason: err instanceof Error ? err.message : String(err) });
    return { ...empty, status: 'failing', problems: ['the state tables could not be read (see the function log)'], config: { ok: true }, storage: { ok: false }, webhook };
  }
  const runs = withAbandoned(readings.runs, readings.lease);
  const assessed = assessPasses({ runs, quarantine: readings.quarantined, now, maxAgeMinutes: options.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES });
  const { cursor, lease, rate } = readings;
  return {
    status: assessed.status,
    checkedAt: now.toISOString(),
    problems: assessed.problems,
    config: { ok: true },
    storage: { ok: true },
    lastRun: assessed.lastRun,
    lastSuccess: assessed.lastSuccess,
    runs: runs.slice(0, SHOWN_RUNS),
    deadLetters: readings.deadLetters,
    pending: { count: readings.pendingCount },
    cursor: { value: cursor.value ?? null, savedAt: cursor.savedAt ?? null, ledgerComplete: cursor.ledgerComplete },
    runLease: { held: lease !== undefined, owner: lease?.owner ?? null, expiresAt: lease?.expiresAt ?? null, ...(lease?.holder !== undefined ? { holder: lease.holder } : {}) },
    webhook,
    quarantine: quarantineView(readings.quarantined),
    throttling:
      rate === undefined
        ? null
        : { sharedRatePerSecond: Number.isFinite(rate.rate) ? rate.rate : null, pausedUntil: rate.pausedUntil > now.getTime() ? new Date(rate.pausedUntil).toISOString() : null },
  };
}

function quarantineView(q: Quarantine | undefined): SyncStatusReport['quarantine'] {
  if (q === undefined) return null;
  return { active: q.active, trigger: q.trigger ?? null, reason: q.reason ?? null, since: q.since ?? null, deletesApproved: q.deletesApproved };
}

/** One read of the dead letters: the count, the groups by reason, and the first few. */
async function readDeadLetters(state: SyncState, abortSignal: AbortSignal): Promise<NonNullable<SyncStatusReport['deadLetters']>> {
  const groups = new Map<string, number>();
  const recent: StatusDeadLetter[] = [];
  let read = 0;
  for await (const letter of state.deadLetters.list({ abortSignal })) {
    read += 1;
    groups.set(letter.reason, (groups.get(letter.reason) ?? 0) + 1);
    if (recent.length < SHOWN_DEAD_LETTERS) {
      recent.push({ key: letter.key, reason: letter.reason, attempts: letter.attempts, retryable: letter.retryable, lastFailedAt: letter.lastFailedAt, ...(letter.position !== undefined ? { position: letter.position } : {}) });
    }
    if (read >= GROUPED_DEAD_LETTERS) break;
  }
  const complete = read < GROUPED_DEAD_LETTERS;
  const count = complete ? read : await state.deadLetters.count({ abortSignal });
  const byReason = [...groups].map(([reason, n]) => ({ reason, count: n })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { count, byReason, complete, recent };
}
