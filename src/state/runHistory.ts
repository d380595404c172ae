import { odata } from '@azure/data-tables';
import type { TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { listAll, readEnum, readNumber, readOptionalNumber, readOptionalString, readString, toWritableEntity, truncateText } from './tableClients.js';
import type { StoredEntity } from './tableClients.js';
import type { RunCounts, RunHistory, RunRecord, RunStatus, StateOperationOptions } from './types.js';

const PARTITION_KEY = 'runs';
const STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'partial', 'failed', 'abandoned'];
const MAX_MESSAGE_LENGTH = 8_000;

/** 13 digits of milliseconds reach the year 2286. */
const LATEST_MS = 9_999_999_999_999;
const COUNT_NAMES = {
  read: 'countRead',
  created: 'countCreated',
  updated: 'countUpdated',
  deleted: 'countDeleted',
  unchanged: 'countUnchanged',
  failed: 'countFailed',
} as const satisfies Record<keyof RunCounts, string>;

/**
 * RowKeys sort ascending, so the key starts with the start time counted down from the far
 * future: the newest run comes first and `listRecent` reads one short page instead of a scan.
 */
export function runRowKey(startedAt: string, runId: string): string {
  const ms = Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0 || ms > LATEST_MS) {
    throw new RangeError(`A run's startedAt must be an ISO date-time between 1970 and 2286, got ${JSON.stringify(startedAt)}`);
  }
  return `${String(LATEST_MS - ms).padStart(13, '0')}_${encodeKey(runId)}`;
}

/** One entity per run, newest first. */
export class TableRunHistory implements RunHistory {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async put(run: RunRecord, options: StateOperationOptions = {}): Promise<void> {
    await this.#client.upsertEntity(toEntity(run), 'Replace', { abortSignal: options.abortSignal });
  }

  async get(runId: string, options: StateOperationOptions = {}): Promise<RunRecord | undefined> {
    // The key starts with the time, which the caller does not know: filter on the stored id
    // within the one partition (a bounded scan of the history, fine for an operator command).
    const filter = odata`PartitionKey eq ${PARTITION_KEY} and runId eq ${runId}`;
    for await (const entity of listAll(this.#client, filter, options)) return fromEntity(entity);
    return undefined;
  }

  async listRecent(limit: number, options: StateOperationOptions = {}): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    if (limit < 1) return runs;
    const pages = this.#client
      .listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${PARTITION_KEY}` },
        abortSignal: options.abortSignal,
      })
      .byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const entity of page) {
        runs.push(fromEntity(entity));
        if (runs.length >= limit) return runs;
      }
    }
    return runs;
  }
}

function toEntity(run: RunRecord): ReturnType<typeof toWritableEntity> {
  const counts: Record<string, number> = {};
  for (const [field, name] of Object.entries(COUNT_NAMES)) {
    const value = run.counts[field as keyof RunCounts];
    // Int32 only: an Int64 would come back as a BigInt, which JSON.stringify refuses.
    if (!Number.isInteger(value) || value < 0 || value > 0x7fff_ffff) {
      throw new RangeError(`Run count ${field} must be an integer from 0 to 2147483647, got ${value}`);
    }
    counts[name] = value;
  }
  return toWritableEntity({
    partitionKey: PARTITION_KEY,
    rowKey: runRowKey(run.startedAt, run.runId),
    runId: run.runId,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ...counts,
    cursorBefore: run.cursorBefore,
    cursorAfter: run.cursorAfter,
    message: run.message === undefined ? undefined : truncateText(run.message, MAX_MESSAGE_LENGTH),
    ...(run.graph === undefined ? {} : { graphRequests: int32(run.graph.requests), graphRetries: int32(run.graph.retries), graphThrottled: int32(run.graph.throttled) }),
  });
}

/** Graph counters are kept as Int32 too; a run past 2^31 requests is not expected, but must not fail the write. */
function int32(value: number): number {
  return Math.min(Math.max(0, Math.trunc(value)), 0x7fff_ffff);
}

function fromEntity(entity: StoredEntity): RunRecord {
  const counts: RunCounts = {
    read: readNumber(entity, COUNT_NAMES.read),
    created: readNumber(entity, COUNT_NAMES.created),
    updated: readNumber(entity, COUNT_NAMES.updated),
    deleted: readNumber(entity, COUNT_NAMES.deleted),
    unchanged: readNumber(entity, COUNT_NAMES.unchanged),
    failed: readNumber(entity, COUNT_NAMES.failed),
  };
  const run: { -readonly [K in keyof RunRecord]: RunRecord[K] } = {
    runId: readString(entity, 'runId'),
    trigger: readString(entity, 'trigger'),
    status: readEnum(entity, 'status', STATUSES),
    startedAt: readString(entity, 'startedAt'),
    counts,
  };
  for (const name of ['finishedAt', 'cursorBefore', 'cursorAfter', 'message'] as const) {
    const value = readOptionalString(entity, name);
    if (value !== undefined) run[name] = value;
  }
  const requests = readOptionalNumber(entity, 'graphRequests');
  if (requests !== undefined) {
    run.graph = { requests, retries: readOptionalNumber(entity, 'graphRetries') ?? 0, throttled: readOptionalNumber(entity, 'graphThrottled') ?? 0 };
  }
  return run;
}
