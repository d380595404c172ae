import { randomBytes } from 'node:crypto';
import type { GatewayStats, VivaGateway } from '../graph/gateway.js';
import type { LmsAdapter, SourceItem } from '../lms/types.js';
import { parseEnrollment, type EnrollmentRecord } from '../mapping/enrollment.js';
import { fingerprint } from '../mapping/fingerprint.js';
import type { LearnerMatch } from '../mapping/learnerRef.js';
import { externalActivityId } from '../mapping/toActivity.js';
import type { QuarantineCounts, QuarantineTrigger } from '../state/quarantineStore.js';
import type { StagedDeleteStore } from '../state/stagedDeleteStore.js';
import { CursorConflictError, type LedgerEntry, type RunCounts, type RunRecord, type SyncState } from '../state/types.js';
import { abortableSleep } from '../graph/requestScheduler.js';
import type { TimeBudget } from './budget.js';
import { emitRunTelemetry } from '../telemetry/runTelemetry.js';
import { recordFailure } from './deadLetters.js';
import { failureReason } from './failureReason.js';
import { holdRunLease } from './runLeaseKeeper.js';
import { DeleteStaging } from './stagedDeletes.js';
import type { Logger } from './logger.js';
import { LedgerSnapshot } from './ledgerSnapshot.js';
import { withAbsentWithdrawals } from './absence.js';
import { withCatalogPass, type CatalogHook, type CatalogSummary } from './catalog/hook.js';
import type { LookupPolicy } from './lookupPolicy.js';
import { planChanges, wantedStatus } from './plan.js';
import { InlineExecutor } from './inlineExecutor.js';
import type { PageExecutor } from './pageExecutor.js';
import { ContentResolver, LearnerResolver, readReferencesAhead } from './resolvers.js';
import { emptyCounts, type FinalRunStatus, type PlannedCall, type RunSummary } from './types.js';
import { ledgerEntryOf, type WriteOutcome } from './writer.js';

export interface SyncDeps {
  readonly adapter: LmsAdapter;
  readonly gateway: VivaGateway;
  readonly state: SyncState;
  readonly providerId: string;
  readonly learnerMatch: LearnerMatch;
  readonly logger: Logger;
  /** The run's budget, shared with the gateway so that no retry waits past it. */
  readonly budget: TimeBudget;
  readonly gatewayStats?: () => GatewayStats;
  readonly plannedCalls?: () => readonly PlannedCall[];
  readonly dryRun?: boolean;
  /**
   * How a pass's pages are carried out when not written here: queue mode
   * (src/sync/queue/queueExecutor.ts) hands them to queue workers. Absent: written inline.
   * Dead-letter retries and single records are always written inline.
   */
  readonly pages?: (runId: string) => PageExecutor;
  /** Stops a run that fails too many writes or would delete too much (docs/operations.md, "Quarantine"). */
  readonly quarantine?: QuarantineGuard;
  /**
   * Where a pass stages its deletes until it has read every page (src/sync/stagedDeletes.ts).
   * Absent (dry runs): deletes are carried out with the page, guarded page by page.
   */
  readonly stagedDeletes?: StagedDeleteStore;
  /** SYNC_CATALOG=all with an adapter that lists courses: the catalog pass, run before the enrollments (src/sync/catalog). */
  readonly catalog?: CatalogHook;
  /** Whether creates of records the ledger has never seen may skip the lookup (src/sync/lookupPolicy.ts). */
  readonly lookups?: LookupPolicy;
}

export interface QuarantineGuard {
  /** Share (0..1) of attempted writes that may fail; checked once QUARANTINE_MIN_WRITES were attempted. */
  readonly failureShare: number;
  /** Deletes one run may do; undefined when an operator approved the deletes. */
  readonly maxDeletes: number | undefined;
  /** Records the quarantine (the run then stops with status `failed` and this message). */
  onQuarantine(trigger: QuarantineTrigger, message: string, counts: QuarantineCounts, runId: string): Promise<void>;
}

/** The failure share is not judged on fewer writes than this. */
export const QUARANTINE_MIN_WRITES = 20;

export interface RunProgress {
  readonly pages: number;
  readonly counts: Readonly<RunCounts>;
  readonly cursor: string | undefined;
}

export interface RunSyncOptions {
  /** Ignore the cursor and reconcile everything. */
  readonly full?: boolean;
  readonly pageSize?: number;
  readonly trigger?: string;
  readonly runId?: string;
  /** The hard stop (host timeout, SIGINT): work in flight is abandoned, the last checkpoint stands. */
  readonly abortSignal?: AbortSignal;
  readonly onProgress?: (progress: RunProgress) => void;
  readonly leaseTtlMs?: number;
  /** A write dead letter is retried once `base × 2^(attempts−1)` has passed since it last failed (default 15 minutes). */
  readonly deadLetterRetryBaseMs?: number;
}

export { RunInProgressError } from './runLeaseKeeper.js';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

const DEFAULT_PAGE_SIZE = 200;
/** Up to this many records, the single-record path reads their dead letters one by one (in parallel) rather than listing the table. */
const MAX_DEAD_LETTER_READS = 50;

