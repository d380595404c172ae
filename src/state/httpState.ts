import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { StorageSetting } from '../config/loadConfig.js';
import { TablePendingStore, type PendingStore } from './pendingStore.js';
import { createTableClient, ensureTable, tableName, type TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';
import { TableWebhookIdStore, type WebhookIdStore } from './webhookIdStore.js';

/** The tables of the HTTP endpoints, beside the engine's (`SyncState`), before the prefix. */
export const HTTP_TABLE_SUFFIXES = { webhookIds: 'WebhookIds', pending: 'Pending' } as const;

/** State the HTTP endpoints add to the engine's: replay protection and queued work. */
export interface HttpState {
  readonly webhookIds: WebhookIdStore;
  readonly pending: PendingStore;
}

export interface HttpStateOptions extends StateOperationOptions {
  readonly connection: TableConnection;
  readonly tablePrefix: string;
}

/** Opens (and creates when missing) the webhook-id and pending tables. */
export async function createHttpState(options: HttpStateOptions): Promise<HttpState & { tableNames: string[] }> {
  const webhookIds = createTableClient(options.connection, tableName(options.tablePrefix, HTTP_TABLE_SUFFIXES.webhookIds));
  const pending = createTableClient(options.connection, tableName(options.tablePrefix, HTTP_TABLE_SUFFIXES.pending));
  await Promise.all([ensureTable(webhookIds, options), ensureTable(pending, options)]);
  return {
    webhookIds: new TableWebhookIdStore(webhookIds),
    pending: new TablePendingStore(pending),
    tableNames: [webhookIds.tableName, pending.tableName],
  };
}

/**
 * The table connection for `config.storage`, credential included, as `openSync` builds it for
 * the engine's tables (so both sets of tables live in the same account, reached the same way).
 */
export function tableConnectionOf(storage: StorageSetting): TableConnection {
  if (storage.kind === 'connectionString') return { kind: 'connectionString', connectionString: storage.connectionString };
  return { kind: 'endpoint', url: storage.url, credential: storageCredential(storage.clientId) };
}

/** The Entra credential for the storage account(s): a managed identity in Azure, the developer's sign-in elsewhere. */
export function storageCredential(clientId: string | undefined): TokenCredential {
  if (clientId !== undefined) return new ManagedIdentityCredential({ clientId });
  return process.env['WEBSITE_INSTANCE_ID'] !== undefined ? new ManagedIdentityCredential() : new DefaultAzureCredential();
}
