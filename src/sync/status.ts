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
import { setMaxListeners } from 'node:events';
import { isConfigError } from '../config/errors.js';
import type { Config } from '../config/loadConfig.js';
import type { PendingStore } from '../state/pendingStore.js';
import type { Quarantine, QuarantineStore } from '../state/quarantineStore.js';
import type { DoctorStore } from '../state/doctorStore.js';
import type { SharedRate } from '../state/sharedRateStore.js';
import type { RunRecord, StateOperationOptions, SyncState } from '../state/types.js';
import { assessPasses, DEFAULT_MAX_AGE_MINUTES, RECENT_RUNS, STORAGE_TIMEOUT_MS, withTimeout, type OverallStatus, type PassSummary } from './health.js';
import type { Logger } from './logger.js';
import { withAbandoned } from './runStatus.js';
import { readDeadLetterOverview, type DeadLetterOverview } from '../report/deadLetterOverview.js';
import { CHART_RUNS, type GraphTraffic, type QueueView } from '../report/statusData.js';
import type { Capacity, CapacityLimits } from './catalog/capacity.js';
import { readContentCounts } from './catalog/contentCounts.js';

/** The runs the report carries: the status page charts them. */
const SHOWN_RUNS = CHART_RUNS;

export type StatusDeadLetter = DeadLetterOverview['recent'][number];

/** The queue mode's parts the report reads: message counts and the planner's open pages. */
export interface QueueProbe {
  /** Approximate messages in the work queue and its poison queue. */
  depths(options?: StateOperationOptions): Promise<{ readonly depth: number; readonly poisonDepth: number }>;
  outstandingPages(options?: StateOperationOptions): Promise<number>;
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
  /**
   * Grouped by reason (particulars such as ids and addresses replaced by `…`), most frequent first,
   * with samples; `complete` is false when the scan stopped at its cap (then `count` is a lower bound).
   */
  readonly deadLetters: DeadLetterOverview | null;
  readonly pending: { readonly count: number } | null;
  readonly cursor: { readonly value: string | null; readonly savedAt: string | null; readonly ageSeconds: number | null; readonly ledgerComplete: boolean } | null;
  readonly runLease: { readonly held: boolean; readonly owner: string | null; readonly expiresAt: string | null; readonly holder?: string } | null;
  readonly webhook: { readonly configured: boolean } | null;
  /** Active: the sync passes are skipped until `viva-sync quarantine clear` (docs/operations.md). */
  readonly quarantine: { readonly active: boolean; readonly trigger: string | null; readonly reason: string | null; readonly since: string | null; readonly deletesApproved: boolean } | null;
  /** The Graph rate all workers share, as learned from 429s (queue mode); null when none was learned. */
  readonly throttling: { readonly sharedRatePerSecond: number | null; readonly pausedUntil: string | null } | null;
  /** Graph traffic summed over the runs above that recorded it (`runs` of them). */
  readonly graph: (GraphTraffic & { readonly runs: number }) | null;
  /** Queue mode's work queue depth and outstanding pages; nulls in inline mode. */
  readonly queue: QueueView | null;
  /** Course catalog counts, once the connector syncs a catalog; null until then. */
  readonly catalog: { readonly active: number; readonly retired: number } | null;
  /**
   * The Viva Learning items this provider wrote (catalog and enrollment content) against the tenant
   * limits, with `warning` set from 80% of either; null when the state could not be read.
   */
  readonly capacity: Capacity | null;
  /** The last `viva-sync doctor` against these tables (its lines that were not green); null when it never ran. */
  readonly doctor: { readonly verdict: 'green' | 'warnings' | 'blocking'; readonly checkedAt: string; readonly summary: string } | null;
}

export interface StatusStores {
  readonly state: SyncState;
  readonly pending: PendingStore;
  readonly quarantine?: QuarantineStore;
  readonly sharedRate?: { get(options?: StateOperationOptions): Promise<SharedRate> };
  /** Queue mode only. */
  readonly queue?: QueueProbe;
  readonly doctor?: Pick<DoctorStore, 'get'>;
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
  /** The tenant limits the capacity is counted against (default: Viva Learning's). */
  readonly capacityLimits?: CapacityLimits;
}