/**
 * One sync pass: pull → map → plan → write → checkpoint, a page at a time (DESIGN.md, "The
 * flow"). The cursor is saved only after every record of a page was written or
 * dead-lettered, so a run stopped at any instant loses nothing.
 */
export function runSync(deps: SyncDeps, options: RunSyncOptions = {}): Promise<RunSummary> {
  return runUnderLease(deps, options, async (run, context) => {
    // The catalog pass writes to Graph before the pass reads its state: the run is in the history first.
    await run.recorded;
    return withCatalogPass(deps.catalog, { ...context, ...options }, () => run.execute());
  });
}

/**
 * The single-record path (webhooks, targeted re-syncs): these records go through the same
 * plan, write and ledger rules as a scheduled run, under the same lease, and the cursor is
 * not touched.
 */
export function syncRecords(deps: SyncDeps, records: readonly EnrollmentRecord[], options: Omit<RunSyncOptions, 'full'> = {}): Promise<RunSummary> {
  return runUnderLease(deps, options, (run) => run.executeRecords(records));
}

/**
 * `viva-sync quarantine clear --allow-deletes`: sends the staged deletes now, whatever their
 * number, from this process; the cursor is not touched.
 */
export function applyStagedDeletes(deps: SyncDeps, options: Omit<RunSyncOptions, 'full'> = {}): Promise<RunSummary> {
  return runUnderLease(deps, options, (run) => run.executeStaged());
}

async function runUnderLease(deps: SyncDeps, options: RunSyncOptions, body: (run: Run, context: { runId: string; abortSignal: AbortSignal }) => Promise<RunOutcome>): Promise<RunSummary> {
  const started = Date.now();
  const runId = options.runId ?? newRunId();
  const { state, logger } = deps;

  const trigger = options.trigger ?? 'manual';
  const lease = await holdRunLease(state.lease, runId, { trigger, logger, ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}), ...signalOpt(options.abortSignal) });
  const run = new Run(deps, runId, options, lease.signal);
  const startedAt = new Date(started).toISOString();
  // Saved while the run reads its starting state (Run.loadState waits for it): a webhook's
  // first Graph request waits for one round trip less. No Graph request precedes it.
  const recorded = state.runs.put({ runId, trigger, status: 'running', startedAt, counts: emptyCounts() });
  recorded.catch(() => undefined);
  run.recorded = recorded;
  try {
    const outcome = await body(run, { runId, abortSignal: lease.signal });
    await recorded;
    const summary: RunSummary = {
      runId,
      status: outcome.status,
      counts: run.counts,
      cursor: { before: run.cursorBefore ?? null, after: run.cursorAfter ?? null },
      durationMs: Date.now() - started,
      dryRun: deps.dryRun === true,
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      ...(deps.gatewayStats !== undefined ? { graph: { ...deps.gatewayStats() } } : {}),
      ...(deps.plannedCalls !== undefined ? { plannedCalls: deps.plannedCalls() } : {}),
      ...(outcome.catalog !== undefined ? { catalog: outcome.catalog } : {}),
    };
    await state.runs.put(run.record({ trigger, startedAt, status: summary.status, message: summary.message }));
    // Flat fields: the workbook and alert rules of infra/app/observability.bicep read them from this line.
    const graph = summary.graph === undefined ? {} : { graphRequests: summary.graph.requests, graphRetries: summary.graph.retries, graphThrottled: summary.graph.throttled };
    logger.info('Sync run finished', { runId, status: summary.status, ...summary.counts, durationMs: summary.durationMs, ...graph });
    emitRunTelemetry({ runId, trigger, status: summary.status, counts: summary.counts, durationMs: summary.durationMs, cursor: run.cursorAfter, graph: summary.graph });
    return summary;
  } catch (err) {
    // A pass that throws (LMS unreachable, storage down, the cursor moved under it) is recorded as failed, then rethrown.
    const reason = failureReason(err);
    logger.error('Sync run failed', { runId, reason });
    emitRunTelemetry({ runId, trigger, status: 'failed', counts: run.counts, durationMs: Date.now() - started, cursor: run.cursorAfter, graph: deps.gatewayStats?.() });
    // After the `running` row, never overtaken by it.
    await recorded.catch(() => undefined);
    await state.runs.put(run.record({ trigger, startedAt, status: 'failed', message: reason })).catch((putErr: unknown) => {
      logger.error('Could not record the failed run', { runId, reason: failureReason(putErr) });
    });
    throw err;
  } finally {
    await lease.release();
  }
}

interface RunOutcome {
  readonly status: FinalRunStatus;
  readonly message?: string;
  readonly catalog?: CatalogSummary;
}

type BatchResult = { readonly complete: true } | { readonly complete: false; readonly fatal?: string; readonly reason: string };

const COMPLETE: Promise<BatchResult> = Promise.resolve({ complete: true });

/** A page handed to the executor: `done` once its writes were checkpointed (or it stopped short). */
interface StartedPage {
  /** The ledger and dead-letter keys of the page's enrollments. */
  readonly keys: ReadonlySet<string>;
  readonly cursor: string | undefined;
  /** The page's number in the pass, from 1. */
  readonly number: number;
  readonly done: Promise<BatchResult>;
}

