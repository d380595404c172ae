import { odata, type TableClient } from '@azure/data-tables';
import { bucketKey, bucketName, encodeKey } from './keys.js';
import { getManyByKeys, groupKeys, listAll, readOptionalString, readString, toWritableEntity, upsertAllReplace } from './tableClients.js';
import type { FlatEntity, StoredEntity } from './tableClients.js';
import type { ContentEntry, ContentStatusRow, ContentStore, StateOperationOptions } from './types.js';

/** Far fewer contents than activities: a few partitions are enough to read them in parallel. */
export const CONTENT_BUCKETS = 4;

function contentKeys(externalId: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: bucketKey('c', externalId, CONTENT_BUCKETS), rowKey: encodeKey(externalId) };
}

/** What Viva Learning holds for each course: its Viva id and the fingerprint last upserted. */
export class TableContentStore implements ContentStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async getMany(externalIds: readonly string[], options: StateOperationOptions = {}): Promise<Map<string, ContentEntry>> {
    const wanted = new Set(externalIds);
    const keys = groupKeys(wanted, contentKeys);
    const result = new Map<string, ContentEntry>();
    for (const entity of await getManyByKeys(this.#client, keys, options)) {
      const entry = fromEntity(entity);
      if (wanted.has(entry.externalId)) result.set(entry.externalId, entry);
    }
    return result;
  }

  async put(entry: ContentEntry, options: StateOperationOptions = {}): Promise<void> {
    await this.#client.upsertEntity(toEntity(entry), 'Replace', { abortSignal: options.abortSignal });
  }

  async putMany(entries: readonly ContentEntry[], options: StateOperationOptions = {}): Promise<void> {
    await upsertAllReplace(this.#client, entries.map(toEntity), options);
  }

  async *listStatus(options: StateOperationOptions = {}): AsyncIterable<ContentStatusRow> {
    for (let bucket = 0; bucket < CONTENT_BUCKETS; bucket++) {
      const filter = odata`PartitionKey eq ${bucketName('c', bucket, CONTENT_BUCKETS)}`;
      for await (const entity of listAll(this.#client, filter, { ...options, select: STATUS_FIELDS })) yield fromEntity(entity);
    }
  }
}

const STATUS_FIELDS = ['externalId', 'vivaId', 'fingerprint', 'updatedAt', 'origin', 'active'];

function toEntity(entry: ContentEntry): FlatEntity {
  return toWritableEntity({
    ...contentKeys(entry.externalId),
    externalId: entry.externalId,
    vivaId: entry.vivaId,
    fingerprint: entry.fingerprint,
    updatedAt: entry.updatedAt,
    origin: entry.origin,
    active: entry.active,
    body: entry.body,
  });
}

function fromEntity(entity: StoredEntity): ContentEntry {
  const updatedAt = readOptionalString(entity, 'updatedAt');
  const origin = readOptionalString(entity, 'origin');
  const active = entity['active'];
  const body = readOptionalString(entity, 'body');
  return {
    externalId: readString(entity, 'externalId'),
    vivaId: readString(entity, 'vivaId'),
    fingerprint: readString(entity, 'fingerprint'),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    ...(origin === 'catalog' ? { origin } : {}),
    ...(typeof active === 'boolean' ? { active } : {}),
    ...(body === undefined ? {} : { body }),
  };
}