export async function readStatus(source: StatusSource, options: StatusOptions): Promise<SyncStatusReport> {
  const now = options.now ?? new Date();
  const empty = { checkedAt: now.toISOString(), storage: null, lastRun: null, lastSuccess: null, runs: null, deadLetters: null, pending: null, cursor: null, runLease: null, webhook: null, quarantine: null, throttling: null, graph: null, queue: null, catalog: null, capacity: null, doctor: null };
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
    const { state, pending, quarantine, sharedRate, queue: queueProbe, doctor: doctorStore } = await withTimeout(source.stores(config), AbortSignal.timeout(timeoutMs));
    const abortSignal = AbortSignal.timeout(timeoutMs * 6);
    // The reads below run at once and each request listens to this one signal; Node's default of 10 would warn.
    setMaxListeners(0, abortSignal);
    const [runs, deadLetters, pendingCount, lease, quarantined, cursor, rate, queue, contents, doctor] = await Promise.all([
      state.runs.listRecent(RECENT_RUNS, { abortSignal }),
      // Stops itself well before the abort signal, saying so (`complete: false`).
      readDeadLetterOverview(state.deadLetters, { abortSignal, scanMs: timeoutMs * 4 }),
      pending.countRecords({ abortSignal }),
      state.lease.current({ abortSignal }),
      quarantine?.get({ abortSignal }),
      state.cursor.get({ abortSignal }),
      sharedRate?.get({ abortSignal }),
      readQueue(config.mode, queueProbe, abortSignal),
      readContentCounts(state.contents, { abortSignal, capacityLimits: options.capacityLimits }),
      doctorStore?.get({ abortSignal }),
    ]);
    readings = { runs, deadLetters, pendingCount, lease, quarantined, cursor, rate, queue, contents, doctor };
  } catch (err) {
    options.logger.error('Status: the state tables could not be read', { reason: err instanceof Error ? err.message : String(err) });
    return { ...empty, status: 'failing', problems: ['the state tables could not be read (see the function log)'], config: { ok: true }, storage: { ok: false }, webhook };
  }
  const runs = withAbandoned(readings.runs, readings.lease);
  const assessed = assessPasses({ runs, quarantine: readings.quarantined, now, maxAgeMinutes: options.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES });
  const { cursor, lease, rate } = readings;
  const shown = runs.slice(0, SHOWN_RUNS);
  const withGraph = shown.filter((r) => r.graph !== undefined);
  return {
    status: assessed.status,
    checkedAt: now.toISOString(),
    problems: assessed.problems,
    config: { ok: true },
    storage: { ok: true },
    lastRun: assessed.lastRun,
    lastSuccess: assessed.lastSuccess,
    runs: shown,
    deadLetters: readings.deadLetters,
    pending: { count: readings.pendingCount },
    cursor: {
      value: cursor.value ?? null,
      savedAt: cursor.savedAt ?? null,
      ageSeconds: cursor.savedAt === undefined ? null : Math.max(0, Math.round((now.getTime() - Date.parse(cursor.savedAt)) / 1000)),
      ledgerComplete: cursor.ledgerComplete,
    },
    runLease: { held: lease !== undefined, owner: lease?.owner ?? null, expiresAt: lease?.expiresAt ?? null, ...(lease?.holder !== undefined ? { holder: lease.holder } : {}) },
    webhook,
    quarantine: quarantineView(readings.quarantined),
    throttling:
      rate === undefined
        ? null
        : { sharedRatePerSecond: Number.isFinite(rate.rate) ? rate.rate : null, pausedUntil: rate.pausedUntil > now.getTime() ? new Date(rate.pausedUntil).toISOString() : null },
    graph: {
      runs: withGraph.length,
      requests: withGraph.reduce((n, r) => n + (r.graph?.requests ?? 0), 0),
      retries: withGraph.reduce((n, r) => n + (r.graph?.retries ?? 0), 0),
      throttled: withGraph.reduce((n, r) => n + (r.graph?.throttled ?? 0), 0),
    },
    queue: readings.queue,
    catalog: readings.contents.catalog,
    capacity: readings.contents.capacity,
    doctor: readings.doctor === undefined ? null : { verdict: readings.doctor.verdict, checkedAt: readings.doctor.checkedAt, summary: readings.doctor.summary },
  };
}

async function readQueue(mode: Config['mode'], probe: QueueProbe | undefined, abortSignal: AbortSignal): Promise<QueueView> {
  if (mode !== 'queue' || probe === undefined) return { mode, depth: null, poisonDepth: null, outstandingPages: null };
  const [depths, outstandingPages] = await Promise.all([probe.depths({ abortSignal }), probe.outstandingPages({ abortSignal })]);
  return { mode, depth: depths.depth, poisonDepth: depths.poisonDepth, outstandingPages };
}

function quarantineView(q: Quarantine | undefined): SyncStatusReport['quarantine'] {
  if (q === undefined) return null;
  return { active: q.active, trigger: q.trigger ?? null, reason: q.reason ?? null, since: q.since ?? null, deletesApproved: q.deletesApproved };
}
