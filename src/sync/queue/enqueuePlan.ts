import type { QueueClient } from '@azure/storage-queue';
import { abortableSleep } from '../../graph/requestScheduler.js';
import { learnerKey } from '../../mapping/learnerRef.js';
import { bucketOf } from '../../state/keys.js';
import { addCounts, NO_BATCH_COUNTS, type TableOutstandingStore } from '../../state/outstandingStore.js';
import { encodeQueueMessage } from '../../state/queueClients.js';
import type { WorkItem } from '../types.js';
import { MAX_MESSAGE_JSON_BYTES, type ItemSource, type WorkBatchMessage } from './messages.js';
import type { PageSink, QueuedPage, SettleResult } from './pageSink.js';

export interface QueuePageSinkOptions {
  readonly queue: QueueClient;
  readonly outstanding: TableOutstandingStore;
  /** Items per message at most (before the size limit), default 50. */
  readonly maxItemsPerBatch?: number;
  readonly maxWaitMs?: number;
  readonly pollMs?: number;
}

/** An over-large page is split into learner partitions: one learner's items stay in one batch. */
const LEARNER_PARTITIONS = 16;

/**
 * The planner side of queue mode: each page's work items become work-batch messages (one per
 * partition of learners, each under the 64 KiB message limit, larger ones by reference), and
 * each page is tracked in the outstanding table until the workers have finished its batches.
 */
export class QueuePageSink implements PageSink {
  readonly maxWaitMs: number;
  readonly pollMs: number;
  private seq = 0;
  /** Activities in batches this process enqueued: external id → page id. */
  private readonly inFlight = new Map<string, string>();

  constructor(private readonly options: QueuePageSinkOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 5 * 60_000;
    this.pollMs = options.pollMs ?? 500;
  }

  async beforePlan(externalIds: readonly string[], options: { abortSignal?: AbortSignal }): Promise<boolean> {
    const until = Date.now() + this.maxWaitMs;
    for (;;) {
      const pages = new Set(externalIds.flatMap((id) => this.inFlight.get(id) ?? []));
      if (pages.size === 0) return true;
      let busy = false;
      for (const pageId of pages) {
        if ((await this.options.outstanding.getPage(pageId, options)) === undefined) this.forget(pageId);
        else if ((await this.options.outstanding.outstanding(pageId, options)) > 0) busy = true;
        else this.forget(pageId);
      }
      if (!busy) return true;
      if (Date.now() >= until) return false;
      await abortableSleep(this.pollMs, options.abortSignal);
    }
  }

  async enqueue(page: QueuedPage, options: { abortSignal?: AbortSignal }): Promise<void> {
    const { outstanding, queue } = this.options;
    this.seq += 1;
    const pageId = `${page.runId}.${String(this.seq).padStart(6, '0')}`;
    const batches = splitIntoBatches(page.items, page.sources, this.options.maxItemsPerBatch ?? 50);
    // The page row first (unsealed), so the cursor cannot pass it while its messages go out.
    await outstanding.openPage({ pageId, runId: page.runId, cursor: page.cursor, sealed: false, batches: batches.length }, options);
    let index = 0;
    for (const batch of batches) {
      index += 1;
      const batchId = `b${String(index).padStart(4, '0')}`;
      let message: WorkBatchMessage = { version: 1, kind: 'workBatch', runId: page.runId, pageId, batchId, items: batch.items, sources: batch.sources };
      let json = JSON.stringify(message);
      if (Buffer.byteLength(json) > MAX_MESSAGE_JSON_BYTES) {
        // One item too large for a message (long notes): the message carries a reference.
        const ref = `${pageId}.${batchId}`;
        await outstanding.putPayload(ref, JSON.stringify({ items: batch.items, sources: batch.sources }), options);
        message = { version: 1, kind: 'workBatch', runId: page.runId, pageId, batchId, ref };
        json = JSON.stringify(message);
      }
      await queue.sendMessage(encodeQueueMessage(json), { abortSignal: options.abortSignal });
      await outstanding.batchEnqueued(pageId, batchId, batch.items.length, options);
      for (const item of batch.items) this.inFlight.set(item.externalId, pageId);
    }
    await outstanding.openPage({ pageId, runId: page.runId, cursor: page.cursor, sealed: true, batches: batches.length }, options);
  }

  async settle(runId: string, options: { abortSignal?: AbortSignal }): Promise<SettleResult> {
    const { outstanding } = this.options;
    let cursor: string | undefined;
    let remaining = 0;
    let written = NO_BATCH_COUNTS;
    let blocked = false;
    for (const page of await outstanding.listPages(options)) {
      // Behind an unfinished page nothing can be passed: count its batches without a query each,
      // so a planner far ahead of its workers does not read every open page on every page it plans.
      if (blocked) {
        remaining += page.batches;
        continue;
      }
      const open = await outstanding.outstanding(page.pageId, options);
      if (open === 0 && page.sealed) {
        written = addCounts(written, await outstanding.closePage(page.pageId, options));
        this.forget(page.pageId);
        if (page.cursor !== undefined) cursor = page.cursor;
      } else if (open === 0 && page.runId !== runId) {
        // An earlier planner stopped while sending this page: forget it; its records are read again from the cursor.
        written = addCounts(written, await outstanding.closePage(page.pageId, options));
        blocked = true;
      } else {
        remaining += open;
        blocked = true;
      }
    }
    return { cursor, outstanding: remaining, written };
  }

  private forget(pageId: string): void {
    for (const [id, page] of this.inFlight) if (page === pageId) this.inFlight.delete(id);
  }
}

interface Batch {
  items: WorkItem[];
  sources: Record<string, ItemSource>;
  bytes: number;
}

/** Groups items by learner partition, then cuts each group to fit the item count and message size. */
export function splitIntoBatches(items: readonly WorkItem[], sources: Readonly<Record<string, ItemSource>>, maxItems: number): Batch[] {
  const partitions = Math.min(LEARNER_PARTITIONS, Math.max(1, Math.ceil(items.length / maxItems)));
  const groups = new Map<number, WorkItem[]>();
  for (const item of items) {
    const key = item.kind === 'delete' ? item.externalId : learnerKey(item.draft.learner);
    const bucket = bucketOf(key, partitions);
    groups.set(bucket, [...(groups.get(bucket) ?? []), item]);
  }
  const batches: Batch[] = [];
  for (const group of [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g)) {
    let current: Batch = { items: [], sources: {}, bytes: 200 };
    for (const item of group) {
      const source = sources[item.enrollmentId];
      const bytes = Buffer.byteLength(JSON.stringify(item)) + (source === undefined ? 0 : Buffer.byteLength(JSON.stringify(source)) + item.enrollmentId.length + 8);
      if (current.items.length > 0 && (current.items.length >= maxItems || current.bytes + bytes > MAX_MESSAGE_JSON_BYTES)) {
        batches.push(current);
        current = { items: [], sources: {}, bytes: 200 };
      }
      current.items.push(item);
      if (source !== undefined) current.sources[item.enrollmentId] = source;
      current.bytes += bytes;
    }
    if (current.items.length > 0) batches.push(current);
  }
  return batches;
}
