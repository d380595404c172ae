/**
 * The single-record path as the HTTP endpoints use it: find the current state of an enrollment
 * (the LMS first, the webhook's own record otherwise), run it through `runRecords` (same plan,
 * write and ledger rules as a scheduled run, under the run lease, cursor untouched), and queue
 * it for the next run when that cannot happen now (lease held, Graph throttling, time spent).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/loadConfig.js';
import type { LmsAdapter } from '../lms/types.js';
import type { EnrollmentRecord } from '../mapping/enrollment.js';
import { externalActivityId } from '../mapping/toActivity.js';
import { createHttpState, tableConnectionOf, type HttpState } from '../state/httpState.js';
import type { PendingStore } from '../state/pendingStore.js';
import { createTableState } from '../state/tableState.js';
import type { SyncState } from '../state/types.js';
import type { Logger } from './logger.js';
import { redactingLogger, silentLogger } from './logger.js';
import { openSync, type SyncRunner } from './openSync.js';
import type { RunSummary } from './types.js';

/** A webhook's soft budget: no Graph retry waits past it, and unfinished work is queued. */
export const WEBHOOK_TIME_BUDGET_MS = 20_000;
/** The hard stop of a webhook's sync, far inside the 230-second HTTP limit. */
export const WEBHOOK_HARD_TIMEOUT_MS = 40_000;
/** How long a webhook waits for a short run (another webhook) to free the lease before queueing. */
export const WEBHOOK_LEASE_WAIT_MS = 2_000;
/** The budget of an inline (small-scope) re-sync. */
export const RESYNC_TIME_BUDGET_MS = 120_000;
/** How long the LMS may take to answer for one enrollment. */
const LMS_LOOKUP_TIMEOUT_MS = 10_000;

/** What became of an enrollment on the single-record path. */
export type SingleRecordOutcome = 'created' | 'updated' | 'deleted' | 'unchanged' | 'deadLettered';

export type QueueReason = 'runInProgress' | 'throttled' | 'timeBudget' | 'timeout' | 'syncBlocked';

export type SingleRecordResult =
  | { readonly kind: 'processed'; readonly enrollmentId: string; readonly outcome: SingleRecordOutcome; readonly runId: string; readonly summary: RunSummary; readonly reason?: string }
  | { readonly kind: 'queued'; readonly enrollmentId: string; readonly reason: QueueReason; readonly message: string }
  /** The LMS does not know the enrollment, or its record is invalid: nothing to do. */
  | { readonly kind: 'rejected'; readonly enrollmentId: string; readonly reason: string }
  /** The LMS could not be asked and the caller gave no record: try again later. */
  | { readonly kind: 'unavailable'; readonly enrollmentId: string; readonly reason: string };

/** The current state of one enrollment, as far as it can be known. */
export type CurrentRecord =
  | { readonly kind: 'record'; readonly record: EnrollmentRecord; readonly from: 'lms' | 'caller' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Asks the LMS for the enrollment's current record. When the caller has a record too (a webhook
 * body, a queued record), the newer `updatedAt` wins (the LMS on a tie), so a slow export or a
 * late webhook never rolls the state back. The LMS failing is not fatal when the caller has one.
 */
export async function currentRecord(
  adapter: Pick<LmsAdapter, 'getEnrollment'>,
  enrollmentId: string,
  known: EnrollmentRecord | undefined,
  options: { readonly abortSignal?: AbortSignal; readonly logger?: Logger } = {},
): Promise<CurrentRecord> {
  const signal = options.abortSignal === undefined ? AbortSignal.timeout(LMS_LOOKUP_TIMEOUT_MS) : AbortSignal.any([options.abortSignal, AbortSignal.timeout(LMS_LOOKUP_TIMEOUT_MS)]);
  let item: Awaited<ReturnType<LmsAdapter['getEnrollment']>>;
  try {
    item = await adapter.getEnrollment(enrollmentId, { abortSignal: signal });
  } catch (err) {
    (options.logger ?? silentLogger).warn('The LMS could not be asked for an enrollment', { enrollmentId, reason: err instanceof Error ? err.message : String(err) });
    if (known !== undefined) return { kind: 'record', record: known, from: 'caller' };
    return { kind: 'unavailable', reason: `the LMS could not be asked for enrollment ${JSON.stringify(enrollmentId)}` };
  }
  if (item === undefined) return known !== undefined ? { kind: 'record', record: known, from: 'caller' } : { kind: 'unknown' };
  if (item.kind === 'invalid') {
    if (known !== undefined && (item.updatedAt === undefined || known.updatedAt >= item.updatedAt)) return { kind: 'record', record: known, from: 'caller' };
    return { kind: 'invalid', reason: `the LMS record of enrollment ${JSON.stringify(enrollmentId)} is invalid: ${item.reason}` };
  }
  if (known !== undefined && known.updatedAt > item.record.updatedAt) return { kind: 'record', record: known, from: 'caller' };
  return { kind: 'record', record: item.record, from: 'lms' };
}

