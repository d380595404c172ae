/**
 * Work queued by the HTTP endpoints flows back through the sync passes: a pass first rewinds the
 * cursor for full re-sync requests still waiting for the lease, runs, counts itself towards the
 * requests it carries out, and then drains the records webhooks could not sync at once.
 */
import { parseEnrollment, type EnrollmentRecord } from '../mapping/enrollment.js';
import type { HttpState } from '../state/httpState.js';
import type { PendingStore, StoredPendingRecord } from '../state/pendingStore.js';
import type { Logger } from './logger.js';
import type { SyncRunner, SyncRunOptions } from './openSync.js';
import { pickUpResyncRequests, recordResyncPass } from './resync.js';
import { currentRecord, isRunInProgress } from './singleRecord.js';
import { emptyCounts, type RunSummary } from './types.js';
import { newRunId } from './engine.js';

/** Records drained per pass; the rest waits for the next one. */
export const DRAIN_BATCH = 200;
const LMS_CONCURRENCY = 4;

export interface DrainReport {
  /** Queued records found. */
  readonly queued: number;
  /** Removed from the queue (handled, or unknown to the LMS and the queue alike). */
  readonly drained: number;
  readonly summary?: RunSummary;
  /** Why nothing was run (another run holds the lease, …). */
  readonly skipped?: string;
}

export interface DrainOptions {
  readonly logger: Logger;
  readonly abortSignal?: AbortSignal;
  readonly maxRecords?: number;
}

/**
 * Runs the queued records through `runner.runRecords` (same rules as every run; the current
 * LMS state wins over the queued copy when newer). A record leaves the queue only when its run
 * succeeded and nobody queued a newer one meanwhile; otherwise it is tried again next time,
 * which costs nothing when the ledger already has it.
 */
export async function drainPending(runner: Pick<SyncRunner, 'adapter' | 'runRecords'>, pending: PendingStore, options: DrainOptions): Promise<DrainReport> {
  const entries = await pending.listRecords(options.maxRecords ?? DRAIN_BATCH, signalOpt(options.abortSignal));
  if (entries.length === 0) return { queued: 0, drained: 0 };
  const records: EnrollmentRecord[] = [];
  const handled: StoredPendingRecord[] = [];
  const unknown: StoredPendingRecord[] = [];
  const queue = [...entries];
  await Promise.all(
    Array.from({ length: Math.min(LMS_CONCURRENCY, queue.length) }, async () => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        const current = await currentRecord(runner.adapter, entry.enrollmentId, queuedRecord(entry), { ...signalOpt(options.abortSignal), logger: options.logger });
        if (current.kind === 'record') {
          records.push(current.record);
          handled.push(entry);
        } else if (current.kind === 'unknown' || current.kind === 'invalid') {
          // Nothing to write: an invalid LMS record is dead-lettered by the run that reads it.
          unknown.push(entry);
        }
        // 'unavailable': the LMS could not answer; the entry waits for the next pass.
      }
    }),
  );
  let drained = 0;
  for (const entry of unknown) if (await pending.remove(entry)) drained += 1;
  if (records.length === 0) return { queued: entries.length, drained };
  let summary: RunSummary;
  try {
    summary = await runner.runRecords(records, { trigger: 'pending', ...signalOpt(options.abortSignal) });
  } catch (err) {
    if (isRunInProgress(err)) return { queued: entries.length, drained, skipped: 'another run holds the run lease' };
    throw err;
  }
  if (summary.status === 'succeeded') {
    for (const entry of handled) if (await pending.remove(entry)) drained += 1;
  }
  options.logger.info('Queued records drained', { queued: entries.length, drained, runId: summary.runId, status: summary.status });
  return { queued: entries.length, drained, summary };
}

function queuedRecord(entry: StoredPendingRecord): EnrollmentRecord | undefined {
  if (entry.record === undefined) return undefined;
  try {
    const parsed = parseEnrollment(JSON.parse(entry.record));
    return parsed.ok ? parsed.enrollment : undefined;
  } catch {
    return undefined;
  }
}

export interface SyncPassOptions {
  readonly logger: Logger;
  readonly run: SyncRunOptions;
  /** A runner for the drain (a shorter time budget than the pass's); default the pass's runner. */
  readonly drainRunner?: () => Promise<Pick<SyncRunner, 'adapter' | 'runRecords'>>;
}

/**
 * One sync pass with the queued work around it (the timer's and `viva-sync sync`'s). Queue
 * work is best effort: a failure there is logged and never fails the pass. A dry run only runs.
 */
export async function runSyncPass(runner: SyncRunner, queues: HttpState, options: SyncPassOptions): Promise<RunSummary> {
  if (options.run.dryRun === true) return runner.run(options.run);
  const skipped = await skipWhileQuarantined(runner, options);
  if (skipped !== undefined) return skipped;
  const ctx = { state: runner.state, pending: queues.pending, logger: options.logger };
  await bestEffort(options.logger, 'pick up re-sync requests', () => pickUpResyncRequests(ctx));
  const passStartedAt = new Date().toISOString();
  const summary = await runner.run(options.run);
  await bestEffort(options.logger, 'record re-sync progress', () => recordResyncPass(ctx, summary, passStartedAt));
  // A pass that stopped early leaves the drain to the next one, which has a fresh budget.
  if (summary.status === 'succeeded') {
    await bestEffort(options.logger, 'drain queued records', async () => {
      const drainRunner = options.drainRunner === undefined ? runner : await options.drainRunner();
      await drainPending(drainRunner, queues.pending, { logger: options.logger, ...signalOpt(options.run.abortSignal) });
    });
  }
  await bestEffort(options.logger, 'purge expired webhook ids', () => queues.webhookIds.purgeExpired());
  return summary;
}

/** While the sync is quarantined a pass does nothing but say so (in its summary and the run history). */
async function skipWhileQuarantined(runner: SyncRunner, options: SyncPassOptions): Promise<RunSummary | undefined> {
  const quarantine = await runner.quarantine?.get(signalOpt(options.run.abortSignal));
  if (quarantine?.active !== true) return undefined;
  const reason = (quarantine.reason ?? 'quarantined').replace(/^quarantined: /, '');
  const message = `quarantined: ${reason} (since ${quarantine.since ?? 'unknown'}; \`viva-sync quarantine clear\` lifts it)`;
  const cursor = (await runner.state.cursor.get(signalOpt(options.run.abortSignal))).value ?? null;
  const now = new Date().toISOString();
  const runId = options.run.runId ?? newRunId();
  await runner.state.runs.put({ runId, trigger: options.run.trigger ?? 'manual', status: 'failed', startedAt: now, finishedAt: now, counts: emptyCounts(), message });
  options.logger.warn('The sync is quarantined; skipping this pass', { since: quarantine.since, trigger: quarantine.trigger });
  return { runId, status: 'failed', counts: emptyCounts(), cursor: { before: cursor, after: cursor }, durationMs: 0, dryRun: false, message };
}

async function bestEffort(logger: Logger, what: string, task: () => Promise<unknown>): Promise<void> {
  try {
    await task();
  } catch (err) {
    logger.warn(`Could not ${what}`, { reason: err instanceof Error ? err.message : String(err) });
  }
}

function signalOpt(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
