/**
 * Building `TableClient`s, and the few helpers every store shares: status codes of SDK errors,
 * checks of the service limits that Azurite does not enforce, batched point reads, and
 * partition-grouped transactions.
 */
import type { TokenCredential } from '@azure/core-auth';
import { odata, TableClient } from '@azure/data-tables';
import type { TableEntity, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { ConfigError } from '../config/errors.js';
import type { StateOperationOptions } from './types.js';

/** Where the state tables live: a storage connection string, or an account URL and an Entra credential. */
export type TableConnection =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'endpoint'; readonly url: string; readonly credential: TokenCredential };

/** A table entity as the stores write it: flat primitive properties only. */
export type FlatEntity = TableEntity<Record<string, string | number | boolean | undefined>>;

/** A table entity as the SDK returns it, before a store parses it. */
export type StoredEntity = TableEntityResult<Record<string, unknown>>;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

/** `${prefix}${name}`, checked against the service's table-name rule. */
export function tableName(prefix: string, name: string): string {
  const full = `${prefix}${name}`;
  if (!/^[A-Za-z0-9]*$/.test(prefix) || !TABLE_NAME.test(full) || full.toLowerCase() === 'tables') {
    throw new ConfigError([
      {
        setting: 'SYNC_TABLE_PREFIX',
        problem: `must be letters and digits, start with a letter and leave table names of 3 to 63 characters (got ${JSON.stringify(prefix)}, which makes ${JSON.stringify(full)})`,
      },
    ]);
  }
  return full;
}

/** A client for one table; nothing is sent until it is used. */
export function createTableClient(connection: TableConnection, table: string): TableClient {
  if (connection.kind === 'connectionString') {
    return TableClient.fromConnectionString(connection.connectionString, table, {
      allowInsecureConnection: usesHttp(connection.connectionString),
    });
  }
  // The SDK refuses to send a bearer token over plain http; say so before the first request.
  if (!/^https:\/\//i.test(connection.url)) {
    throw new Error(`The table endpoint must be an https:// URL to use an Entra credential, got ${connection.url}`);
  }
  return new TableClient(connection.url, table, connection.credential);
}

/**
 * Whether the connection string points the table service at http (Azurite on a chosen port);
 * the SDK refuses http unless told, except for `UseDevelopmentStorage=true`.
 */
function usesHttp(connectionString: string): boolean {
  const settings = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) settings.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  if (settings.get('usedevelopmentstorage')?.toLowerCase() === 'true') return true;
  const endpoint = settings.get('tableendpoint');
  if (endpoint !== undefined) return /^http:\/\//i.test(endpoint);
  return settings.get('defaultendpointsprotocol')?.toLowerCase() === 'http';
}

/** Creates the table if it is missing (the SDK treats "already exists" as success). */
export async function ensureTable(client: TableClient, options: StateOperationOptions = {}): Promise<void> {
  await client.createTable({ abortSignal: options.abortSignal });
}

/** The HTTP status of an SDK `RestError` (its `code` is often undefined, so never branch on it). */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number') {
    return err.statusCode;
  }
  return undefined;
}

export function hasStatus(err: unknown, ...statusCodes: readonly number[]): boolean {
  const status = statusCodeOf(err);
  return status !== undefined && statusCodes.includes(status);
}

/** Reads one entity; undefined when it does not exist. */
export async function getEntityOrUndefined(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
  options: StateOperationOptions = {},
): Promise<StoredEntity | undefined> {
  try {
    return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey, { abortSignal: options.abortSignal });
  } catch (err) {
    if (hasStatus(err, 404)) return undefined;
    throw err;
  }
}

/** Deletes one entity; one already gone is no error. */
export async function deleteIfExists(client: TableClient, partitionKey: string, rowKey: string, options: StateOperationOptions = {}): Promise<void> {
  try {
    await client.deleteEntity(partitionKey, rowKey, { abortSignal: options.abortSignal });
  } catch (err) {
    if (!hasStatus(err, 404)) throw err;
  }
}

