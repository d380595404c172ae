import type { WriteOutcome } from '../writer.js';
import type { ExecutorOptions, PageExecutor, PageWork, Settlement } from '../pageExecutor.js';
import type { WorkItem } from '../types.js';
import type { ItemSource } from './messages.js';
import type { PageSink } from './pageSink.js';

/**
 * Queue mode's executor: a page's items are collected and, once the page was read, sent as work
 * batches (src/sync/queue/enqueuePlan.ts); the workers write and checkpoint them
 * (processWorkBatch.ts), and `settle` reports what they finished and how far the cursor may go.
 */
export class QueueExecutor implements PageExecutor {
  readonly wait: { readonly maxWaitMs: number; readonly pollMs: number };
  readonly pagesInHand = 1;
  private page: { items: WorkItem[]; sources: Record<string, ItemSource> } = { items: [], sources: {} };

  constructor(
    private readonly sink: PageSink,
    private readonly runId: string,
  ) {
    this.wait = { maxWaitMs: sink.maxWaitMs, pollMs: sink.pollMs };
  }

  /** An enrollment still in a batch in flight is planned again only once that batch is written. */
  ready(externalIds: readonly string[], options: ExecutorOptions): Promise<boolean> {
    return this.sink.beforePlan(externalIds, options);
  }

  carryOut(work: PageWork): Promise<readonly WriteOutcome[]> {
    this.page.items.push(...work.items);
    for (const item of work.items) {
      const record = work.records.get(item.enrollmentId) ?? { enrollmentId: item.enrollmentId };
      const position = work.positions.get(item.enrollmentId);
      this.page.sources[item.enrollmentId] = { record: JSON.stringify(record), ...(position !== undefined ? { position } : {}) };
    }
    return Promise.resolve([]);
  }

  async endPage(cursor: string | undefined, options: ExecutorOptions): Promise<void> {
    await this.sink.enqueue({ runId: this.runId, cursor, ...this.page }, options);
    this.page = { items: [], sources: {} };
  }

  settle(options: ExecutorOptions): Promise<Settlement> {
    return this.sink.settle(this.runId, options);
  }
}
