import type { EnrollmentRecord } from '../mapping/enrollment.js';
import type { BatchCounts } from '../state/outstandingStore.js';
import type { LedgerEntry } from '../state/types.js';
import type { WorkItem } from './types.js';
import type { WriteOutcome } from './writer.js';

export interface ExecutorOptions {
  readonly abortSignal?: AbortSignal;
}

/** One page's planned work, as the engine hands it over. */
export interface PageWork {
  readonly items: readonly WorkItem[];
  /** The source records by enrollment id: what a dead letter keeps, so a later run can retry it. */
  readonly records: ReadonlyMap<string, EnrollmentRecord>;
  /** Positions in the source by enrollment id (file and line, page and index). */
  readonly positions: ReadonlyMap<string, string>;
  /** The ledger rows the plan was made from. */
  readonly ledger: ReadonlyMap<string, LedgerEntry>;
}

/** What an executor can account for now of the work handed to it. */
export interface Settlement {
  /** The newest source cursor every handed-over page has reached; undefined: nothing new to save. */
  readonly cursor: string | undefined;
  /** Units of work still being carried out elsewhere (queue mode: work batches). */
  readonly outstanding: number;
  /** Writes finished elsewhere since the last settlement; they count in this run. */
  readonly written: BatchCounts;
}

/**
 * How a page's planned work is carried out: written by this process (`InlineExecutor`) or
 * handed to queue workers (`QueueExecutor`). The engine reads, plans and checkpoints; it asks
 * the executor when a planned page may go, hands it over, and saves the cursor the executor
 * says is safe. Outcomes the executor returns are checkpointed by the engine (ledger rows,
 * dead letters, counts); work carried out elsewhere is checkpointed there and reported through
 * `settle`.
 */
export interface PageExecutor {
  /** How long the run waits for outstanding work at its start and end, and how often it looks. */
  readonly wait: { readonly maxWaitMs: number; readonly pollMs: number };
  /**
   * Pages of a pass that may be in hand at once. 2: the engine reads and plans the next page (LMS
   * read, ledger read) while this one's writes are in flight, so Graph is never idle between
   * pages; each page is still checkpointed, and its cursor saved, in order. 1: a page is handed
   * over only once the one before it ended (the queue executor collects a page until `endPage`).
   */
  readonly pagesInHand: 1 | 2;
  /** Before planning these activities: false when some are still being written elsewhere and the wait ran out. */
  ready(externalIds: readonly string[], options: ExecutorOptions): Promise<boolean>;
  /** Carries out the items (or hands them on); returns the outcomes of the writes made here. */
  carryOut(work: PageWork, options: ExecutorOptions): Promise<readonly WriteOutcome[]>;
  /** Every item of the page read up to `cursor` was handed over. */
  endPage(cursor: string | undefined, options: ExecutorOptions): Promise<void>;
  /** What finished since the last call, and the cursor that is now safe to save. */
  settle(options: ExecutorOptions): Promise<Settlement>;
}