function enrollmentKeys(items: readonly SourceItem[]): Set<string> {
  return new Set(items.map((item) => (item.kind === 'record' ? externalActivityId(item.record.enrollmentId) : item.key)));
}

function sharesEnrollments(page: StartedPage, items: readonly SourceItem[]): boolean {
  return items.some((item) => page.keys.has(item.kind === 'record' ? externalActivityId(item.record.enrollmentId) : item.key));
}

class Run {
  readonly counts: RunCounts = emptyCounts();
  /** The run's `running` row in the run history, saved (runUnderLease) while the run starts. */
  recorded: Promise<void> = Promise.resolve();
  cursorBefore: string | undefined;
  cursorAfter: string | undefined;
  private etag: string | undefined;
  private ledgerComplete = false;
  /** The ledger epoch the cursor's `ledgerComplete` vouches for (saved with it). */
  private ledgerEpoch: string | undefined;
  /** The provider was recorded as new when this ledger was started: it holds every activity. */
  private providerNew = false;
  private readonly contents: ContentResolver;
  private readonly learners: LearnerResolver;
  /** Dead letters known to this run: key → fingerprint of the record that failed. */
  private deadLetterKeys = new Map<string, string>();
  private fatal: string | undefined;
  private readonly writes = { attempted: 0, failed: 0 };
  /** Deletes this run handed to an executor (what the deletes guard counts). */
  private deletesHandedOver = 0;
  /** A full pass: the ledger's settled rows, read once, so unchanged records cost no ledger read. */
  private snapshot: LedgerSnapshot | undefined;
  /** Writes from this process: dead-letter retries, single records, and inline passes. */
  private readonly inline: InlineExecutor;
  /** How the pass's pages are carried out (inline, or queue workers). */
  private readonly pages: PageExecutor;
  /** Deletes held back until the pass has read every page. */
  private readonly staging: DeleteStaging | undefined;
  /** The cursor this pass started from (where a discard of its staged deletes reads again from). */
  private passStart: string | undefined;

  constructor(
    private readonly deps: SyncDeps,
    private readonly runId: string,
    private readonly options: RunSyncOptions,
    private readonly signal: AbortSignal,
  ) {
    this.contents = new ContentResolver(deps.gateway, deps.state.contents);
    this.learners = new LearnerResolver(deps.gateway, deps.state.learners);
    this.inline = new InlineExecutor({
      gateway: deps.gateway,
      ledger: deps.state.ledger,
      contents: this.contents,
      learners: this.learners,
      providerId: deps.providerId,
      abortSignal: signal,
      shouldStop: () => this.stopReason(),
      onFatal: (reason) => (this.fatal ??= reason),
    });
    this.pages = deps.pages?.(runId) ?? this.inline;
    this.staging = deps.stagedDeletes === undefined ? undefined : new DeleteStaging(deps.stagedDeletes, runId);
  }

  /** The run's row in the run history once it ended. */
  record(end: { readonly trigger: string; readonly startedAt: string; readonly status: FinalRunStatus; readonly message: string | undefined }): RunRecord {
    return {
      runId: this.runId,
      trigger: end.trigger,
      status: end.status,
      startedAt: end.startedAt,
      finishedAt: new Date().toISOString(),
      counts: this.counts,
      ...(this.cursorBefore !== undefined ? { cursorBefore: this.cursorBefore } : {}),
      ...(this.cursorAfter !== undefined ? { cursorAfter: this.cursorAfter } : {}),
      ...(end.message !== undefined ? { message: end.message } : {}),
      // The status page charts each run's Graph traffic; a dry run sends nothing worth keeping.
      ...(this.deps.gatewayStats !== undefined && this.deps.dryRun !== true ? { graph: { ...this.deps.gatewayStats() } } : {}),
    };
  }

  async executeRecords(records: readonly EnrollmentRecord[]): Promise<RunOutcome> {
    const keys = [...new Set(records.map((r) => externalActivityId(r.enrollmentId)))];
    // Only these records' dead letters can park or be cleared here: read by key, not the whole
    // table. Their ledger, content and learner rows do not depend on the starting state: read with it.
    const [, ledger] = await Promise.all([
      this.loadState({ deadLetterKeys: keys }),
      this.deps.state.ledger.getMany(keys, signalOpt(this.signal)),
      readReferencesAhead(records, { contents: this.contents, learners: this.learners, learnerMatch: this.deps.learnerMatch }, signalOpt(this.signal)),
    ]);
    this.counts.read += records.length;
    const result = await this.handleRecords(records, new Map(), this.inline, { ledger });
    return result.complete ? { status: 'succeeded' } : this.stopped(result);
  }

