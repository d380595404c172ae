import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import type { StorageSetting } from '../config/loadConfig.js';
import type { TableConnection } from './tableClients.js';
import { tableConnectionOf } from './httpState.js';

/** The work queue and its poison queue (the Functions host moves a message there after maxDequeueCount failures). */
export interface WorkQueues {
  readonly work: QueueClient;
  readonly poison: QueueClient;
}

/** `<queue>-poison`, the name the queue trigger gives the poison queue. */
export function poisonQueueName(queueName: string): string {
  return `${queueName}-poison`;
}

/**
 * Clients for the work queue of queue mode, in the storage account of the state tables, reached
 * the same way (connection string locally and on Azurite, managed identity in Azure).
 */
export function createQueueClients(storage: StorageSetting, queueName: string): WorkQueues {
  const service = queueService(tableConnectionOf(storage));
  return { work: service.getQueueClient(queueName), poison: service.getQueueClient(poisonQueueName(queueName)) };
}

/** Creates both queues when missing (idempotent). */
export async function ensureQueues(queues: WorkQueues, options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
  await Promise.all([queues.work.createIfNotExists({ abortSignal: options.abortSignal }), queues.poison.createIfNotExists({ abortSignal: options.abortSignal })]);
}

function queueService(connection: TableConnection): QueueServiceClient {
  if (connection.kind === 'connectionString') return QueueServiceClient.fromConnectionString(connection.connectionString);
  // The identity-based settings name the table endpoint; the queue endpoint of the same account sits beside it.
  const url = connection.url.replace(/\.table\./i, '.queue.');
  if (!/^https:\/\//i.test(url)) throw new Error(`The queue endpoint must be an https:// URL to use an Entra credential, got ${url}`);
  return new QueueServiceClient(url, connection.credential);
}

/** Queue messages as the Functions host reads them by default (messageEncoding: base64). */
export function encodeQueueMessage(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64');
}

/** The inverse of `encodeQueueMessage`; plain JSON (a message someone sent by hand) is accepted too. */
export function decodeQueueMessage(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return trimmed;
  return Buffer.from(trimmed, 'base64').toString('utf8');
}
