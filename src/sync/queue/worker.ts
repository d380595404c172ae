import { setMaxListeners } from 'node:events';
import type { QueueClient } from '@azure/storage-queue';
import { abortableSleep } from '../../graph/requestScheduler.js';
import { decodeQueueMessage, encodeQueueMessage, type WorkQueues } from '../../state/queueClients.js';
import { addCounts, NO_BATCH_COUNTS } from '../../state/outstandingStore.js';
import { recordFailure } from '../deadLetters.js';
import { InvalidWorkMessageError, parseWorkBatch } from './messages.js';
import { deadLetter, processWorkBatch, resolveMessage, type WorkBatchResult, type WorkerDeps } from './processWorkBatch.js';

/** host.json `extensions.queues.maxDequeueCount`: after this many failed deliveries a message goes to the poison queue. */
export const MAX_DEQUEUE_COUNT = 5;

/** Remembers why a batch failed, for the dead letters its poison message becomes. Never throws. */
export async function recordBatchError(input: unknown, err: unknown, deps: Pick<WorkerDeps, 'outstanding'>): Promise<void> {
  try {
    const message = parseWorkBatch(input);
    await deps.outstanding.batchFailed(message.pageId, message.batchId, message.items?.length ?? 0, err instanceof Error ? err.message : String(err));
  } catch {
    // An unreadable message has no batch row; the poison handler records the message itself.
  }
}

/** One delivery as the queue trigger sees it: process, or record the error and throw so that the host delivers it again. */
export async function handleWorkMessage(input: unknown, deps: WorkerDeps): Promise<WorkBatchResult> {
  const text = typeof input === 'string' ? decodeQueueMessage(input) : input;
  try {
    return await processWorkBatch(text, deps);
  } catch (err) {
    await recordBatchError(text, err, deps);
    throw err;
  }
}

export interface PoisonResult {
  readonly messages: number;
  readonly deadLetters: number;
}

/**
 * Turns poison messages into dead letters with the batch's last error, so nothing is lost
 * silently: every item the ledger does not show as written becomes a write dead letter (retried
 * by later runs), the batch counts as done (the cursor may pass it), and the message is deleted.
 */
export async function poisonToDeadLetters(input: unknown, deps: WorkerDeps): Promise<number> {
  const opts = deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal };
  const text = typeof input === 'string' ? decodeQueueMessage(input) : input;
  let message;
  try {
    message = await resolveMessage(parseWorkBatch(text), deps);
  } catch (err) {
    if (!(err instanceof InvalidWorkMessageError)) throw err;
    const raw = typeof text === 'string' ? text : JSON.stringify(text);
    await recordFailure(deps.state.deadLetters, { key: `poison:${raw.length}:${raw.slice(0, 64)}`, kind: 'invalid', reason: `unreadable work message in the poison queue: ${err.message}`, record: raw }, new Date(), opts);
    return 1;
  }
  const batch = await deps.outstanding.getBatch(message.pageId, message.batchId, opts);
  if (batch?.state === 'done') return 0;
  const items = message.items ?? [];
  const ledger = await deps.state.ledger.getMany(items.map((i) => i.externalId), opts);
  const reason = `the work batch failed ${MAX_DEQUEUE_COUNT} deliveries and went to the poison queue; last error: ${batch?.lastError ?? 'unknown'}`;
  let count = 0;
  for (const item of items) {
    const entry = ledger.get(item.externalId);
    if (entry?.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt >= item.sourceUpdatedAt && entry.state !== 'pending') continue;
    await deadLetter(deps, item, message.sources?.[item.enrollmentId], reason, { code: 'poisonMessage' });
    count += 1;
  }
  deps.logger.warn('Poison work batch dead-lettered', { runId: message.runId, pageId: message.pageId, batchId: message.batchId, deadLetters: count });
  await deps.outstanding.batchDone(message.pageId, message.batchId, items.length, addCounts(batch?.counts ?? NO_BATCH_COUNTS, { ...NO_BATCH_COUNTS, failed: count }), opts);
  return count;
}

