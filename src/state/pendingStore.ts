import { odata } from '@azure/data-tables';
import type { TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { getEntityOrUndefined, hasStatus, listAll, readNumber, readOptionalString, readString, toWritableEntity } from './tableClients.js';
import type { StoredEntity } from './tableClients.js';
import type { RunCounts, StateOperationOptions } from './types.js';

const RECORDS = 'rec';
const RESYNCS = 'resync';
/** A queued record is re-read from the LMS anyway; past this size only its id is kept. */
const MAX_RECORD_LENGTH = 30_000;
const MAX_ATTEMPTS = 5;
const COUNT_NAMES = ['read', 'created', 'updated', 'deleted', 'unchanged', 'failed'] as const satisfies readonly (keyof RunCounts)[];

function countProperty(name: keyof RunCounts): string {
  return `count${name[0]?.toUpperCase() ?? ''}${name.slice(1)}`;
}

/** Work for the next run: an enrollment a webhook could not sync at once. */
export interface PendingRecord {
  readonly enrollmentId: string;
  /** The canonical record as JSON, when the caller had one. */
  readonly record?: string;
  /** The record's updatedAt: of two queued records for one enrollment, the newer is kept. */
  readonly updatedAt?: string;
  /** Why it was queued (runInProgress, throttled, timeBudget, …). */
  readonly reason: string;
  /** Who queued it (webhook, …). */
  readonly source: string;
  readonly queuedAt: string;
}

/** A pending record as read, with the ETag that `remove` checks. */
export interface StoredPendingRecord extends PendingRecord {
  readonly etag: string;
}

/** A full re-sync asked for over HTTP or the CLI, carried out by the next sync passes. */
export interface ResyncRequest {
  readonly runId: string;
  /** Also the `startedAt` of the request's run-history row. */
  readonly requestedAt: string;
  /** The cursor is rewound to this (ISO date-time); undefined resets it (read everything). */
  readonly since?: string;
  /** When the cursor was rewound; undefined while the request waits for the run lease. */
  readonly appliedAt?: string;
  /** The cursor before the rewind. */
  readonly cursorBefore?: string;
  /** Sync passes that ran since the rewind. */
  readonly passes: number;
  readonly lastRunId?: string;
  readonly lastStatus?: string;
  /** The passes' counts, added up. */
  readonly counts: RunCounts;
}

export interface PendingStore {
  /** Queues a record; when one is queued already for the enrollment, the newer `updatedAt` wins. */
  queue(entry: PendingRecord, options?: StateOperationOptions): Promise<void>;
  /** The oldest-keyed queued records, at most `limit`. */
  listRecords(limit: number, options?: StateOperationOptions): Promise<StoredPendingRecord[]>;
  /** Removes the record if it did not change since it was read; false when it did (it stays queued). */
  remove(entry: StoredPendingRecord, options?: StateOperationOptions): Promise<boolean>;
  countRecords(options?: StateOperationOptions): Promise<number>;
  putResync(request: ResyncRequest, options?: StateOperationOptions): Promise<void>;
  getResync(runId: string, options?: StateOperationOptions): Promise<ResyncRequest | undefined>;
  listResyncs(options?: StateOperationOptions): Promise<ResyncRequest[]>;
  deleteResync(runId: string, options?: StateOperationOptions): Promise<void>;
}

/** Queued work on Table Storage: records (partition `rec`) and full re-sync requests (`resync`). */
export class TablePendingStore implements PendingStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async queue(entry: PendingRecord, options: StateOperationOptions = {}): Promise<void> {
    const rowKey = encodeKey(entry.enrollmentId);
    const record = entry.record !== undefined && entry.record.length <= MAX_RECORD_LENGTH ? entry.record : undefined;
    const entity = toWritableEntity({
      partitionKey: RECORDS,
      rowKey,
      enrollmentId: entry.enrollmentId,
      record,
      updatedAt: record === undefined ? undefined : entry.updatedAt,
      reason: entry.reason,
      source: entry.source,
      queuedAt: entry.queuedAt,
    });
    // Compare-and-set on the ETag: two webhooks for one enrollment keep the newer record.
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const existing = await getEntityOrUndefined(this.#client, RECORDS, rowKey, options);
      try {
        if (existing === undefined) {
          await this.#client.createEntity(entity, { abortSignal: options.abortSignal });
          return;
        }
        const existingAt = readOptionalString(existing, 'updatedAt');
        const keepExisting = existingAt !== undefined && (entity['updatedAt'] === undefined || existingAt > String(entity['updatedAt']));
        const merged = keepExisting
          ? toWritableEntity({ ...entity, record: readOptionalString(existing, 'record'), updatedAt: existingAt })
          : entity;
        await this.#client.updateEntity(merged, 'Replace', { etag: existing.etag, abortSignal: options.abortSignal });
        return;
      } catch (err) {
        if (!hasStatus(err, 409, 412)) throw err;
      }
    }
    throw new Error(`Could not queue enrollment ${JSON.stringify(entry.enrollmentId)}: it kept changing under concurrent updates`);
  }

  async listRecords(limit: number, options: StateOperationOptions = {}): Promise<StoredPendingRecord[]> {
    const found: StoredPendingRecord[] = [];
    if (limit < 1) return found;
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${RECORDS}`, options)) {
      found.push(recordFromEntity(entity));
      if (found.length >= limit) break;
    }
    return found;
  }

  async remove(entry: StoredPendingRecord, options: StateOperationOptions = {}): Promise<boolean> {
    try {
      await this.#client.deleteEntity(RECORDS, encodeKey(entry.enrollmentId), { etag: entry.etag, abortSignal: options.abortSignal });
      return true;
    } catch (err) {
      if (hasStatus(err, 404)) return true;
      if (hasStatus(err, 412)) return false;
      throw err;
    }
  }

  async countRecords(options: StateOperationOptions = {}): Promise<number> {
    let count = 0;
    for await (const _ of listAll(this.#client, odata`PartitionKey eq ${RECORDS}`, { ...options, select: ['rowKey'] })) count++;
    return count;
  }

  async putResync(request: ResyncRequest, options: StateOperationOptions = {}): Promise<void> {
    const entity = toWritableEntity({
      partitionKey: RESYNCS,
      rowKey: encodeKey(request.runId),
      runId: request.runId,
      requestedAt: request.requestedAt,
      since: request.since,
      appliedAt: request.appliedAt,
      cursorBefore: request.cursorBefore,
      passes: request.passes,
      lastRunId: request.lastRunId,
      lastStatus: request.lastStatus,
      ...Object.fromEntries(COUNT_NAMES.map((name) => [countProperty(name), request.counts[name]])),
    });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }

  async getResync(runId: string, options: StateOperationOptions = {}): Promise<ResyncRequest | undefined> {
    const entity = await getEntityOrUndefined(this.#client, RESYNCS, encodeKey(runId), options);
    return entity === undefined ? undefined : resyncFromEntity(entity);
  }

  async listResyncs(options: StateOperationOptions = {}): Promise<ResyncRequest[]> {
    const found: ResyncRequest[] = [];
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${RESYNCS}`, options)) found.push(resyncFromEntity(entity));
    return found.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  async deleteResync(runId: string, options: StateOperationOptions = {}): Promise<void> {
    try {
      await this.#client.deleteEntity(RESYNCS, encodeKey(runId), { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
  }
}

