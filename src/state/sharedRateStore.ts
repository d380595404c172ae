import { setTimeout } from 'node:timers/promises';
import { odata, type TableClient } from '@azure/data-tables';
import { createTableClient, ensureTable, getEntityOrUndefined, hasStatus, listAll, readNumber, readString, tableName, toWritableEntity, type TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** The shared rate budget's table, beside the engine's (`SyncState`), before the prefix. */
export const SHARED_RATE_TABLE_SUFFIX = 'RateBudget';

/** The rate all workers together may send to Graph, as they learned it from its 429s. */
export interface SharedRate {
  /** Requests per second for all workers together; Infinity until the first 429. */
  readonly rate: number;
  /** No worker starts a request before this (epoch ms): a Retry-After one of them was given. */
  readonly pausedUntil: number;
  /** When a worker last lowered the rate (epoch ms): one burst of 429s lowers it once. */
  readonly lastDecrease: number;
}

const INITIAL: SharedRate = { rate: Infinity, pausedUntil: 0, lastDecrease: 0 };
const MAX_ATTEMPTS = 20;

/**
 * One entity holding the shared rate, updated with its ETag (a lost race reads again and
 * re-applies the change), and one heartbeat row per worker, to split the rate among those alive.
 */
export class TableSharedRateStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(options: StateOperationOptions = {}): Promise<SharedRate> {
    return (await this.#read(options)).value;
  }

  /** Applies `change` to the current value under its ETag, retrying on a conflict; returns the stored value. */
  async update(change: (current: SharedRate) => SharedRate, options: StateOperationOptions = {}): Promise<SharedRate> {
    for (let attempt = 1; ; attempt += 1) {
      const { value, etag } = await this.#read(options);
      const next = change(value);
      const entity = toWritableEntity({
        partitionKey: 'rate',
        rowKey: 'graph',
        // -1: no rate known yet (Infinity does not fit a table property).
        rate: Number.isFinite(next.rate) ? next.rate : -1,
        pausedUntil: new Date(next.pausedUntil).toISOString(),
        lastDecrease: new Date(next.lastDecrease).toISOString(),
      });
      try {
        if (etag === undefined) await this.#client.createEntity(entity, { abortSignal: options.abortSignal });
        else await this.#client.updateEntity(entity, 'Replace', { etag, abortSignal: options.abortSignal });
        return next;
      } catch (err) {
        if (!hasStatus(err, 409, 412) || attempt >= MAX_ATTEMPTS) throw err;
        // Workers that lost the same race must not retry in lockstep (measured: 4 workers on one entity
        // without a pause sometimes lost 20 times running).
        await setTimeout(Math.random() * Math.min(250, 5 * 2 ** attempt), undefined, options.abortSignal === undefined ? {} : { signal: options.abortSignal });
      }
    }
  }

  /** Records that this worker is alive; returns how many workers were seen within `withinMs`. */
  async heartbeat(workerId: string, withinMs: number, options: StateOperationOptions = {}): Promise<number> {
    const now = Date.now();
    await this.#client.upsertEntity(toWritableEntity({ partitionKey: 'workers', rowKey: workerId, lastSeen: new Date(now).toISOString() }), 'Replace', { abortSignal: options.abortSignal });
    let alive = 0;
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${'workers'}`, options)) {
      if (now - Date.parse(readString(entity, 'lastSeen')) <= withinMs) alive += 1;
    }
    return Math.max(1, alive);
  }

  async leave(workerId: string, options: StateOperationOptions = {}): Promise<void> {
    try {
      await this.#client.deleteEntity('workers', workerId, { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
  }

  async #read(options: StateOperationOptions): Promise<{ value: SharedRate; etag: string | undefined }> {
    const entity = await getEntityOrUndefined(this.#client, 'rate', 'graph', options);
    if (entity === undefined) return { value: INITIAL, etag: undefined };
    const rate = readNumber(entity, 'rate');
    return {
      value: { rate: rate < 0 ? Infinity : rate, pausedUntil: Date.parse(readString(entity, 'pausedUntil')), lastDecrease: Date.parse(readString(entity, 'lastDecrease')) },
      etag: entity.etag,
    };
  }
}

/** Opens (and creates when missing) the shared rate table. */
export async function createSharedRateStore(options: StateOperationOptions & { readonly connection: TableConnection; readonly tablePrefix: string }): Promise<TableSharedRateStore> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, SHARED_RATE_TABLE_SUFFIX));
  await ensureTable(client, options);
  return new TableSharedRateStore(client);
}
