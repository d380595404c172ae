import type { BatchCounts } from '../../state/outstandingStore.js';
import type { WorkItem } from '../types.js';
import type { ItemSource } from './messages.js';

/** One planned page, handed to the queue instead of being written by the planner. */
export interface QueuedPage {
  readonly runId: string;
  /** The source cursor after this page (undefined: the adapter gave none). */
  readonly cursor: string | undefined;
  readonly items: readonly WorkItem[];
  readonly sources: Readonly<Record<string, ItemSource>>;
}

export interface SettleResult {
  /** The newest cursor that every page up to it (this run's and earlier ones') has reached: written or dead-lettered. */
  readonly cursor: string | undefined;
  /** Work batches of the pages the cursor waits for (those behind the first unfinished page are not looked at one by one). */
  readonly outstanding: number;
  /** What the workers did in the pages this call passed (each page is passed once). */
  readonly written: BatchCounts;
}

/**
 * The queue side of queue mode's executor (`QueueExecutor`, `SyncDeps.pages`): the run plans as in inline mode, then
 * the sink enqueues each page's work items, and the cursor follows the pages the workers
 * finished, never passing one that still has outstanding items.
 */
export interface PageSink {
  /** How long a run waits for the workers at its end (and before re-planning an enrollment still in flight). */
  readonly maxWaitMs: number;
  readonly pollMs: number;
  /** Before planning these activities: waits until none is in a batch still outstanding; false when the wait timed out. */
  beforePlan(externalIds: readonly string[], options: { abortSignal?: AbortSignal }): Promise<boolean>;
  enqueue(page: QueuedPage, options: { abortSignal?: AbortSignal }): Promise<void>;
  settle(runId: string, options: { abortSignal?: AbortSignal }): Promise<SettleResult>;
}