function recordFromEntity(entity: StoredEntity): StoredPendingRecord {
  const record = readOptionalString(entity, 'record');
  const updatedAt = readOptionalString(entity, 'updatedAt');
  return {
    enrollmentId: readString(entity, 'enrollmentId'),
    ...(record !== undefined ? { record } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
    reason: readString(entity, 'reason'),
    source: readString(entity, 'source'),
    queuedAt: readString(entity, 'queuedAt'),
    etag: entity.etag,
  };
}

function resyncFromEntity(entity: StoredEntity): ResyncRequest {
  const request: { -readonly [K in keyof ResyncRequest]: ResyncRequest[K] } = {
    runId: readString(entity, 'runId'),
    requestedAt: readString(entity, 'requestedAt'),
    passes: readNumber(entity, 'passes'),
    counts: {
      read: readNumber(entity, countProperty('read')),
      created: readNumber(entity, countProperty('created')),
      updated: readNumber(entity, countProperty('updated')),
      deleted: readNumber(entity, countProperty('deleted')),
      unchanged: readNumber(entity, countProperty('unchanged')),
      failed: readNumber(entity, countProperty('failed')),
    },
  };
  for (const name of ['since', 'appliedAt', 'cursorBefore', 'lastRunId', 'lastStatus'] as const) {
    const value = readOptionalString(entity, name);
    if (value !== undefined) request[name] = value;
  }
  return request;
}
