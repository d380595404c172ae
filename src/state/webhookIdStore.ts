import { odata } from '@azure/data-tables';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { forEachLimited, getEntityOrUndefined, hasStatus, listAll, readOptionalNumber, readOptionalString, toWritableEntity, type FlatEntity, type StoredEntity } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** How long a `webhook-id` is remembered: senders retry a delivery with the same id for hours. */
export const WEBHOOK_ID_RETENTION_MS = 24 * 3600_000;

/** The partition of a UTC day, such as `d20261101`; string order is time order. */
export function dayPartition(at: Date): string {
  return `d${at.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/**
 * How long a claim stays `processing` before a redelivery may take it over. The webhook's own
 * work stops at 40 s (src/sync/singleRecord.ts); past this the instance that claimed it is taken
 * to have died (a crash, a recycled worker) and the change is processed again, which the ledger
 * and the lookup before create make safe.
 */
export const WEBHOOK_PROCESSING_TTL_MS = 3 * 60_000;

/**
 * A claim on a webhook id, held as `processing`: `complete` records it `done` (a redelivery is a
 * duplicate from then on); `release` forgets it, so a retried delivery is processed.
 */
export interface WebhookIdClaim {
  readonly claimed: true;
  /** True when an earlier delivery's claim had expired unfinished and was taken over. */
  readonly takenOver: boolean;
  complete(options?: StateOperationOptions): Promise<void>;
  release(options?: StateOperationOptions): Promise<void>;
}

/** Not claimed: `done` before (a duplicate), or another delivery is `processing` it (`inProgress`). */
export interface WebhookIdRefusal {
  readonly claimed: false;
  readonly firstSeenAt: string | undefined;
  /** Set while another delivery of this id is being processed and its claim has not expired. */
  readonly inProgress?: { readonly retryAfterSeconds: number };
}

export type ClaimResult = WebhookIdClaim | WebhookIdRefusal;

export interface ClaimOptions extends StateOperationOptions {
  readonly now?: Date;
  /** Default WEBHOOK_PROCESSING_TTL_MS. */
  readonly processingTtlMs?: number;
}

export interface WebhookIdStore {
  /** Claims `webhookId` as `processing`; refused when it is done, or being processed, within the last day. */
  claim(webhookId: string, options?: ClaimOptions): Promise<ClaimResult>;
  /** Deletes the ids of days older than the retention; returns how many were deleted. */
  purgeExpired(options?: StateOperationOptions & { readonly now?: Date }): Promise<number>;
}

type ClaimState = 'processing' | 'done';

/**
 * Replay protection for Standard Webhooks deliveries: one entity per `webhook-id`, partitioned
 * by the UTC day it was first seen, with a state: `processing` until an expiry, then `done`.
 * `createEntity` is the atomic test-and-set for a new id (a 409 means another delivery claimed it
 * first); taking over an expired `processing` claim is an update under the entity's ETag, so of
 * two redeliveries racing for it one wins. Yesterday's partition is read too, so an id is
 * remembered for at least `WEBHOOK_ID_RETENTION_MS` whatever the hour; older days are purged in
 * bulk. Rows written before claims had a state count as `done`.
 */
export class TableWebhookIdStore implements WebhookIdStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async claim(webhookId: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const now = options.now ?? new Date();
    const ttlMs = options.processingTtlMs ?? WEBHOOK_PROCESSING_TTL_MS;
    const rowKey = encodeKey(webhookId);
    const yesterday = dayPartition(new Date(now.getTime() - 24 * 3600_000));
    const earlier = await getEntityOrUndefined(this.#client, yesterday, rowKey, options);
    if (earlier !== undefined) {
      const seenAt = readOptionalString(earlier, 'claimedAt');
      if (seenAt === undefined || now.getTime() - Date.parse(seenAt) < WEBHOOK_ID_RETENTION_MS) return this.#judge(earlier, webhookId, now, ttlMs, options);
    }
    const partitionKey = dayPartition(now);
    let etag: string | undefined;
    try {
      const created = await this.#client.createEntity(this.#entity(partitionKey, rowKey, webhookId, now, now, ttlMs, 1), { abortSignal: options.abortSignal });
      etag = created.etag;
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
      const existing = await getEntityOrUndefined(this.#client, partitionKey, rowKey, options);
      if (existing === undefined) return { claimed: false, firstSeenAt: undefined, inProgress: { retryAfterSeconds: 1 } };
      return this.#judge(existing, webhookId, now, ttlMs, options);
    }
    return this.#claimOf(partitionKey, rowKey, etag, false);
  }

  /** An id seen before: done, still being processed, or an expired claim that this delivery takes over. */
  async #judge(entity: StoredEntity, webhookId: string, now: Date, ttlMs: number, options: StateOperationOptions): Promise<ClaimResult> {
    const firstSeenAt = readOptionalString(entity, 'claimedAt');
    const state = (readOptionalString(entity, 'state') ?? 'done') as ClaimState;
    if (state === 'done') return { claimed: false, firstSeenAt };
    const expiresAt = Date.parse(readOptionalString(entity, 'expiresAt') ?? '');
    if (Number.isFinite(expiresAt) && now.getTime() < expiresAt) return { claimed: false, firstSeenAt, inProgress: { retryAfterSeconds: Math.max(1, Math.ceil((expiresAt - now.getTime()) / 1000)) } };
    const { partitionKey, rowKey } = entity;
    if (partitionKey === undefined || rowKey === undefined || entity.etag === undefined) throw new Error('A webhook id row was read without its keys');
    const attempts = (readOptionalNumber(entity, 'attempts') ?? 1) + 1;
    try {
      const updated = await this.#client.updateEntity(this.#entity(partitionKey, rowKey, webhookId, firstSeenAt === undefined ? now : new Date(firstSeenAt), now, ttlMs, attempts), 'Replace', {
        etag: entity.etag,
        abortSignal: options.abortSignal,
      });
      return this.#claimOf(partitionKey, rowKey, updated.etag, true);
    } catch (err) {
      // Another redelivery took it over first (412), or it was released meanwhile (404).
      if (!hasStatus(err, 404, 412)) throw err;
      return { claimed: false, firstSeenAt, inProgress: { retryAfterSeconds: Math.ceil(ttlMs / 1000) } };
    }
  }

  #entity(partitionKey: string, rowKey: string, webhookId: string, claimedAt: Date, now: Date, ttlMs: number, attempts: number): FlatEntity {
    return toWritableEntity({ partitionKey, rowKey, webhookId, claimedAt: claimedAt.toISOString(), state: 'processing', processingSince: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString(), attempts });
  }

  /** The claim's follow-ups go under the ETag of this delivery's write: one that was taken over is no longer ours to change. */
  #claimOf(partitionKey: string, rowKey: string, etag: string | undefined, takenOver: boolean): WebhookIdClaim {
    const ours = etag ?? '*';
    return {
      claimed: true,
      takenOver,
      complete: async (completeOptions: StateOperationOptions = {}) => {
        try {
          await this.#client.updateEntity(toWritableEntity({ partitionKey, rowKey, state: 'done', completedAt: new Date().toISOString() }), 'Merge', { etag: ours, abortSignal: completeOptions.abortSignal });
        } catch (err) {
          if (!hasStatus(err, 404, 412)) throw err;
        }
      },
      release: async (releaseOptions: StateOperationOptions = {}) => {
        try {
          await this.#client.deleteEntity(partitionKey, rowKey, { etag: ours, abortSignal: releaseOptions.abortSignal });
        } catch (err) {
          if (!hasStatus(err, 404, 412)) throw err;
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