  /**
   * `ledgerComplete` holds for the ledger it was saved with: a ledger table lost or replaced
   * since (another epoch, or none) no longer knows every activity, so creates look up again
   * until a pass from nothing completes. A cursor saved before epochs were recorded with it is
   * taken at its word when the ledger holds rows, and the epoch is recorded from then on.
   * `current`: the ledger's epoch as read with the cursor.
   */
  private async cursorVouchesForLedger(cursor: { readonly ledgerComplete: boolean; readonly ledgerEpoch?: string | undefined }, current: string | undefined): Promise<boolean> {
    const lookups = this.deps.lookups;
    if (!cursor.ledgerComplete || lookups === undefined) return cursor.ledgerComplete;
    const opts = signalOpt(this.signal);
    if (cursor.ledgerEpoch !== undefined) {
      if (current === cursor.ledgerEpoch) {
        this.ledgerEpoch = current;
        return true;
      }
      this.deps.logger.warn('The ledger was replaced since the cursor said it knew every activity: creates look up by external id first until a pass from nothing (--full) completes', { runId: this.runId });
      return false;
    }
    for await (const row of this.deps.state.ledger.listStatus(opts)) {
      void row;
      this.ledgerEpoch = await lookups.ensureLedgerEpoch(opts);
      return true;
    }
    return false;
  }

  /**
   * The run's starting state. The reads are independent, so they go out together: a webhook
   * waits for one storage round trip here, not five. `deadLetterKeys`: the single-record path
   * reads only its records' dead letters instead of listing them all.
   */
  private async loadState(scope: { readonly deadLetterKeys?: readonly string[] } = {}): Promise<void> {
    const { state, lookups } = this.deps;
    const opts = signalOpt(this.signal);
    const [cursor, , epoch, providerNew] = await Promise.all([
      state.cursor.get(opts),
      // The run's `running` row (runUnderLease), saved alongside these reads: in the history before anything is written.
      this.recorded,
      // Read with the cursor rather than after it: the cursor's `ledgerComplete` is judged against it.
      lookups?.ledgerEpoch(opts),
      lookups?.ledgerCoversProvider(this.deps.providerId, opts) ?? false,
      this.loadDeadLetters(scope.deadLetterKeys),
      this.staging?.load(opts),
    ]);
    this.cursorBefore = cursor.value;
    this.cursorAfter = cursor.value;
    this.etag = cursor.etag;
    this.ledgerComplete = await this.cursorVouchesForLedger(cursor, epoch);
    this.providerNew = providerNew;
  }

  /** The dead letters this run may park or clear: all of them, or those of `keys` (a few records). */
  private async loadDeadLetters(keys: readonly string[] | undefined): Promise<void> {
    const { deadLetters } = this.deps.state;
    const opts = signalOpt(this.signal);
    if (keys === undefined || keys.length > MAX_DEAD_LETTER_READS) {
      for await (const letter of deadLetters.list(opts)) this.deadLetterKeys.set(letter.key, letter.recordFingerprint);
      return;
    }
    const letters = await Promise.all(keys.map((key) => deadLetters.get(key, opts)));
    for (const letter of letters) if (letter !== undefined) this.deadLetterKeys.set(letter.key, letter.recordFingerprint);
  }

  async execute(): Promise<RunOutcome> {
    const { adapter, logger } = this.deps;
    await this.loadState();

    const retried = await this.retryDeadLetters();
    if (!retried.complete) return this.stopped(retried);

    // First move the cursor over work handed off earlier (queue workers); pull nothing while some is outstanding.
    const waiting = await this.settle(true);
    if (waiting !== undefined) return waiting;
    const startCursor = this.options.full === true ? undefined : this.cursorAfter;
    this.passStart = startCursor;
    const pages = adapter.listChanges({ ...(startCursor !== undefined ? { cursor: startCursor } : {}), abortSignal: this.signal });
    // A complete listing (a snapshot export) is a full pass whatever the cursor says.
    if (startCursor === undefined || pages.complete === true) await this.loadSnapshot();
    const pageSize = this.options.pageSize ?? DEFAULT_PAGE_SIZE;
    let pageCount = 0;
    const absence = { pageSize, logger, runId: this.runId, abortSignal: this.signal };
    // The page whose writes are in flight while the next one is read and planned (PageExecutor.pagesInHand).
    let inHand: StartedPage | undefined;
    const finishInHand = async (): Promise<RunOutcome | undefined> => {
      const page = inHand;
      inHand = undefined;
      return page === undefined ? undefined : this.finishPage(page);
    };
    try {
      for await (const page of withAbsentWithdrawals(pages, pages.byPage({ maxPageSize: pageSize }), this.deps.state.ledger, absence)) {
        // Checked before each page, after the last checkpoint: a run that has handled every page succeeded.
        if (this.deps.budget.exhausted()) {
          const stopped = await finishInHand();
          if (stopped !== undefined) return stopped;
          logger.info('Time budget spent; stopping at a checkpoint', { runId: this.runId, pages: pageCount });
          return { status: 'partial', message: 'the time budget was spent; the next run continues from the saved cursor' };
        }
        // An enrollment of this page still being written by the page in hand is planned only once that page is checkpointed.
        if (inHand !== undefined && (this.pages.pagesInHand < 2 || sharesEnrollments(inHand, page.items))) {
          const stopped = await finishInHand();
          if (stopped !== undefined) return stopped;
        }
        pageCount += 1;
        const before = inHand;
        inHand = await this.startPage(page.items, { cursor: page.cursor, number: pageCount }, this.pages);
        if (before !== undefined) {
          const stopped = await this.finishPage(before);
          if (stopped !== undefined) return stopped;
        }
      }
      const stopped = await finishInHand();
      if (stopped !== undefined) return stopped;
    } finally {
      // A run that stops early (or throws) still lets the writes it started end and keeps their ledger rows; its cursor stays.
      await inHand?.done.catch(() => undefined);
    }
    // Every page was read: now the pass knows how many deletes it would make.
    const applied = await this.applyStaged(this.pages, true);
    if (applied !== undefined) return applied;
    // A pass that started from nothing and reached the end has seen every record.
    const outstanding = await this.settle(true);
    if (outstanding !== undefined) return outstanding;
    if (!this.ledgerComplete && startCursor === undefined) await this.saveCursor(this.cursorAfter, true);
    return { status: 'succeeded' };
  }