export function isRunInProgress(err: unknown): boolean {
  return err instanceof Error && err.name === 'RunInProgressError';
}

/** Calls `run`, and again while another run holds the lease, for at most `waitMs`. */
export async function withLeaseWait<T>(run: () => Promise<T>, waitMs: number, abortSignal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + waitMs;
  let delay = 100;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!isRunInProgress(err) || Date.now() + delay > deadline || abortSignal?.aborted === true) throw err;
      await sleep(delay, undefined, abortSignal === undefined ? {} : { signal: abortSignal });
      delay = Math.min(delay * 2, 1_000);
    }
  }
}

/** The one-word outcome of a single-record run. */
export function outcomeOf(summary: RunSummary): SingleRecordOutcome {
  const c = summary.counts;
  if (c.created > 0) return 'created';
  if (c.updated > 0) return 'updated';
  if (c.deleted > 0) return 'deleted';
  if (c.failed > 0) return 'deadLettered';
  return 'unchanged';
}

export interface SingleRecordContext {
  readonly runner: Pick<SyncRunner, 'adapter' | 'state' | 'runRecords'>;
  readonly pending: PendingStore;
  readonly logger: Logger;
}

export interface SyncEnrollmentOptions {
  /** The caller's copy of the record (a webhook body), if any. */
  readonly record?: EnrollmentRecord;
  /** Stated in the run history (`webhook`). */
  readonly trigger?: string;
  readonly leaseWaitMs?: number;
  /** Hard stop; the soft budget is the runner's. */
  readonly timeoutMs?: number;
  readonly abortSignal?: AbortSignal;
  /** The LMS's answer, asked already (the webhook asks it while it claims the id); otherwise asked here. */
  readonly lookedUp?: Promise<CurrentRecord>;
}

/**
 * One enrollment through the single-record path. Never throws for a run in progress, Graph
 * throttling or a spent budget: the record is queued (`queued`) and the next run handles it.
 */
export async function syncEnrollment(ctx: SingleRecordContext, enrollmentId: string, options: SyncEnrollmentOptions = {}): Promise<SingleRecordResult> {
  const hardStop = AbortSignal.timeout(options.timeoutMs ?? WEBHOOK_HARD_TIMEOUT_MS);
  const signal = options.abortSignal === undefined ? hardStop : AbortSignal.any([options.abortSignal, hardStop]);
  const current = await (options.lookedUp ?? currentRecord(ctx.runner.adapter, enrollmentId, options.record, { abortSignal: signal, logger: ctx.logger }));
  switch (current.kind) {
    case 'unknown':
      return { kind: 'rejected', enrollmentId, reason: `the LMS does not know enrollment ${JSON.stringify(enrollmentId)}` };
    case 'invalid':
      return { kind: 'rejected', enrollmentId, reason: current.reason };
    case 'unavailable':
      return { kind: 'unavailable', enrollmentId, reason: current.reason };
    case 'record':
      break;
  }
  const record = current.record;
  const queue = async (reason: QueueReason, message: string): Promise<SingleRecordResult> => {
    await ctx.pending.queue({
      enrollmentId,
      record: JSON.stringify(record),
      updatedAt: record.updatedAt,
      reason,
      source: options.trigger ?? 'webhook',
      queuedAt: new Date().toISOString(),
    });
    ctx.logger.info('Enrollment queued for the next run', { enrollmentId, reason });
    return { kind: 'queued', enrollmentId, reason, message };
  };

  let summary: RunSummary;
  try {
    summary = await withLeaseWait(
      () => ctx.runner.runRecords([record], { trigger: options.trigger ?? 'webhook', abortSignal: signal }),
      options.leaseWaitMs ?? WEBHOOK_LEASE_WAIT_MS,
      signal,
    );
  } catch (err) {
    if (isRunInProgress(err)) return queue('runInProgress', 'a sync run holds the run lease; the next run picks this enrollment up');
    if (signal.aborted) return queue('timeout', 'the sync did not finish in time; the next run picks this enrollment up');
    throw err;
  }
  if (summary.status === 'succeeded') {
    const outcome = outcomeOf(summary);
    const reason = outcome === 'deadLettered' ? (await ctx.runner.state.deadLetters.get(externalActivityId(enrollmentId)))?.reason : undefined;
    return { kind: 'processed', enrollmentId, outcome, runId: summary.runId, summary, ...(reason !== undefined ? { reason } : {}) };
  }
  if (summary.status === 'failed') return queue('syncBlocked', `the sync cannot write now (${summary.message ?? 'see the run history'}); the record is queued`);
  if ((summary.graph?.throttled ?? 0) > 0) return queue('throttled', 'Microsoft Graph is throttling; the next run picks this enrollment up');
  return queue('timeBudget', `${summary.message ?? 'the time budget was spent'}; the next run picks this enrollment up`);
}

// ---------------------------------------------------------------------------------------------
// Wiring for the HTTP endpoints: settings in, runners and stores out, kept per process.
// ---------------------------------------------------------------------------------------------

