import { loadConfig } from '../../config/loadConfig.js';
import type { Logger } from '../logger.js';
import { openWorker, type QueueWorker } from './openQueue.js';
import type { WorkBatchResult } from './processWorkBatch.js';
import { handleWorkMessage, poisonToDeadLetters } from './worker.js';

export interface HostedWorkerOptions {
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly appRoot?: string;
}

/** One worker per process: its scheduler carries what it learned of Graph's limits from message to message. */
let worker: Promise<QueueWorker> | undefined;

function workerFor(options: HostedWorkerOptions): Promise<QueueWorker> {
  if (worker === undefined) {
    const appRoot = options.appRoot ?? process.cwd();
    const config = loadConfig(options.env ?? process.env, { cwd: appRoot });
    worker = openWorker(config, { logger: options.logger });
    worker.catch(() => (worker = undefined));
  }
  return worker;
}

/** The queue trigger's call: one work batch; a throw makes the host deliver it again (then the poison queue). */
export async function runQueuedBatch(message: unknown, options: HostedWorkerOptions): Promise<WorkBatchResult> {
  const { deps } = await workerFor(options);
  return handleWorkMessage(message, { ...deps, logger: options.logger });
}

/** The poison queue trigger's call: the message's items become dead letters with the batch's last error. */
export async function runPoisonMessage(message: unknown, options: HostedWorkerOptions): Promise<number> {
  const { deps } = await workerFor(options);
  return poisonToDeadLetters(message, { ...deps, logger: options.logger });
}
