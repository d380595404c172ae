import { app } from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { runPoisonMessage, runQueuedBatch } from '../src/sync/queue/hosted.js';
import { contextLogger, redactingErrors } from './contextLogger.js';

/** Queue mode (SYNC_MODE=queue): performs one work batch the timer's planner enqueued. */
export async function syncWorker(message: unknown, context: InvocationContext): Promise<void> {
  const logger = contextLogger(context);
  const result = await redactingErrors(() => runQueuedBatch(message, { logger }));
  logger.info(JSON.stringify(result));
}

/** A batch that failed maxDequeueCount times (host.json): its items become dead letters, with the last error. */
export async function syncPoison(message: unknown, context: InvocationContext): Promise<void> {
  const logger = contextLogger(context);
  const count = await redactingErrors(() => runPoisonMessage(message, { logger }));
  logger.warn(`Poison work batch turned into ${count} dead letters`);
}

app.storageQueue('syncWorker', { queueName: '%SYNC_QUEUE_NAME%', connection: 'AzureWebJobsStorage', handler: syncWorker });
app.storageQueue('syncPoison', { queueName: '%SYNC_QUEUE_NAME%-poison', connection: 'AzureWebJobsStorage', handler: syncPoison });