  private async loadSnapshot(): Promise<void> {
    const started = Date.now();
    this.snapshot = await LedgerSnapshot.load(this.deps.state.ledger, signalOpt(this.signal));
    this.deps.logger.info('Read the ledger for a full pass', { runId: this.runId, rows: this.snapshot.size, durationMs: Date.now() - started });
  }

  /** Full pass: a record the ledger already holds as it is costs no ledger read. */
  private async skipSettled(records: readonly EnrollmentRecord[], snapshot: LedgerSnapshot): Promise<EnrollmentRecord[]> {
    const perEnrollment = new Map<string, number>();
    for (const r of records) perEnrollment.set(r.enrollmentId, (perEnrollment.get(r.enrollmentId) ?? 0) + 1);
    const rest: EnrollmentRecord[] = [];
    for (const record of records) {
      const key = externalActivityId(record.enrollmentId);
      // An enrollment named twice in a page is planned whole: there the latest record wins.
      if (perEnrollment.get(record.enrollmentId) === 1 && snapshot.holds(key, wantedStatus(record, this.deps.learnerMatch))) {
        this.counts.unchanged += 1;
        await this.clearDeadLetter(key);
      } else {
        rest.push(record);
      }
    }
    return rest;
  }

  private stopped(result: Exclude<BatchResult, { complete: true }>): RunOutcome {
    if (result.fatal !== undefined) return { status: 'failed', message: result.fatal };
    return { status: 'partial', message: result.reason };
  }

  private async saveCursor(value: string | undefined, ledgerComplete: boolean): Promise<void> {
    try {
      // The epoch a completed ledger is known by, started when a pass first completes one.
      if (ledgerComplete && this.ledgerEpoch === undefined) this.ledgerEpoch = await this.deps.lookups?.ensureLedgerEpoch(signalOpt(this.signal));
      this.etag = await this.deps.state.cursor.save({ value, ledgerComplete, ledgerEpoch: this.ledgerEpoch, runId: this.runId }, this.etag, signalOpt(this.signal));
    } catch (err) {
      if (err instanceof CursorConflictError) throw new Error('The cursor was moved by another run during this run; stopping without overwriting it.');
      throw err;
    }
    this.cursorAfter = value;
    this.ledgerComplete = ledgerComplete;
  }