/** Drains the poison queue into dead letters (the CLI's `viva-sync worker --poison`, and tests). */
export async function drainPoisonQueue(poison: QueueClient, deps: WorkerDeps): Promise<PoisonResult> {
  let messages = 0;
  let deadLetters = 0;
  for (;;) {
    const received = await poison.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (received.receivedMessageItems.length === 0) return { messages, deadLetters };
    for (const m of received.receivedMessageItems) {
      deadLetters += await poisonToDeadLetters(m.messageText, deps);
      await poison.deleteMessage(m.messageId, m.popReceipt);
      messages += 1;
    }
  }
}

export interface WorkerLoopOptions {
  readonly queues: WorkQueues;
  readonly deps: WorkerDeps;
  /** Messages taken at once (host.json batchSize). */
  readonly batchSize?: number;
  /** How long a taken message stays invisible to other workers (host.json visibilityTimeout is the retry delay; this is the lease). */
  readonly visibilityTimeoutSeconds?: number;
  readonly maxDequeueCount?: number;
  readonly pollMs?: number;
  /** Stop after the queue has been empty this long (undefined: run until aborted). */
  readonly idleExitMs?: number;
  readonly abortSignal?: AbortSignal;
  /** A batch was done; `dequeueCount` above 1 means an earlier delivery failed or its worker died. */
  readonly onBatch?: (result: WorkBatchResult, delivery: { readonly dequeueCount: number }) => void;
  /** A delivery failed; the queue delivers it again, or it went to the poison queue. */
  readonly onFailedDelivery?: (delivery: { readonly dequeueCount: number; readonly poisoned: boolean; readonly reason: string }) => void;
}

/**
 * The queue trigger, locally: takes messages, performs them, deletes them when done; a failed
 * message reappears after its visibility timeout, and after maxDequeueCount failures moves to
 * the poison queue (as the Functions host does). `viva-sync worker` runs this against Azurite.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<void> {
  const { queues, deps } = options;
  const max = options.maxDequeueCount ?? MAX_DEQUEUE_COUNT;
  // Every request in flight listens to the signal; the default limit of 10 would warn.
  if (options.abortSignal !== undefined) setMaxListeners(0, options.abortSignal);
  let idleSince = Date.now();
  while (options.abortSignal?.aborted !== true) {
    const received = await queues.work.receiveMessages({ numberOfMessages: options.batchSize ?? 4, visibilityTimeout: options.visibilityTimeoutSeconds ?? 60 });
    const messages = received.receivedMessageItems;
    if (messages.length === 0) {
      if (options.idleExitMs !== undefined && Date.now() - idleSince >= options.idleExitMs) return;
      try {
        await abortableSleep(options.pollMs ?? 200, options.abortSignal);
      } catch {
        return;
      }
      continue;
    }
    idleSince = Date.now();
    await Promise.all(
      messages.map(async (m) => {
        try {
          const result = await handleWorkMessage(m.messageText, deps);
          await queues.work.deleteMessage(m.messageId, m.popReceipt);
          options.onBatch?.(result, { dequeueCount: m.dequeueCount });
        } catch (err) {
          if (options.abortSignal?.aborted === true) return; // a stopped worker leaves the message to another
          const reason = err instanceof Error ? err.message : String(err);
          deps.logger.warn('Work batch failed; the queue will deliver it again', { messageId: m.messageId, dequeueCount: m.dequeueCount, reason });
          const poisoned = err instanceof InvalidWorkMessageError || m.dequeueCount >= max;
          if (poisoned) {
            await queues.poison.sendMessage(encodeQueueMessage(decodeQueueMessage(m.messageText)));
            await queues.work.deleteMessage(m.messageId, m.popReceipt);
          }
          options.onFailedDelivery?.({ dequeueCount: m.dequeueCount, poisoned, reason });
        }
      }),
    );
  }
}
