import type { TokenCredential } from '@azure/core-auth';
import type { Config } from '../../config/loadConfig.js';
import { gatewayFor, schedulerFor } from '../../graph/fromConfig.js';
import type { RequestScheduler } from '../../graph/requestScheduler.js';
import { SharedRateBudget } from '../../graph/sharedRateBudget.js';
import { tableConnectionOf } from '../../state/httpState.js';
import { createOutstandingStore, type TableOutstandingStore } from '../../state/outstandingStore.js';
import { createSharedRateStore } from '../../state/sharedRateStore.js';
import { createQueueClients, ensureQueues, type WorkQueues } from '../../state/queueClients.js';
import { createTableState } from '../../state/tableState.js';
import type { Logger } from '../logger.js';
import { QueuePageSink } from './enqueuePlan.js';
import type { WorkerDeps } from './processWorkBatch.js';

/** The planner's side of queue mode, for `QueueExecutor` (`SyncDeps.pages`). */
export async function openPageSink(config: Config, options: { readonly maxWaitMs?: number; readonly pollMs?: number } = {}): Promise<QueuePageSink> {
  const queues = createQueueClients(config.storage, config.queueName);
  await ensureQueues(queues);
  const outstanding = await createOutstandingStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  return new QueuePageSink({ queue: queues.work, outstanding, ...options });
}

export interface OpenWorkerOptions {
  readonly logger: Logger;
  readonly graphCredential?: TokenCredential;
  /** The process's scheduler (one per process); a new one from the settings when absent. */
  readonly scheduler?: RequestScheduler;
  readonly abortSignal?: AbortSignal;
}

export interface QueueWorker {
  readonly deps: WorkerDeps;
  readonly queues: WorkQueues;
  readonly outstanding: TableOutstandingStore;
  readonly scheduler: RequestScheduler;
  /** The Graph rate budget this worker shares with the others (absent with an injected scheduler). */
  readonly rateBudget?: SharedRateBudget;
  /** Leaves the shared rate budget. */
  close(): Promise<void>;
}

/** The writer's side of queue mode: the same state, gateway and traffic control as an inline run. */
export async function openWorker(config: Config, options: OpenWorkerOptions): Promise<QueueWorker> {
  const connection = tableConnectionOf(config.storage);
  const state = await createTableState({ connection, tablePrefix: config.tablePrefix });
  const outstanding = await createOutstandingStore({ connection, tablePrefix: config.tablePrefix });
  const queues = createQueueClients(config.storage, config.queueName);
  await ensureQueues(queues);
  // One rate budget for all workers: GRAPH_MAX_RPS is the ceiling for them together.
  const rateBudget =
    options.scheduler === undefined
      ? new SharedRateBudget({
          store: await createSharedRateStore({ connection, tablePrefix: config.tablePrefix }),
          ...(config.graph.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: config.graph.maxRequestsPerSecond } : {}),
          onError: (err) => options.logger.warn('Could not reach the shared rate budget; going on with the last known rate', { reason: err instanceof Error ? err.message : String(err) }),
        })
      : undefined;
  const scheduler = options.scheduler ?? schedulerFor(config.graph, rateBudget !== undefined ? { onThrottleReaction: rateBudget.onThrottleReaction } : {});
  await rateBudget?.start(scheduler);
  const gateway = gatewayFor(config, scheduler, options.graphCredential);
  const deps: WorkerDeps = { gateway, state, outstanding, providerId: config.providerId, logger: options.logger, ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}) };
  return { deps, queues, outstanding, scheduler, ...(rateBudget !== undefined ? { rateBudget } : {}), close: async () => rateBudget?.stop() };
}