  /** Write dead letters from earlier runs get another chance before new work. */
  private async retryDeadLetters(): Promise<BatchResult> {
    const records: EnrollmentRecord[] = [];
    const base = this.options.deadLetterRetryBaseMs ?? 15 * 60_000;
    for await (const letter of this.deps.state.deadLetters.list({ retryableOnly: true, ...signalOpt(this.signal) })) {
      if (letter.kind !== 'write') continue;
      // Back off across runs, so a record that cannot succeed yet is not retried every 15 minutes.
      if (Date.now() - Date.parse(letter.lastFailedAt) < base * 2 ** Math.max(0, letter.attempts - 1)) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(letter.record);
      } catch {
        continue;
      }
      const result = parseEnrollment(parsed);
      if (result.ok) records.push(result.enrollment);
    }
    if (records.length === 0) return { complete: true };
    this.deps.logger.info('Retrying dead letters from earlier runs', { runId: this.runId, count: records.length });
    const pageSize = this.options.pageSize ?? DEFAULT_PAGE_SIZE;
    for (let i = 0; i < records.length; i += pageSize) {
      const result = await this.handleRecords(records.slice(i, i + pageSize), new Map(), this.inline, { retrying: true });
      if (!result.complete) return result;
    }
    return { complete: true };
  }

  /** The staged deletes, approved: sent from this process. */
  async executeStaged(): Promise<RunOutcome> {
    await this.loadState();
    const stopped = await this.applyStaged(this.inline, false);
    return stopped ?? { status: 'succeeded' };
  }

  /**
   * After the pass read every page: quarantines with none sent when the staged deletes exceed
   * SYNC_QUARANTINE_MAX_DELETES (`judge`), else carries them out a page at a time. A delete that
   * was sent, dead-lettered or handed to the queue workers leaves the staging; one not attempted
   * (budget, abort) stays for the next pass.
   */
  private async applyStaged(executor: PageExecutor, judge: boolean): Promise<RunOutcome | undefined> {
    const staging = this.staging;
    if (staging === undefined || staging.size === 0) return undefined;
    const total = staging.size;
    const max = this.deps.quarantine?.maxDeletes;
    if (judge && max !== undefined && total > max) {
      const message = `quarantined: this run would delete ${total} activities, more than SYNC_QUARANTINE_MAX_DELETES (${max}); none was deleted: they are staged. Check the LMS, then run \`viva-sync quarantine clear --allow-deletes\` to delete them, or \`viva-sync quarantine clear\` to discard them (the next pass reads those records again)`;
      const result = await this.quarantine('deletes', message, total);
      return this.stopped(result);
    }
    this.deps.logger.info('Applying the staged deletes', { runId: this.runId, deletes: total });
    const opts = signalOpt(this.signal);
    for (const work of staging.pages(this.options.pageSize ?? DEFAULT_PAGE_SIZE)) {
      const outcomes = await executor.carryOut(work, opts);
      const result = await this.checkpointOutcomes(outcomes, work.positions, work.records);
      this.tally(outcomes);
      await executor.endPage(undefined, opts);
      const unfinished = new Set(outcomes.filter((o) => o.kind === 'deferred' || o.kind === 'fatal').map((o) => o.item.externalId));
      await staging.applied(work.items.map((i) => i.externalId).filter((id) => !unfinished.has(id)), opts);
      const stopped = result.complete ? await this.failureGuard() : result;
      if (stopped !== undefined && !stopped.complete) return this.stopped(stopped);
    }
    return undefined;
  }

  private tally(outcomes: readonly WriteOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.kind === 'created' || outcome.kind === 'updated' || outcome.kind === 'deleted' || outcome.kind === 'failed') this.writes.attempted += 1;
      if (outcome.kind === 'failed') this.writes.failed += 1;
    }
  }

  /** Reads a page's records, dead-letters the invalid ones, plans the rest and hands their work over. */
  private async startPage(items: readonly SourceItem[], page: { readonly cursor: string | undefined; readonly number: number }, executor: PageExecutor): Promise<StartedPage> {
    this.counts.read += items.length;
    const records: EnrollmentRecord[] = [];
    const positions = new Map<string, string>();
    for (const item of items) {
      if (item.kind === 'record') {
        records.push(item.record);
        positions.set(item.record.enrollmentId, item.position);
        continue;
      }
      const recorded = await recordFailure(
        this.deps.state.deadLetters,
        { key: item.key, kind: 'invalid', reason: item.reason, record: item.raw, position: item.position, ...(item.enrollmentId !== undefined ? { enrollmentId: item.enrollmentId } : {}) },
        new Date(),
        signalOpt(this.signal),
      );
      if (recorded) {
        this.counts.failed += 1;
        this.deadLetterKeys.set(item.key, fingerprint(item.raw));
        this.deps.logger.warn('Record refused', { runId: this.runId, position: item.position, reason: item.reason });
      } else {
        this.counts.unchanged += 1;
      }
    }
    const { done } = await this.startRecords(records, positions, executor, { stageDeletes: true });
    return { ...page, keys: enrollmentKeys(items), done };
  }

  /**
   * After the page's writes: hands its cursor to the executor and saves what is safe. A page
   * that did not complete stops the pass (its outcome), and its cursor is not saved.
   */
  private async finishPage(page: StartedPage): Promise<RunOutcome | undefined> {
    const result = await page.done;
    if (!result.complete) return this.stopped(result);
    await this.pages.endPage(page.cursor, signalOpt(this.signal));
    const settled = await this.settle(false);
    if (settled?.status === 'failed') return settled;
    this.options.onProgress?.({ pages: page.number, counts: { ...this.counts }, cursor: this.cursorAfter });
    return undefined;
  }

  /** Plans the records and carries them out: done once they were written (or handed on) and checkpointed. */
  private async handleRecords(all: readonly EnrollmentRecord[], positions: ReadonlyMap<string, string>, executor: PageExecutor, how: { readonly retrying?: boolean; readonly ledger?: ReadonlyMap<string, LedgerEntry> } = {}): Promise<BatchResult> {
    return (await this.startRecords(all, positions, executor, how)).done;
  }

  /**
   * Plans the records and hands their work to the executor; the promise it returns (not awaited
   * here, so the next page can be planned meanwhile) settles once that work was checkpointed.
   * `stageDeletes`: a pass's page, whose deletes wait for the end of the read; `retrying`: dead
   * letters due for a retry.
   */
  private async startRecords(
    all: readonly EnrollmentRecord[],
    positions: ReadonlyMap<string, string>,
    executor: PageExecutor,
    how: { readonly retrying?: boolean; readonly stageDeletes?: boolean; readonly ledger?: ReadonlyMap<string, LedgerEntry> } = {},
  ): Promise<{ readonly done: Promise<BatchResult> }> {
    const retrying = how.retrying === true;
    await this.staging?.supersede(all, (r) => externalActivityId(r.enrollmentId), signalOpt(this.signal));
    // A record read again exactly as it failed waits for its retry turn (retryDeadLetters), so
    // re-reads do not burn its attempts; a changed record is tried at once.
    const unparked = retrying ? all : all.filter((r) => {
      const key = externalActivityId(r.enrollmentId);
      const parked = this.deadLetterKeys.has(key) && this.deadLetterKeys.get(key) === fingerprint(JSON.stringify(r));
      if (parked) this.counts.unchanged += 1;
      return !parked;
    });
    const records = this.snapshot === undefined ? unparked : await this.skipSettled(unparked, this.snapshot);
    if (records.length === 0) return { done: COMPLETE };
    const { state } = this.deps;
    const opts = signalOpt(this.signal);
    // Queue mode: an enrollment still in a batch in flight is planned again only once that batch is written.
    if (!(await executor.ready(records.map((r) => externalActivityId(r.enrollmentId)), opts))) {
      return { done: Promise.resolve({ complete: false, reason: 'an enrollment of this page is still in a work batch the queue workers have not finished' }) };
    }
    // `how.ledger`: the single-record path read these rows already, under this run's lease.
    const ledger = how.ledger ?? (await state.ledger.getMany([...new Set(records.map((r) => externalActivityId(r.enrollmentId)))], opts));

    // A record older than what was last written (a late duplicate, a stale dead letter) changes nothing.
    const current = records.filter((r) => {
      const entry = ledger.get(externalActivityId(r.enrollmentId));
      const stale = entry?.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt > r.updatedAt;
      if (stale) this.counts.unchanged += 1;
      return !stale;
    });
    const plan = planChanges({ records: current, ledger, ledgerComplete: this.ledgerComplete || this.providerNew, learnerMatch: this.deps.learnerMatch });
    for (const item of plan.items) this.snapshot?.forget(item.externalId);
    this.counts.unchanged += plan.unchanged.length + (current.length - plan.items.length - plan.unchanged.length - plan.rejected.length);
    for (const record of plan.unchanged) await this.clearDeadLetter(externalActivityId(record.enrollmentId));

    for (const rejection of plan.rejected) {
      await this.fail({
        key: externalActivityId(rejection.record.enrollmentId),
        kind: 'invalid',
        reason: rejection.reason,
        record: JSON.stringify(rejection.record),
        enrollmentId: rejection.record.enrollmentId,
        ...positionOf(positions, rejection.record.enrollmentId),
      });
    }

    let items = plan.items;
    if (how.stageDeletes === true && this.staging !== undefined) {
      // Creates and updates go on; deletes wait until the pass has read every page.
      await this.staging.stage(items.flatMap((i) => (i.kind === 'delete' ? [i] : [])), positions, { cursor: this.passStart }, opts);
      items = items.filter((i) => i.kind !== 'delete');
    } else {
      const deletes = items.filter((i) => i.kind === 'delete').length;
      const overDeletes = await this.deleteGuard(deletes);
      if (overDeletes !== undefined) return { done: Promise.resolve(overDeletes) };
      this.deletesHandedOver += deletes;
    }

    const byId = new Map(current.map((r) => [r.enrollmentId, r]));
    const done = executor.carryOut({ items, records: byId, positions, ledger }, opts).then(async (outcomes) => {
      const result = await this.checkpointOutcomes(outcomes, positions, byId);
      this.tally(outcomes);
      return result.complete ? ((await this.failureGuard()) ?? result) : result;
    });
    // Awaited by finishPage; a run that throws first still waits for it (execute's finally) without an unhandled rejection.
    done.catch(() => undefined);
    return { done };
  }

  /** Before a page is written: would this run delete more than SYNC_QUARANTINE_MAX_DELETES? */
  private async deleteGuard(pageDeletes: number): Promise<BatchResult | undefined> {
    const max = this.deps.quarantine?.maxDeletes;
    const deletes = this.deletesHandedOver + pageDeletes;
    if (max === undefined || pageDeletes === 0 || deletes <= max) return undefined;
    const message = `quarantined: this run would delete ${deletes} activities, more than SYNC_QUARANTINE_MAX_DELETES (${max}); the page was not written. Check the LMS, then run \`viva-sync quarantine clear\` (with --allow-deletes if the deletes are intended)`;
    return this.quarantine('deletes', message, deletes);
  }

  /** After a page: did more than SYNC_QUARANTINE_FAILURE_SHARE of this run's writes fail? */
  private async failureGuard(): Promise<BatchResult | undefined> {
    const guard = this.deps.quarantine;
    // Two pages in hand may both cross the line: the sync is quarantined once.
    if (this.fatal !== undefined) return { complete: false, fatal: this.fatal, reason: this.fatal };
    const { attempted, failed } = this.writes;
    if (guard === undefined || attempted < QUARANTINE_MIN_WRITES || failed / attempted <= guard.failureShare) return undefined;
    const message = `quarantined: ${failed} of this run's ${attempted} writes failed, more than SYNC_QUARANTINE_FAILURE_SHARE (${guard.failureShare}); see \`viva-sync deadletters list\`, fix the cause, then run \`viva-sync quarantine clear\``;
    return this.quarantine('failureShare', message, this.counts.deleted);
  }

  private async quarantine(trigger: QuarantineTrigger, message: string, deletes: number): Promise<Exclude<BatchResult, { complete: true }>> {
    this.deps.logger.error('Quarantining the sync', { runId: this.runId, trigger, attempted: this.writes.attempted, failed: this.writes.failed, deletes });
    // Set first: no write starts from here on, in this page or the next one in hand.
    this.fatal ??= message;
    await this.deps.quarantine?.onQuarantine(trigger, message, { ...this.writes, deletes }, this.runId);
    return { complete: false, fatal: message, reason: message };
  }

  /**
   * Saves the cursor the executor says is safe and adds the writes it finished elsewhere (queue
   * workers) to this run's counts; with `wait`, until none is outstanding. `failed` when those
   * writes quarantined the sync; `partial` when work is still outstanding.
   */
  private async settle(wait: boolean): Promise<RunOutcome | undefined> {
    const until = Date.now() + this.pages.wait.maxWaitMs;
    for (;;) {
      const settled = await this.pages.settle(signalOpt(this.signal));
      if (settled.cursor !== undefined && settled.cursor !== this.cursorAfter) await this.saveCursor(settled.cursor, this.ledgerComplete);
      const { created, updated, deleted, failed } = settled.written;
      if (created + updated + deleted + failed > 0) {
        // Writes done elsewhere count in this run's summary, exit code and failure-share quarantine.
        this.counts.created += created;
        this.counts.updated += updated;
        this.counts.deleted += deleted;
        this.counts.failed += failed;
        this.writes.attempted += created + updated + deleted + failed;
        this.writes.failed += failed;
        const quarantined = await this.failureGuard();
        if (quarantined !== undefined && !quarantined.complete) return this.stopped(quarantined);
      }
      if (settled.outstanding === 0) return undefined;
      if (!wait || Date.now() >= until || this.deps.budget.exhausted() || this.signal.aborted) {
        return { status: 'partial', message: `${settled.outstanding} work batches are still with the queue workers; the cursor waits for them` };
      }
      await abortableSleep(this.pages.wait.pollMs, this.signal);
    }
  }

  private stopReason(): string | undefined {
    if (this.fatal !== undefined) return this.fatal;
    if (this.signal.aborted) return 'the run was cancelled';
    if (this.deps.budget.exhausted()) return 'the time budget was spent';
    return undefined;
  }

  private async checkpointOutcomes(outcomes: readonly WriteOutcome[], positions: ReadonlyMap<string, string>, records: ReadonlyMap<string, EnrollmentRecord>): Promise<BatchResult> {
    const now = new Date().toISOString();
    const entries: LedgerEntry[] = [];
    let deferred: string | undefined;
    for (const outcome of outcomes) {
      const item = outcome.item;
      switch (outcome.kind) {
        case 'created':
        case 'updated':
        case 'deleted': {
          const entry = ledgerEntryOf(outcome, now);
          if (entry === undefined) break;
          entries.push(entry);
          this.counts[outcome.kind] += 1;
          break;
        }
        case 'failed':
          await this.fail({
            key: item.externalId,
            kind: 'write',
            reason: outcome.reason,
            record: JSON.stringify(records.get(item.enrollmentId) ?? { enrollmentId: item.enrollmentId }),
            enrollmentId: item.enrollmentId,
            ...(outcome.code !== undefined ? { code: outcome.code } : {}),
            ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}),
            ...positionOf(positions, item.enrollmentId),
          });
          break;
        case 'deferred':
        case 'fatal':
          deferred ??= outcome.reason;
          break;
      }
    }
    // Ledger rows first: even an incomplete page keeps what it did, so a re-read costs nothing.
    if (entries.length > 0) await this.deps.state.ledger.putMany(entries, signalOpt(this.signal));
    for (const entry of entries) await this.clearDeadLetter(entry.externalId);
    if (this.fatal !== undefined) return { complete: false, fatal: this.fatal, reason: this.fatal };
    if (deferred !== undefined) return { complete: false, reason: deferred };
    return { complete: true };
  }

  private async fail(report: Parameters<typeof recordFailure>[1]): Promise<void> {
    const recorded = await recordFailure(this.deps.state.deadLetters, report, new Date(), signalOpt(this.signal));
    if (recorded || report.kind === 'write') {
      this.counts.failed += 1;
      this.deadLetterKeys.set(report.key, fingerprint(report.record));
      this.deps.logger.warn('Record dead-lettered', { runId: this.runId, key: report.key, reason: report.reason, ...(report.position !== undefined ? { position: report.position } : {}) });
    } else {
      this.counts.unchanged += 1;
    }
  }

  private async clearDeadLetter(key: string): Promise<void> {
    if (!this.deadLetterKeys.has(key)) return;
    await this.deps.state.deadLetters.delete(key, signalOpt(this.signal));
    this.deadLetterKeys.delete(key);
  }
}

function positionOf(positions: ReadonlyMap<string, string>, enrollmentId: string): { position?: string } {
  const position = positions.get(enrollmentId);
  return position === undefined ? {} : { position };
}

function signalOpt(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