export interface SyncServices {
  readonly config: Config;
  readonly cwd: string;
  readonly http: HttpState;
  /** The engine's tables alone (no LMS or Graph wiring), for health and run history. */
  state(): Promise<SyncState>;
  /** A runner whose soft time budget suits the purpose (webhook: 20 s; resync: 120 s). */
  runner(purpose: 'webhook' | 'resync'): Promise<SyncRunner>;
  readonly logger: Logger;
}

/** Opens the stores of the HTTP endpoints for `config`; runners are opened on first use. */
export async function openSyncServices(config: Config, options: { readonly cwd: string; readonly logger: Logger }): Promise<SyncServices> {
  const connection = tableConnectionOf(config.storage);
  const http = await createHttpState({ connection, tablePrefix: config.tablePrefix });
  const runners = new Map<string, Promise<SyncRunner>>();
  let state: Promise<SyncState> | undefined;
  const once = <T>(make: () => Promise<T>, forget: () => void): Promise<T> => {
    const promise = make();
    promise.catch(forget);
    return promise;
  };
  return {
    config,
    cwd: options.cwd,
    http,
    logger: options.logger,
    state: () => (state ??= once(() => createTableState({ connection, tablePrefix: config.tablePrefix }), () => (state = undefined))),
    runner: (purpose) => {
      let runner = runners.get(purpose);
      if (runner === undefined) {
        const budgetMs = purpose === 'webhook' ? WEBHOOK_TIME_BUDGET_MS : RESYNC_TIME_BUDGET_MS;
        runner = once(() => openSync({ ...config, timeBudgetSeconds: budgetMs / 1000 }, { logger: options.logger, cwd: options.cwd }), () => runners.delete(purpose));
        runners.set(purpose, runner);
      }
      return runner;
    },
  };
}

const invocationLogger = new AsyncLocalStorage<Logger>();
/** Routes to the logger of the invocation in progress, so one cached runner serves them all. */
const routedLogger: Logger = {
  info: (m, f) => (invocationLogger.getStore() ?? silentLogger).info(m, f),
  warn: (m, f) => (invocationLogger.getStore() ?? silentLogger).warn(m, f),
  error: (m, f) => (invocationLogger.getStore() ?? silentLogger).error(m, f),
};
const servicesCache = new Map<string, Promise<SyncServices>>();
const MAX_CACHED = 4;

/**
 * Runs `body` with the services for `config`, opened once per process and settings (the table
 * clients, Graph token and content cache survive between invocations), logging to `logger`.
 */
export function withSyncServices<T>(config: Config, options: { readonly cwd: string; readonly logger: Logger }, body: (services: SyncServices) => Promise<T>): Promise<T> {
  return invocationLogger.run(redactingLogger(options.logger, secretsOf(config)), async () => {
    const key = createHash('sha256').update(JSON.stringify([config, options.cwd])).digest('hex');
    let services = servicesCache.get(key);
    if (services === undefined) {
      if (servicesCache.size >= MAX_CACHED) servicesCache.delete(servicesCache.keys().next().value ?? '');
      services = openSyncServices(config, { cwd: options.cwd, logger: routedLogger });
      servicesCache.set(key, services);
      services.catch(() => servicesCache.delete(key));
    }
    return body(await services);
  });
}

/** The secret values of the settings, for `redactingLogger`. */
export function secretsOf(config: Config): string[] {
  const lms =
    config.lms.adapter === 'file'
      ? []
      : [config.lms.clientSecret, config.lms.password, config.lms.token, ...basicPair(config.lms.clientId, config.lms.clientSecret), ...basicPair(config.lms.username, config.lms.password)];
  const graph = config.graph.auth.kind === 'client-secret' ? [config.graph.auth.clientSecret] : config.graph.auth.kind === 'static-token' ? [config.graph.auth.token] : [];
  const webhook = config.webhookSecret === undefined ? [] : config.webhookSecret.split(/\s+/).flatMap((s) => [s, s.replace(/^whsec_/, '')]);
  const storage = config.storage.kind === 'connectionString' ? [config.storage.connectionString, /AccountKey=([^;]+)/i.exec(config.storage.connectionString)?.[1], /SharedAccessSignature=([^;]+)/i.exec(config.storage.connectionString)?.[1]] : [];
  return [...lms, ...graph, ...webhook, ...storage].filter((v): v is string => v !== undefined && v.length >= 8);
}

/** What HTTP Basic credentials are made of (the Redactor hides their base64 too). */
function basicPair(user: string | undefined, password: string | undefined): string[] {
  return user === undefined || password === undefined ? [] : [`${user}:${password}`, `${encodeURIComponent(user)}:${encodeURIComponent(password)}`];
}

// The one redaction (src/sync/redaction.ts), under the names the HTTP endpoints and tests import.
export { redactingLogger } from './logger.js';
export { secretValuesOf as secretSettingValues } from './redaction.js';
