/**
 * Gathers the status page's data from the state tables (and the work queues in queue mode).
 * Bounded however large the state grows: the runs are one short page (newest first), the dead
 * letters are read without their records and folded into groups as they stream by, stopping at
 * a count and a time cap, and only the few samples shown are read in full.
 */
import type { QuarantineStore } from '../state/quarantineStore.js';
import type { RunRecord, StateOperationOptions, SyncState } from '../state/types.js';
import { DeadLetterGrouper, idsOfRecord } from './deadLetterGroups.js';
import { CHART_RUNS, STATUS_DATA_VERSION, type DeadLetterGroup, type QueueView, type QuarantineView, type RunView, type StatusData } from './statusData.js';
import { judge } from './verdict.js';

/** The queue mode's parts the page reads: message counts and the planner's open pages. */
export interface QueueProbe {
  /** Approximate messages in the work queue and its poison queue. */
  depths(options?: StateOperationOptions): Promise<{ readonly depth: number; readonly poisonDepth: number }>;
  outstandingPages(options?: StateOperationOptions): Promise<number>;
}

export interface StatusSource {
  readonly state: Pick<SyncState, 'runs' | 'deadLetters' | 'cursor' | 'lease'>;
  readonly quarantine?: QuarantineStore;
  readonly mode: 'inline' | 'queue';
  readonly queue?: QueueProbe;
}

export interface CollectStatusOptions extends StateOperationOptions {
  readonly now?: Date;
  /** A pass older than this makes the verdict degraded (default 60). */
  readonly maxAgeMinutes?: number;
  /** Dead letters read at most (default 200,000); past it the overview says it is incomplete. */
  readonly maxDeadLetters?: number;
  /** Time the dead-letter scan may take (default 10 s), for an HTTP answer well inside its limits. */
  readonly deadLetterScanMs?: number;
  /** Groups whose samples are read in full (default 10). */
  readonly sampledGroups?: number;
}

const DEFAULT_MAX_DEAD_LETTERS = 200_000;
const DEFAULT_SCAN_MS = 10_000;
const DEFAULT_SAMPLED_GROUPS = 10;

export const RETRY_COMMAND = 'viva-sync deadletters retry --all';
export const LIST_COMMAND = 'viva-sync deadletters list';

export async function collectStatus(source: StatusSource, options: CollectStatusOptions = {}): Promise<StatusData> {
  const now = options.now ?? new Date();
  const op = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const [records, cursor, lease, quarantine, queue, deadLetters] = await Promise.all([
    source.state.runs.listRecent(CHART_RUNS, op),
    source.state.cursor.get(op),
    source.state.lease.current(op),
    source.quarantine?.get(op),
    readQueue(source, op),
    readDeadLetters(source.state.deadLetters, options),
  ]);
  const runs = records.map(runView);
  const quarantineView: QuarantineView | null =
    quarantine === undefined
      ? null
      : {
          active: quarantine.active,
          trigger: quarantine.trigger ?? null,
          reason: quarantine.reason ?? null,
          since: quarantine.since ?? null,
          runId: quarantine.runId ?? null,
          counts: quarantine.counts ?? null,
          clearCommand: 'viva-sync quarantine clear',
        };
  const graphRuns = runs.filter((r) => r.graph !== null);
  return {
    version: STATUS_DATA_VERSION,
    generatedAt: now.toISOString(),
    health: judge({ runs, quarantine: quarantineView, now, ...(options.maxAgeMinutes !== undefined ? { maxAgeMinutes: options.maxAgeMinutes } : {}) }),
    runs,
    graph: {
      runs: graphRuns.length,
      requests: sum(graphRuns, (r) => r.graph?.requests ?? 0),
      retries: sum(graphRuns, (r) => r.graph?.retries ?? 0),
      throttled: sum(graphRuns, (r) => r.graph?.throttled ?? 0),
    },
    deadLetters,
    quarantine: quarantineView,
    cursor: {
      value: cursor.value ?? null,
      savedAt: cursor.savedAt ?? null,
      ageSeconds: cursor.savedAt === undefined ? null : Math.max(0, Math.round((now.getTime() - Date.parse(cursor.savedAt)) / 1000)),
      ledgerComplete: cursor.ledgerComplete,
    },
    lease: lease === undefined ? null : { holder: lease.owner, expiresAt: lease.expiresAt },
    queue,
    catalog: null,
  };
}

function runView(run: RunRecord): RunView {
  const started = Date.parse(run.startedAt);
  const finished = run.finishedAt === undefined ? Number.NaN : Date.parse(run.finishedAt);
  return {
    runId: run.runId,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    durationMs: Number.isFinite(finished) && Number.isFinite(started) ? Math.max(0, finished - started) : null,
    counts: { ...run.counts },
    graph: run.graph === undefined ? null : { ...run.graph },
    message: run.message ?? null,
  };
}

async function readQueue(source: StatusSource, op: StateOperationOptions): Promise<QueueView> {
  if (source.mode !== 'queue' || source.queue === undefined) return { mode: source.mode, depth: null, poisonDepth: null, outstandingPages: null };
  const [depths, outstandingPages] = await Promise.all([source.queue.depths(op), source.queue.outstandingPages(op)]);
  return { mode: 'queue', depth: depths.depth, poisonDepth: depths.poisonDepth, outstandingPages };
}

async function readDeadLetters(store: SyncState['deadLetters'], options: CollectStatusOptions): Promise<StatusData['deadLetters']> {
  const max = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
  const deadline = Date.now() + (options.deadLetterScanMs ?? DEFAULT_SCAN_MS);
  // Our own controller: stopping at the cap must also stop the page being fetched.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.abortSignal?.reason);
  options.abortSignal?.addEventListener('abort', onAbort, { once: true });
  const grouper = new DeadLetterGrouper();
  let complete = true;
  try {
    for await (const letter of store.listBrief({ abortSignal: controller.signal })) {
      grouper.add(letter);
      if (grouper.scanned >= max || Date.now() > deadline) {
        complete = false;
        break;
      }
    }
  } finally {
    options.abortSignal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
  options.abortSignal?.throwIfAborted();
  const grouping = grouper.result();
  const sampled = options.sampledGroups ?? DEFAULT_SAMPLED_GROUPS;
  const op = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const groups = await Promise.all(grouping.groups.map((group, i) => (i < sampled ? withRecordIds(store, group, op) : group)));
  return { scanned: grouping.scanned, complete, oldestFailedAt: grouping.oldestFailedAt, groups, otherGroups: grouping.otherGroups, retryCommand: RETRY_COMMAND, listCommand: LIST_COMMAND };
}

/** Fills in the learner and course of a group's samples from their stored records. */
async function withRecordIds(store: SyncState['deadLetters'], group: DeadLetterGroup, op: StateOperationOptions): Promise<DeadLetterGroup> {
  const samples = await Promise.all(
    group.samples.map(async (sample) => {
      const letter = await store.get(sample.key, op);
      return letter === undefined ? sample : { ...sample, ...idsOfRecord(letter.record) };
    }),
  );
  return { ...group, samples };
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
