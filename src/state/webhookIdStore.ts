import { odata } from '@azure/data-tables';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { forEachLimited, getEntityOrUndefined, hasStatus, listAll, readOptionalString, toWritableEntity } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** How long a `webhook-id` is remembered: senders retry a delivery with the same id for hours. */
export const WEBHOOK_ID_RETENTION_MS = 24 * 3600_000;

/** The partition of a UTC day, such as `d20261101`; string order is time order. */
export function dayPartition(at: Date): string {
  return `d${at.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** A claim on a webhook id; `release` forgets it again, so a retried delivery is processed. */
export interface WebhookIdClaim {
  readonly claimed: true;
  release(options?: StateOperationOptions): Promise<void>;
}

export type ClaimResult = WebhookIdClaim | { readonly claimed: false; readonly firstSeenAt: string | undefined };

export interface WebhookIdStore {
  /** Records `webhookId` as seen; `claimed: false` when it was seen within the last day. */
  claim(webhookId: string, options?: StateOperationOptions & { readonly now?: Date }): Promise<ClaimResult>;
  /** Deletes the ids of days older than the retention; returns how many were deleted. */
  purgeExpired(options?: StateOperationOptions & { readonly now?: Date }): Promise<number>;
}

/**
 * Replay protection for Standard Webhooks deliveries: one entity per `webhook-id`, partitioned
 * by the UTC day it was first seen. `createEntity` is the atomic test-and-set: a 409 means the
 * id was already claimed today. Yesterday's partition is read too, so an id is remembered for
 * at least `WEBHOOK_ID_RETENTION_MS` whatever the hour; older days are purged in bulk.
 */
export class TableWebhookIdStore implements WebhookIdStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async claim(webhookId: string, options: StateOperationOptions & { readonly now?: Date } = {}): Promise<ClaimResult> {
    const now = options.now ?? new Date();
    const rowKey = encodeKey(webhookId);
    const yesterday = dayPartition(new Date(now.getTime() - 24 * 3600_000));
    const earlier = await getEntityOrUndefined(this.#client, yesterday, rowKey, options);
    if (earlier !== undefined) {
      const seenAt = readOptionalString(earlier, 'claimedAt');
      if (seenAt === undefined || now.getTime() - Date.parse(seenAt) < WEBHOOK_ID_RETENTION_MS) return { claimed: false, firstSeenAt: seenAt };
    }
    const partitionKey = dayPartition(now);
    try {
      await this.#client.createEntity(toWritableEntity({ partitionKey, rowKey, webhookId, claimedAt: now.toISOString() }), { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
      const existing = await getEntityOrUndefined(this.#client, partitionKey, rowKey, options);
      return { claimed: false, firstSeenAt: existing === undefined ? undefined : readOptionalString(existing, 'claimedAt') };
    }
    return {
      claimed: true,
      release: async (releaseOptions: StateOperationOptions = {}) => {
        try {
          await this.#client.deleteEntity(partitionKey, rowKey, { abortSignal: releaseOptions.abortSignal });
        } catch (err) {
          if (!hasStatus(err, 404)) throw err;
        }
      },
    };
  }

  async purgeExpired(options: StateOperationOptions & { readonly now?: Date } = {}): Promise<number> {
    const now = options.now ?? new Date();
    const oldestKept = dayPartition(new Date(now.getTime() - 24 * 3600_000));
    const byPartition = new Map<string, string[]>();
    const rows = listAll(this.#client, odata`PartitionKey lt ${oldestKept}`, { ...options, select: ['partitionKey', 'rowKey'] });
    for await (const { partitionKey, rowKey } of rows) {
      if (partitionKey === undefined || rowKey === undefined) continue;
      const keys = byPartition.get(partitionKey) ?? [];
      keys.push(rowKey);
      byPartition.set(partitionKey, keys);
    }
    const batches: TransactionAction[][] = [];
    for (const [partitionKey, rowKeys] of byPartition) {
      for (let i = 0; i < rowKeys.length; i += 100) batches.push(rowKeys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey, rowKey }]));
    }
    await forEachLimited(batches, 4, async (batch) => {
      await this.#client.submitTransaction(batch, { abortSignal: options.abortSignal });
    });
    return batches.reduce((n, b) => n + b.length, 0);
  }
}