// Service limits (Table service data model). Azurite accepts more properties and answers 500,
// not 400, to a '/' in a key, so these are checked here before anything is sent.
const MAX_CUSTOM_PROPERTIES = 252;
const MAX_KEY_LENGTH = 1024;
/** 64 KiB of UTF-16. */
export const MAX_STRING_LENGTH = 32_768;
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const RESERVED_NAMES = new Set(['PartitionKey', 'RowKey', 'Timestamp', 'etag']);

function isForbiddenKeyChar(code: number): boolean {
  return (
    code === 0x2f /* / */ ||
    code === 0x5c /* \ */ ||
    code === 0x23 /* # */ ||
    code === 0x3f /* ? */ ||
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f)
  );
}

function checkKey(label: string, key: string): void {
  if (key.length > MAX_KEY_LENGTH) throw new Error(`${label} is longer than ${MAX_KEY_LENGTH} characters`);
  for (let i = 0; i < key.length; i++) {
    if (isForbiddenKeyChar(key.charCodeAt(i))) {
      throw new Error(`${label} ${JSON.stringify(key.slice(0, 80))} holds a character Table Storage forbids in keys`);
    }
  }
}

/**
 * Drops undefined properties (so Replace removes them) and checks the entity against the
 * service limits: safe keys, C#-identifier property names, at most 252 properties, strings of
 * at most 64 KiB, and numbers that fit Int32 or are finite doubles (never Int64, which would
 * come back as BigInt).
 */
export function toWritableEntity(entity: FlatEntity): FlatEntity {
  checkKey('PartitionKey', entity.partitionKey);
  checkKey('RowKey', entity.rowKey);
  const result: FlatEntity = { partitionKey: entity.partitionKey, rowKey: entity.rowKey };
  let count = 0;
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey' || name === 'rowKey' || value === undefined) continue;
    if (!PROPERTY_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new Error(`Property name ${JSON.stringify(name)} is not allowed in Table Storage`);
    }
    if (typeof value === 'string' && value.length > MAX_STRING_LENGTH) {
      throw new Error(`Property ${name} is longer than ${MAX_STRING_LENGTH} characters`);
    }
    if (typeof value === 'number' && (!Number.isFinite(value) || (Number.isInteger(value) && (value > 0x7fff_ffff || value < -0x8000_0000)))) {
      throw new Error(`Property ${name} must be a finite number within the Int32 range for integers, got ${value}`);
    }
    result[name] = value;
    count++;
  }
  if (count > MAX_CUSTOM_PROPERTIES) throw new Error(`An entity may hold at most ${MAX_CUSTOM_PROPERTIES} properties, got ${count}`);
  return result;
}

/** Runs `task` over `items` with at most `limit` in flight; stops taking new items after a failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = items.values();
  let failed = false;
  const worker = async (): Promise<void> => {
    for (const item of queue) {
      if (failed) return;
      try {
        await task(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Groups the row keys of these ids by partition, for `getManyByKeys`. */
export function groupKeys(
  ids: Iterable<string>,
  keysOf: (id: string) => { partitionKey: string; rowKey: string },
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const { partitionKey, rowKey } = keysOf(id);
    const rows = groups.get(partitionKey);
    if (rows === undefined) groups.set(partitionKey, [rowKey]);
    else rows.push(rowKey);
  }
  return groups;
}

/** A filter may hold at most 15 comparisons: one for the PartitionKey, 14 for RowKeys. */
const ROW_KEYS_PER_QUERY = 14;
const PARALLEL_REQUESTS = 4;

/**
 * Reads the entities with these keys (missing ones are simply absent) with one query per
 * partition and 14 row keys, a few at a time: neither a point read per key nor a scan.
 */
export async function getManyByKeys(
  client: TableClient,
  keys: ReadonlyMap<string, readonly string[]>,
  options: StateOperationOptions & { readonly select?: string[] } = {},
): Promise<StoredEntity[]> {
  const queries: string[] = [];
  for (const [partitionKey, rowKeys] of keys) {
    for (const part of chunk([...new Set(rowKeys)], ROW_KEYS_PER_QUERY)) {
      // Each literal goes through `odata` so quotes are escaped; the joins add only fixed text.
      const rows = part.map((rowKey) => odata`RowKey eq ${rowKey}`).join(' or ');
      queries.push(`${odata`PartitionKey eq ${partitionKey}`} and (${rows})`);
    }
  }
  const found: StoredEntity[] = [];
  await forEachLimited(queries, PARALLEL_REQUESTS, async (filter) => {
    const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter, ...(options.select === undefined ? {} : { select: options.select }) }, abortSignal: options.abortSignal });
    for await (const entity of pages) found.push(entity);
  });
  return found;
}

