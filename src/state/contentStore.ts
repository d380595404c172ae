import type { TableClient } from '@azure/data-tables';
import { bucketKey, encodeKey } from './keys.js';
import { getManyByKeys, groupKeys, readOptionalString, readString, toWritableEntity } from './tableClients.js';
import type { StoredEntity } from './tableClients.js';
import type { ContentEntry, ContentStore, StateOperationOptions } from './types.js';

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
    const entity = toWritableEntity({
      ...contentKeys(entry.externalId),
      externalId: entry.externalId,
      vivaId: entry.vivaId,
      fingerprint: entry.fingerprint,
      updatedAt: entry.updatedAt,
    });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }
}

function fromEntity(entity: StoredEntity): ContentEntry {
  const updatedAt = readOptionalString(entity, 'updatedAt');
  return {
    externalId: readString(entity, 'externalId'),
    vivaId: readString(entity, 'vivaId'),
    fingerprint: readString(entity, 'fingerprint'),
    ...(updatedAt === undefined ? {} : { updatedAt }),
  };
}
