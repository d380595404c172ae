import type { TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { getEntityOrUndefined, readEnum, readString, toWritableEntity } from './tableClients.js';
import type { StoredEntity } from './tableClients.js';
import type { LearnerCache, LearnerCacheEntry, StateOperationOptions } from './types.js';

/**
 * "mode:value" → PartitionKey = the mode, RowKey = the value lower-cased: UPNs and mail
 * addresses match case-insensitively in Entra, so `Ada@Contoso.com` and `ada@contoso.com` share
 * one entry.
 */
function learnerKeys(matchKey: string): { partitionKey: string; rowKey: string } {
  const colon = matchKey.indexOf(':');
  if (colon <= 0) throw new TypeError(`A learner match key is "mode:value", got ${JSON.stringify(matchKey)}`);
  return {
    partitionKey: encodeKey(matchKey.slice(0, colon)),
    rowKey: encodeKey(matchKey.slice(colon + 1).toLowerCase()),
  };
}

/** Remembered learner lookups (hits and misses), so each learner costs one Graph call per `maxAgeMs`. */
export class TableLearnerCache implements LearnerCache {
  readonly #client: TableClient;
  readonly #now: () => number;

  constructor(client: TableClient, options: { readonly now?: () => number } = {}) {
    this.#client = client;
    this.#now = options.now ?? Date.now;
  }

  async get(matchKey: string, maxAgeMs: number, options: StateOperationOptions = {}): Promise<LearnerCacheEntry | undefined> {
    const { partitionKey, rowKey } = learnerKeys(matchKey);
    const entity = await getEntityOrUndefined(this.#client, partitionKey, rowKey, options);
    if (entity === undefined) return undefined;
    const entry = fromEntity(entity);
    const resolvedAt = Date.parse(entry.resolvedAt);
    // An unreadable date counts as stale: look the learner up again rather than trust it.
    if (!Number.isFinite(resolvedAt) || this.#now() - resolvedAt > maxAgeMs) return undefined;
    return entry;
  }

  async put(matchKey: string, entry: LearnerCacheEntry, options: StateOperationOptions = {}): Promise<void> {
    const entity = toWritableEntity({
      ...learnerKeys(matchKey),
      matchKey,
      kind: entry.kind,
      objectId: entry.kind === 'found' ? entry.objectId : undefined,
      resolvedAt: entry.resolvedAt,
    });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }
}

function fromEntity(entity: StoredEntity): LearnerCacheEntry {
  const kind = readEnum(entity, 'kind', ['found', 'notFound'] as const);
  const resolvedAt = readString(entity, 'resolvedAt');
  return kind === 'found' ? { kind, objectId: readString(entity, 'objectId'), resolvedAt } : { kind, resolvedAt };
}