const MAX_BATCH_OPERATIONS = 100;
/** The service caps a batch at 4 MiB; keep a margin for the multipart framing. */
const MAX_BATCH_BYTES = 3.5 * 1024 * 1024;

/**
 * Upserts (Replace) the entities as entity-group transactions: one partition per batch, at most
 * 100 operations and ~3.5 MiB each, and each RowKey once per batch (the last entity wins, as
 * a sequence of single upserts would leave it). Batches run a few at a time; each batch is
 * all-or-nothing, the whole call is not.
 */
export async function upsertAllReplace(
  client: TableClient,
  entities: readonly FlatEntity[],
  options: StateOperationOptions = {},
): Promise<void> {
  const byPartition = new Map<string, Map<string, FlatEntity>>();
  for (const entity of entities) {
    const writable = toWritableEntity(entity);
    let rows = byPartition.get(writable.partitionKey);
    if (rows === undefined) byPartition.set(writable.partitionKey, (rows = new Map()));
    rows.delete(writable.rowKey); // keep the last one, in the order it came
    rows.set(writable.rowKey, writable);
  }
  const batches: TransactionAction[][] = [];
  for (const rows of byPartition.values()) {
    let batch: TransactionAction[] = [];
    let bytes = 0;
    for (const entity of rows.values()) {
      const size = Buffer.byteLength(JSON.stringify(entity)) + 512;
      if (batch.length === MAX_BATCH_OPERATIONS || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(['upsert', entity, 'Replace']);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
  }
  await forEachLimited(batches, PARALLEL_REQUESTS, async (batch) => {
    await client.submitTransaction(batch, { abortSignal: options.abortSignal });
  });
}

/** Lists entities matching `filter` (all of them when undefined), paging under the hood. */
export function listAll(
  client: TableClient,
  filter: string | undefined,
  options: StateOperationOptions & { readonly select?: string[] } = {},
): AsyncIterable<StoredEntity> {
  return client.listEntities<Record<string, unknown>>({
    queryOptions: { ...(filter === undefined ? {} : { filter }), ...(options.select === undefined ? {} : { select: options.select }) },
    abortSignal: options.abortSignal,
  });
}

/**
 * Cuts `text` to at most `max` characters, ending with a marker that gives the original length
 * (never splitting a surrogate pair). Returned unchanged when it fits.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `…[truncated: ${text.length} characters in all]`;
  let end = max - marker.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose pair would be cut off
  return text.slice(0, end) + marker;
}

// Parsing stored entities: a wrong type means the table was edited by hand or by another
// version; say which property, rather than passing garbage on.

function corrupt(entity: StoredEntity, name: string, expected: string): Error {
  return new Error(
    `Stored entity ${JSON.stringify(entity.partitionKey)}/${JSON.stringify(entity.rowKey)} has no valid ${name} (expected ${expected})`,
  );
}

export function readString(entity: StoredEntity, name: string): string {
  const value = entity[name];
  if (typeof value !== 'string') throw corrupt(entity, name, 'a string');
  return value;
}

export function readOptionalString(entity: StoredEntity, name: string): string | undefined {
  const value = entity[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw corrupt(entity, name, 'a string');
  return value;
}

export function readNumber(entity: StoredEntity, name: string): number {
  const value = entity[name];
  if (typeof value !== 'number') throw corrupt(entity, name, 'a number');
  return value;
}

export function readOptionalNumber(entity: StoredEntity, name: string): number | undefined {
  const value = entity[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw corrupt(entity, name, 'a number');
  return value;
}

export function readBoolean(entity: StoredEntity, name: string): boolean {
  const value = entity[name];
  if (typeof value !== 'boolean') throw corrupt(entity, name, 'a boolean');
  return value;
}

export function readEnum<T extends string>(entity: StoredEntity, name: string, allowed: readonly T[]): T {
  const value = entity[name];
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw corrupt(entity, name, allowed.join(' or '));
  return match;
}
