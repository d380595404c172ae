import { odata, type TableClient } from '@azure/data-tables';
import { createTableClient, ensureTable, getEntityOrUndefined, hasStatus, listAll, readBoolean, readNumber, readOptionalNumber, readOptionalString, readString, tableName, toWritableEntity, type StoredEntity, type TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** The queue mode's table, beside the engine's (`SyncState`), before the prefix. */
export const OUTSTANDING_TABLE_SUFFIX = 'Outstanding';

/** A planned page whose work batches went to the queue: the cursor passes it once every batch is done. */
export interface OutstandingPage {
  readonly pageId: string;
  readonly runId: string;
  /** The source cursor after this page; undefined when the adapter gave none. */
  readonly cursor: string | undefined;
  /** True once every batch of the page was sent; an unsealed page of a stopped run is abandoned. */
  readonly sealed: boolean;
  readonly batches: number;
}

export type BatchState = 'enqueued' | 'done';

/** What the workers did with a batch's items, over all its deliveries: the run summary's counts. */
export interface BatchCounts {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly failed: number;
}

export const NO_BATCH_COUNTS: BatchCounts = { created: 0, updated: 0, deleted: 0, failed: 0 };
const COUNT_FIELDS = ['created', 'updated', 'deleted', 'failed'] as const;

export function addCounts(a: BatchCounts, b: BatchCounts): BatchCounts {
  return { created: a.created + b.created, updated: a.updated + b.updated, deleted: a.deleted + b.deleted, failed: a.failed + b.failed };
}

export interface BatchRow {
  readonly pageId: string;
  readonly batchId: string;
  readonly state: BatchState;
  readonly items: number;
  /** The last error a worker met with this batch (for the poison queue's dead letters). */
  readonly lastError?: string;
  readonly counts: BatchCounts;
}

/**
 * Outstanding work of queue mode in Table Storage: one row per page (partition `pages`) and one
 * per work batch (partition `p.<pageId>`). Marking a batch done is an idempotent upsert, so a
 * message delivered twice counts once.
 */
export class TableOutstandingStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async openPage(page: OutstandingPage, options: StateOperationOptions = {}): Promise<void> {
    await this.#client.upsertEntity(toWritableEntity({ partitionKey: 'pages', rowKey: page.pageId, runId: page.runId, cursor: page.cursor, sealed: page.sealed, batches: page.batches }), 'Replace', { abortSignal: options.abortSignal });
  }

  async getPage(pageId: string, options: StateOperationOptions = {}): Promise<OutstandingPage | undefined> {
    const entity = await getEntityOrUndefined(this.#client, 'pages', pageId, options);
    return entity === undefined ? undefined : pageOf(entity);
  }

  /** Open pages, oldest first (page ids sort as their runs and sequence numbers). */
  async listPages(options: StateOperationOptions = {}): Promise<OutstandingPage[]> {
    const pages: OutstandingPage[] = [];
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${'pages'}`, options)) pages.push(pageOf(entity));
    return pages.sort((a, b) => (a.pageId < b.pageId ? -1 : a.pageId > b.pageId ? 1 : 0));
  }

  /** Records a batch as sent; never downgrades a batch a worker already finished. */
  async batchEnqueued(pageId: string, batchId: string, items: number, options: StateOperationOptions = {}): Promise<void> {
    try {
      await this.#client.createEntity(toWritableEntity({ partitionKey: batchPartition(pageId), rowKey: batchId, state: 'enqueued', items }), { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
    }
  }

  async batchDone(pageId: string, batchId: string, items: number, counts: BatchCounts, options: StateOperationOptions = {}): Promise<void> {
    await this.#client.upsertEntity(toWritableEntity({ partitionKey: batchPartition(pageId), rowKey: batchId, state: 'done', items, ...counts, doneAt: new Date().toISOString() }), 'Replace', { abortSignal: options.abortSignal });
  }

  /** A delivery that did not finish: its error, and (when given) what the batch did so far (the next delivery replaces it). */
  async batchFailed(pageId: string, batchId: string, items: number, error: string, counts?: BatchCounts, options: StateOperationOptions = {}): Promise<void> {
    const entity = toWritableEntity({ partitionKey: batchPartition(pageId), rowKey: batchId, state: 'enqueued', items, ...counts, lastError: error.slice(0, 8_000) });
    await this.#client.upsertEntity(entity, 'Merge', { abortSignal: options.abortSignal });
  }

  async getBatch(pageId: string, batchId: string, options: StateOperationOptions = {}): Promise<BatchRow | undefined> {
    const entity = await getEntityOrUndefined(this.#client, batchPartition(pageId), batchId, options);
    if (entity === undefined) return undefined;
    const lastError = readOptionalString(entity, 'lastError');
    return { pageId, batchId, state: readString(entity, 'state') === 'done' ? 'done' : 'enqueued', items: readNumber(entity, 'items'), counts: countsOf(entity), ...(lastError !== undefined ? { lastError } : {}) };
  }

  /** Batches of the page not yet written or dead-lettered. */
  async outstanding(pageId: string, options: StateOperationOptions = {}): Promise<number> {
    let count = 0;
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${batchPartition(pageId)}`, { ...options, select: ['state'] })) {
      if (entity['state'] !== 'done') count += 1;
    }
    return count;
  }

  /** Forgets a finished (or abandoned) page and its batches; returns what the workers did in them. */
  async closePage(pageId: string, options: StateOperationOptions = {}): Promise<BatchCounts> {
    const rows: string[] = [];
    let counts = NO_BATCH_COUNTS;
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${batchPartition(pageId)}`, { ...options, select: ['RowKey', ...COUNT_FIELDS] })) {
      if (entity.rowKey !== undefined) rows.push(entity.rowKey);
      counts = addCounts(counts, countsOf(entity));
    }
    for (const rowKey of rows) await this.#delete(batchPartition(pageId), rowKey, options);
    await this.#delete('pages', pageId, options);
    return counts;
  }

  /** A payload too large for a queue message, stored in chunks of one entity (`Payload` partition). */
  async putPayload(key: string, json: string, options: StateOperationOptions = {}): Promise<void> {
    const chunkLength = 30_000;
    const chunks = Math.ceil(json.length / chunkLength);
    if (chunks > 30) throw new Error(`A work batch of ${json.length} characters is too large to store by reference`);
    const entity: Record<string, string | number> = { chunks };
    for (let i = 0; i < chunks; i += 1) entity[`c${i}`] = json.slice(i * chunkLength, (i + 1) * chunkLength);
    await this.#client.upsertEntity(toWritableEntity({ partitionKey: 'payload', rowKey: key, ...entity }), 'Replace', { abortSignal: options.abortSignal });
  }

  async getPayload(key: string, options: StateOperationOptions = {}): Promise<string | undefined> {
    const entity = await getEntityOrUndefined(this.#client, 'payload', key, options);
    if (entity === undefined) return undefined;
    const chunks = readNumber(entity, 'chunks');
    let json = '';
    for (let i = 0; i < chunks; i += 1) json += readString(entity, `c${i}`);
    return json;
  }

  async #delete(partitionKey: string, rowKey: string, options: StateOperationOptions): Promise<void> {
    try {
      await this.#client.deleteEntity(partitionKey, rowKey, { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
  }
}

function countsOf(entity: StoredEntity): BatchCounts {
  const read = (name: (typeof COUNT_FIELDS)[number]): number => readOptionalNumber(entity, name) ?? 0;
  return { created: read('created'), updated: read('updated'), deleted: read('deleted'), failed: read('failed') };
}

function batchPartition(pageId: string): string {
  return `p.${pageId}`;
}

function pageOf(entity: Parameters<typeof readString>[0]): OutstandingPage {
  return {
    pageId: entity.rowKey ?? '',
    runId: readString(entity, 'runId'),
    cursor: readOptionalString(entity, 'cursor'),
    sealed: readBoolean(entity, 'sealed'),
    batches: readNumber(entity, 'batches'),
  };
}

/** Opens (and creates when missing) the outstanding-work table. */
export async function createOutstandingStore(options: StateOperationOptions & { readonly connection: TableConnection; readonly tablePrefix: string }): Promise<TableOutstandingStore> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, OUTSTANDING_TABLE_SUFFIX));
  await ensureTable(client, options);
  return new TableOutstandingStore(client);
}
