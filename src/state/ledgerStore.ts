import { odata, type TableClient } from '@azure/data-tables';
import { bucketKey, bucketName, encodeKey } from './keys.js';
import {
  getManyByKeys,
  groupKeys,
  listAll,
  readEnum,
  readOptionalString,
  readString,
  upsertAllReplace,
} from './tableClients.js';
import type { FlatEntity, StoredEntity } from './tableClients.js';
import type { LedgerEntry, LedgerState, LedgerStatusRow, LedgerStore, StateOperationOptions } from './types.js';

/** Ledger rows spread over 16 partitions (`b00`…`b15`) so batches and reads run in parallel. */
export const LEDGER_BUCKETS = 16;
/** The partition of the ledger's epoch row (src/state/providerDecisionStore.ts), which is not a ledger row. */
export const LEDGER_EPOCH_PARTITION = 'epoch';
const LEDGER_STATES: readonly LedgerState[] = ['pending', 'synced', 'deleted'];

/** Where an external id's ledger row lives. */
export function ledgerKeys(externalId: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: bucketKey('b', externalId, LEDGER_BUCKETS), rowKey: encodeKey(externalId) };
}

/** The ledger on Table Storage: one entity per activity, keyed by its external id. */
export class TableLedgerStore implements LedgerStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async getMany(externalIds: readonly string[], options: StateOperationOptions = {}): Promise<Map<string, LedgerEntry>> {
    const wanted = new Set(externalIds);
    const keys = groupKeys(wanted, ledgerKeys);
    const result = new Map<string, LedgerEntry>();
    for (const entity of await getManyByKeys(this.#client, keys, options)) {
      const entry = fromEntity(entity);
      // The raw id in the row, not the key, is the truth (over-long ids are stored hashed).
      if (wanted.has(entry.externalId)) result.set(entry.externalId, entry);
    }
    return result;
  }

  async putMany(entries: readonly LedgerEntry[], options: StateOperationOptions = {}): Promise<void> {
    await upsertAllReplace(this.#client, entries.map(toEntity), options);
  }

  async *list(options: StateOperationOptions = {}): AsyncIterable<LedgerEntry> {
    for await (const entity of listAll(this.#client, undefined, options)) {
      if (entity.partitionKey !== LEDGER_EPOCH_PARTITION) yield fromEntity(entity);
    }
  }

  async *listStatus(options: StateOperationOptions = {}): AsyncIterable<LedgerStatusRow> {
    // A partition at a time: a range the service (and Azurite) serves without sorting the whole table.
    for (let bucket = 0; bucket < LEDGER_BUCKETS; bucket++) {
      const filter = odata`PartitionKey eq ${bucketName('b', bucket, LEDGER_BUCKETS)}`;
      for await (const entity of listAll(this.#client, filter, { ...options, select: STATUS_FIELDS })) {
        const row: { -readonly [K in keyof LedgerStatusRow]: LedgerStatusRow[K] } = {
          externalId: readString(entity, 'externalId'),
          state: readEnum(entity, 'state', LEDGER_STATES),
        };
        const vivaId = readOptionalString(entity, 'vivaId');
        const fingerprint = readOptionalString(entity, 'fingerprint');
        if (vivaId !== undefined) row.vivaId = vivaId;
        if (fingerprint !== undefined) row.fingerprint = fingerprint;
        yield row;
      }
    }
  }
}

const STATUS_FIELDS = ['externalId', 'state', 'vivaId', 'fingerprint'];

function toEntity(entry: LedgerEntry): FlatEntity {
  return {
    ...ledgerKeys(entry.externalId),
    externalId: entry.externalId,
    enrollmentId: entry.enrollmentId,
    state: entry.state,
    vivaId: entry.vivaId,
    fingerprint: entry.fingerprint,
    contentExternalId: entry.contentExternalId,
    learnerObjectId: entry.learnerObjectId,
    sourceUpdatedAt: entry.sourceUpdatedAt,
    updatedAt: entry.updatedAt,
  };
}

function fromEntity(entity: StoredEntity): LedgerEntry {
  const entry: { -readonly [K in keyof LedgerEntry]: LedgerEntry[K] } = {
    externalId: readString(entity, 'externalId'),
    enrollmentId: readString(entity, 'enrollmentId'),
    state: readEnum(entity, 'state', LEDGER_STATES),
  };
  // Only present fields, so an entry read back equals the one written.
  const optional = ['vivaId', 'fingerprint', 'contentExternalId', 'learnerObjectId', 'sourceUpdatedAt', 'updatedAt'] as const;
  for (const name of optional) {
    const value = readOptionalString(entity, name);
    if (value !== undefined) entry[name] = value;
  }
  return entry;
}
