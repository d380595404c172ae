import { setMaxListeners } from 'node:events';
import type { QueueClient } from '@azure/storage-queue';
import { abortableSleep } from '../../graph/requestScheduler.js';
import { decodeQueueMessage, encodeQueueMessage, type WorkQueues } from '../../state/queueClients.js';
import { addCounts, NO_BATCH_COUNTS } from '../../state/outstandingStore.js';
import { recordFailure } from '../deadLetters.js';
import { InvalidWorkMessageError, parseWorkBatch } from './messages.js';
import { deadLetter, DONE_AS, isDone, processWorkBatch, resolveMessage, type WorkBatchResult, type WorkerDeps } from './processWorkBatch.js';

/** host.json `extensions.queues.maxDequeueCount`: after this many failed deliveries a message goes to the poison queue. */
export const MAX_DEQUEUE_COUNT = 5;
/** host.json `extensions.queues.visibilityTimeout` ("00:00:30"): a failed delivery is offered again after this long. */
export const RETRY_DELAY_SECONDS = 30;
/**
 * How long a taken message stays hidden from other workers, renewed every third of it while its
 * batch is in progress (as the Functions host renews the messages it is processing): a batch slowed
 * by throttling stays with its worker, and one whose worker died is offered again after at most this.
 */
export const DEFAULT_VISIBILITY_SECONDS = 60;

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
  // The batch's counts as the ledger shows them now (replacing any delivery's): what was written, and the dead letters.
  let counts = NO_BATCH_COUNTS;
  for (const item of items) {
    const entry = ledger.get(item.externalId);
    if (entry?.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt >= item.sourceUpdatedAt && entry.state !== 'pending') {
      if (entry.sourceUpdatedAt === item.sourceUpdatedAt && isDone(entry, item)) counts = addCounts(counts, { ...NO_BATCH_COUNTS, [DONE_AS[item.kind]]: 1 });
      continue;
    }
    await deadLetter(deps, item, message.sources?.[item.enrollmentId], reason, { code: 'poisonMessage' });
    count += 1;
  }
  deps.logger.warn('Poison work batch dead-lettered', { runId: message.runId, pageId: message.pageId, batchId: message.batchId, deadLetters: count });
  await deps.outstanding.batchDone(message.pageId, message.batchId, items.length, addCounts(counts, { ...NO_BATCH_COUNTS, failed: count }), opts);
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
  /** How long a taken message stays invisible to other workers, renewed while its batch is in progress (host.json visibilityTimeout is the retry delay; this is the lease). */
  readonly visibilityTimeoutSeconds?: number;
  /** How long after a failed delivery the message is offered again (default host.json's visibilityTimeout, 30 s). */
  readonly retryDelaySeconds?: number;
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
    const visibility = options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS;
    const received = await queues.work.receiveMessages({ numberOfMessages: options.batchSize ?? 4, visibilityTimeout: visibility });
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
        const hold = holdMessage(queues.work, m, visibility, deps);
        try {
          const result = await handleWorkMessage(m.messageText, deps);
          await queues.work.deleteMessage(m.messageId, await hold.stop());
          options.onBatch?.(result, { dequeueCount: m.dequeueCount });
        } catch (err) {
          const popReceipt = await hold.stop();
          if (options.abortSignal?.aborted === true) return; // a stopped worker leaves the message to another
          const reason = err instanceof Error ? err.message : String(err);
          deps.logger.warn('Work batch failed; the queue will deliver it again', { messageId: m.messageId, dequeueCount: m.dequeueCount, reason });
          const poisoned = err instanceof InvalidWorkMessageError || m.dequeueCount >= max;
          if (poisoned) {
            await queues.poison.sendMessage(encodeQueueMessage(decodeQueueMessage(m.messageText)));
            await queues.work.deleteMessage(m.messageId, popReceipt);
          } else {
            // Offered again after the retry delay, as the Functions host does (host.json visibilityTimeout).
            await queues.work.updateMessage(m.messageId, popReceipt, undefined, options.retryDelaySeconds ?? RETRY_DELAY_SECONDS).catch(() => undefined);
          }
          options.onFailedDelivery?.({ dequeueCount: m.dequeueCount, poisoned, reason });
        }
      }),
    );
  }
}

/**
 * Keeps a taken message hidden while its batch is in progress: its visibility is extended every
 * third of the timeout. `stop` ends that and gives the latest pop receipt (each update changes it).
 */
function holdMessage(queue: QueueClient, message: { readonly messageId: string; readonly popReceipt: string }, visibilitySeconds: number, deps: Pick<WorkerDeps, 'logger'>): { stop(): Promise<string> } {
  let popReceipt = message.popReceipt;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const every = Math.max(250, Math.floor((visibilitySeconds * 1000) / 3));
  const timer = setInterval(() => {
    inFlight = inFlight.then(async () => {
      if (stopped) return;
      try {
        const updated = await queue.updateMessage(message.messageId, popReceipt, undefined, visibilitySeconds);
        if (updated.popReceipt !== undefined) popReceipt = updated.popReceipt;
      } catch (err) {
        // The message may be offered to another worker; the batch's writes are idempotent, so go on.
        deps.logger.warn('Could not extend a work batch\'s visibility', { messageId: message.messageId, reason: err instanceof Error ? err.message : String(err) });
      }
    });
  }, every);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await inFlight;
      return popReceipt;
    },
  };
}
