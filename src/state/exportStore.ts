/**
 * Which exports were read (README, "Exports in Blob Storage"): one entity per export, keyed by
 * its source (the folder or blob URL, without any SAS token) and its name. An export whose
 * ETag is recorded as `done` (or `failed`, `skipped`) is not read again; a new ETag is.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { createTableClient, ensureTable, listAll, readEnum, readOptionalNumber, readOptionalString, readString, tableName, toWritableEntity, truncateText } from './tableClients.js';
import type { StoredEntity, TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

export const EXPORTS_TABLE_SUFFIX = 'Exports';

/**
 * `reading`: a run is reading it (or stopped while reading: the next run resumes it);
 * `done`: read to the end; `failed`: its content could not be read (error says why);
 * `skipped`: snapshot mode, a newer complete export made it moot; `waiting`: not complete yet;
 * `requeued`: an operator asked to read it again (`viva-sync exports reprocess`).
 */
export type ExportStatus = 'reading' | 'done' | 'failed' | 'skipped' | 'waiting' | 'requeued';
export const EXPORT_STATUSES: readonly ExportStatus[] = ['reading', 'done', 'failed', 'skipped', 'waiting', 'requeued'];

export interface ExportRecord {
  /** The source: the folder or blob URL as configured, without a SAS token. */
  readonly root: string;
  readonly name: string;
  readonly etag: string;
  readonly size: number;
  /** The export's Last-Modified (ISO 8601). */
  readonly lastModified: string;
  readonly status: ExportStatus;
  /** When this status was recorded. */
  readonly updatedAt: string;
  readonly runId?: string;
  /** Records read from it, and of those, how many could not be read (dead letters). */
  readonly read?: number;
  readonly invalid?: number;
  /** Why it failed, or what it waits for. */
  readonly error?: string;
}

export interface ExportStore {
  /** The records of one source (or of every source), in name order. */
  list(root?: string, options?: StateOperationOptions): Promise<ExportRecord[]>;
  put(record: ExportRecord, options?: StateOperationOptions): Promise<void>;
  /** Marks every export named `name` (in any source) to be read again; returns those it marked. */
  requeue(name: string, options?: StateOperationOptions): Promise<ExportRecord[]>;
}

const MAX_ERROR_LENGTH = 4_000;
const INT32_MAX = 0x7fff_ffff;

export interface ExportStoreOptions extends StateOperationOptions {
  readonly connection: TableConnection;
  readonly tablePrefix: string;
}

/** Opens (and creates when missing) the exports table. */
export async function createExportStore(options: ExportStoreOptions): Promise<ExportStore & { readonly tableName: string }> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, EXPORTS_TABLE_SUFFIX));
  await ensureTable(client, options);
  const store = new TableExportStore(client);
  return Object.assign(store, { tableName: client.tableName });
}

export class TableExportStore implements ExportStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async list(root?: string, options: StateOperationOptions = {}): Promise<ExportRecord[]> {
    const filter = root === undefined ? undefined : odata`PartitionKey eq ${encodeKey(root)}`;
    const records: ExportRecord[] = [];
    for await (const entity of listAll(this.#client, filter, options)) records.push(fromEntity(entity));
    return records.sort((a, b) => (a.root === b.root ? compareNames(a.name, b.name) : compareNames(a.root, b.root)));
  }

  async put(record: ExportRecord, options: StateOperationOptions = {}): Promise<void> {
    await this.#client.upsertEntity(toEntity(record), 'Replace', { abortSignal: options.abortSignal });
  }

  async requeue(name: string, options: StateOperationOptions = {}): Promise<ExportRecord[]> {
    const marked: ExportRecord[] = [];
    for await (const entity of listAll(this.#client, odata`name eq ${name}`, options)) {
      const record = { ...fromEntity(entity), status: 'requeued' as const, updatedAt: new Date().toISOString() };
      const { error: _error, ...rest } = record;
      await this.put(rest, options);
      marked.push(rest);
    }
    return marked;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toEntity(record: ExportRecord): ReturnType<typeof toWritableEntity> {
  const count = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.min(Math.max(0, Math.trunc(n)), INT32_MAX));
  return toWritableEntity({
    partitionKey: encodeKey(record.root),
    rowKey: encodeKey(record.name),
    root: record.root,
    name: record.name,
    blobEtag: record.etag,
    // A string: exports pass the Int32 range that plain numbers are stored in.
    size: String(record.size),
    lastModified: record.lastModified,
    status: record.status,
    updatedAt: record.updatedAt,
    runId: record.runId,
    read: count(record.read),
    invalid: count(record.invalid),
    error: record.error === undefined ? undefined : truncateText(record.error, MAX_ERROR_LENGTH),
  });
}

function fromEntity(entity: StoredEntity): ExportRecord {
  const record: { -readonly [K in keyof ExportRecord]: ExportRecord[K] } = {
    root: readString(entity, 'root'),
    name: readString(entity, 'name'),
    etag: readString(entity, 'blobEtag'),
    size: Number(readString(entity, 'size')),
    lastModified: readString(entity, 'lastModified'),
    status: readEnum(entity, 'status', EXPORT_STATUSES),
    updatedAt: readString(entity, 'updatedAt'),
  };
  const runId = readOptionalString(entity, 'runId');
  if (runId !== undefined) record.runId = runId;
  const error = readOptionalString(entity, 'error');
  if (error !== undefined) record.error = error;
  const read = readOptionalNumber(entity, 'read');
  if (read !== undefined) record.read = read;
  const invalid = readOptionalNumber(entity, 'invalid');
  if (invalid !== undefined) record.invalid = invalid;
  return record;
}
