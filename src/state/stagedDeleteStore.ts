import { odata, type TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { createTableClient, deleteIfExists, ensureTable, getEntityOrUndefined, hasStatus, listAll, readBoolean, readOptionalString, readString, tableName, toWritableEntity, upsertAllReplace, type StoredEntity, type TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** The staged deletes' table, beside the engine's (`SyncState`), before the prefix. */
export const STAGED_DELETES_TABLE_SUFFIX = 'StagedDeletes';

const STAGED = 'staged';
const META = 'meta';
const REWIND = 'rewind';

/**
 * A withdrawal a sync pass planned but did not send: the activity is deleted only once the pass
 * has read every page and the pass's deletes are within SYNC_QUARANTINE_MAX_DELETES (or an
 * operator approved them). See src/sync/stagedDeletes.ts.
 */
export interface StagedDelete {
  readonly externalId: string;
  readonly enrollmentId: string;
  /** The withdrawal's updatedAt: a later record of the enrollment supersedes the staged delete. */
  readonly sourceUpdatedAt: string;
  /** Viva's id when the ledger knew it; otherwise the activity is looked up by its external id. */
  readonly vivaId: string | undefined;
  readonly lookupFirst: boolean;
  /** Where the withdrawal was read (file and line, …), for the dead letter a failed delete becomes. */
  readonly position?: string;
  readonly runId: string;
  readonly stagedAt: string;
}

export interface StagedDeleteStore {
  /**
   * Stages these deletes (a delete staged again replaces the earlier one). `rewindTo` is the
   * cursor from which the LMS is read again if the staged deletes are discarded: kept from the
   * first staging after the table was last emptied.
   */
  stage(deletes: readonly StagedDelete[], rewindTo: { readonly cursor: string | undefined }, options?: StateOperationOptions): Promise<void>;
  list(options?: StateOperationOptions): Promise<StagedDelete[]>;
  remove(externalIds: readonly string[], options?: StateOperationOptions): Promise<void>;
  /** Where to read again from after a discard; undefined when nothing is staged. */
  rewindTo(options?: StateOperationOptions): Promise<{ readonly cursor: string | undefined } | undefined>;
  /** Forgets every staged delete and the rewind cursor; returns how many were staged. */
  discardAll(options?: StateOperationOptions): Promise<number>;
  /** Once nothing is staged, the next staging sets the rewind cursor afresh. */
  forgetRewindIfEmpty(options?: StateOperationOptions): Promise<void>;
}

/** One partition of staged deletes (one row per activity) and one meta row, in their own table. */
export class TableStagedDeleteStore implements StagedDeleteStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async stage(deletes: readonly StagedDelete[], rewindTo: { readonly cursor: string | undefined }, options: StateOperationOptions = {}): Promise<void> {
    if (deletes.length === 0) return;
    try {
      // Only the first staging since the table was emptied sets where a discard rewinds to.
      await this.#client.createEntity(toWritableEntity({ partitionKey: META, rowKey: REWIND, hasCursor: rewindTo.cursor !== undefined, cursor: rewindTo.cursor }), { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
    }
    await upsertAllReplace(
      this.#client,
      deletes.map((d) =>
        toWritableEntity({
          partitionKey: STAGED,
          rowKey: encodeKey(d.externalId),
          externalId: d.externalId,
          enrollmentId: d.enrollmentId,
          sourceUpdatedAt: d.sourceUpdatedAt,
          vivaId: d.vivaId,
          lookupFirst: d.lookupFirst,
          position: d.position,
          runId: d.runId,
          stagedAt: d.stagedAt,
        }),
      ),
      options,
    );
  }

  async list(options: StateOperationOptions = {}): Promise<StagedDelete[]> {
    const out: StagedDelete[] = [];
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${STAGED}`, options)) out.push(stagedOf(entity));
    return out;
  }

  async remove(externalIds: readonly string[], options: StateOperationOptions = {}): Promise<void> {
    for (const id of new Set(externalIds)) await this.#delete(STAGED, encodeKey(id), options);
  }

  async rewindTo(options: StateOperationOptions = {}): Promise<{ readonly cursor: string | undefined } | undefined> {
    const entity = await getEntityOrUndefined(this.#client, META, REWIND, options);
    if (entity === undefined) return undefined;
    return { cursor: readBoolean(entity, 'hasCursor') ? readString(entity, 'cursor') : undefined };
  }

  async discardAll(options: StateOperationOptions = {}): Promise<number> {
    const rows: string[] = [];
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${STAGED}`, { ...options, select: ['RowKey'] })) {
      if (entity.rowKey !== undefined) rows.push(entity.rowKey);
    }
    for (const rowKey of rows) await this.#delete(STAGED, rowKey, options);
    await this.#delete(META, REWIND, options);
    return rows.length;
  }

  async forgetRewindIfEmpty(options: StateOperationOptions = {}): Promise<void> {
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${STAGED}`, { ...options, select: ['RowKey'] })) {
      if (entity.rowKey !== undefined) return;
    }
    await this.#delete(META, REWIND, options);
  }

  #delete(partitionKey: string, rowKey: string, options: StateOperationOptions): Promise<void> {
    return deleteIfExists(this.#client, partitionKey, rowKey, options);
  }
}

function stagedOf(entity: StoredEntity): StagedDelete {
  const vivaId = readOptionalString(entity, 'vivaId');
  const position = readOptionalString(entity, 'position');
  return {
    externalId: readString(entity, 'externalId'),
    enrollmentId: readString(entity, 'enrollmentId'),
    sourceUpdatedAt: readString(entity, 'sourceUpdatedAt'),
    vivaId,
    lookupFirst: readBoolean(entity, 'lookupFirst'),
    ...(position !== undefined ? { position } : {}),
    runId: readString(entity, 'runId'),
    stagedAt: readString(entity, 'stagedAt'),
  };
}

/** Opens (and creates when missing) the staged deletes' table. */
export async function createStagedDeleteStore(options: StateOperationOptions & { readonly connection: TableConnection; readonly tablePrefix: string }): Promise<TableStagedDeleteStore> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, STAGED_DELETES_TABLE_SUFFIX));
  await ensureTable(client, options);
  return new TableStagedDeleteStore(client);
}
