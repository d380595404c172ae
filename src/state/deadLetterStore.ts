import { odata } from '@azure/data-tables';
import type { TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import {
  getEntityOrUndefined,
  getManyByKeys,
  groupKeys,
  hasStatus,
  listAll,
  readBoolean,
  readEnum,
  readNumber,
  readOptionalNumber,
  readOptionalString,
  readString,
  toWritableEntity,
  truncateText,
} from './tableClients.js';
import type { StoredEntity } from './tableClients.js';
import type { DeadLetter, DeadLetterBrief, DeadLetterKind, DeadLetterStore, StateOperationOptions } from './types.js';

const PARTITION_KEY = 'dl';
const KINDS: readonly DeadLetterKind[] = ['invalid', 'write'];

/**
 * A string property may hold 64 KiB (32 K UTF-16 units). 30,000 leaves room for the marker, and
 * with the other fields keeps the entity far below 1 MiB.
 */
export const MAX_RECORD_LENGTH = 30_000;
/** Reasons are messages, not payloads: a shorter cap keeps listings readable. */
const MAX_REASON_LENGTH = 8_000;

/** Records that could not be sent, one entity per key, for retry and for operators. */
export class TableDeadLetterStore implements DeadLetterStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(key: string, options: StateOperationOptions = {}): Promise<DeadLetter | undefined> {
    const entity = await getEntityOrUndefined(this.#client, PARTITION_KEY, encodeKey(key), options);
    return entity === undefined ? undefined : fromEntity(entity);
  }

  async put(letter: DeadLetter, options: StateOperationOptions = {}): Promise<void> {
    const record = truncateText(letter.record, MAX_RECORD_LENGTH);
    const entity = toWritableEntity({
      partitionKey: PARTITION_KEY,
      rowKey: encodeKey(letter.key),
      key: letter.key,
      kind: letter.kind,
      reason: truncateText(letter.reason, MAX_REASON_LENGTH),
      code: letter.code,
      statusCode: letter.statusCode,
      enrollmentId: letter.enrollmentId,
      position: letter.position,
      record,
      // Flags a cut record for operators and queries; the fingerprint stays that of the full record.
      recordTruncated: record.length !== letter.record.length,
      recordFingerprint: letter.recordFingerprint,
      attempts: letter.attempts,
      firstFailedAt: letter.firstFailedAt,
      lastFailedAt: letter.lastFailedAt,
      retryable: letter.retryable,
    });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }

  async delete(key: string, options: StateOperationOptions = {}): Promise<void> {
    try {
      await this.#client.deleteEntity(PARTITION_KEY, encodeKey(key), { abortSignal: options.abortSignal });
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
    }
  }

  async existing(keys: readonly string[], options: StateOperationOptions = {}): Promise<Set<string>> {
    const wanted = new Set(keys);
    const found = new Set<string>();
    if (wanted.size === 0) return found;
    const groups = groupKeys(wanted, (key) => ({ partitionKey: PARTITION_KEY, rowKey: encodeKey(key) }));
    for (const entity of await getManyByKeys(this.#client, groups, { ...options, select: ['key'] })) {
      // The key in the row, not the RowKey, is the truth (over-long keys are stored hashed).
      const key = readString(entity, 'key');
      if (wanted.has(key)) found.add(key);
    }
    return found;
  }

  async *list(options: StateOperationOptions & { readonly retryableOnly?: boolean } = {}): AsyncIterable<DeadLetter> {
    const filter =
      options.retryableOnly === true
        ? odata`PartitionKey eq ${PARTITION_KEY} and retryable eq true`
        : odata`PartitionKey eq ${PARTITION_KEY}`;
    for await (const entity of listAll(this.#client, filter, options)) yield fromEntity(entity);
  }

  async *listBrief(options: StateOperationOptions = {}): AsyncIterable<DeadLetterBrief> {
    for await (const entity of listAll(this.#client, odata`PartitionKey eq ${PARTITION_KEY}`, { ...options, select: [...BRIEF_FIELDS] })) yield briefOf(entity);
  }

  async count(options: StateOperationOptions = {}): Promise<number> {
    let count = 0;
    const rows = listAll(this.#client, odata`PartitionKey eq ${PARTITION_KEY}`, { ...options, select: ['rowKey'] });
    for await (const _ of rows) count++;
    return count;
  }
}

/** The properties of a letter but its record (a projection: the service sends only these). */
const BRIEF_FIELDS = ['key', 'kind', 'reason', 'code', 'statusCode', 'enrollmentId', 'position', 'attempts', 'firstFailedAt', 'lastFailedAt', 'retryable'] as const;

function fromEntity(entity: StoredEntity): DeadLetter {
  return { ...briefOf(entity), record: readString(entity, 'record'), recordFingerprint: readString(entity, 'recordFingerprint') };
}

function briefOf(entity: StoredEntity): DeadLetterBrief {
  const letter: { -readonly [K in keyof DeadLetterBrief]: DeadLetterBrief[K] } = {
    key: readString(entity, 'key'),
    kind: readEnum(entity, 'kind', KINDS),
    reason: readString(entity, 'reason'),
    attempts: readNumber(entity, 'attempts'),
    firstFailedAt: readString(entity, 'firstFailedAt'),
    lastFailedAt: readString(entity, 'lastFailedAt'),
    retryable: readBoolean(entity, 'retryable'),
  };
  // Only the optional fields that were stored, so a letter read back equals the one written.
  const code = readOptionalString(entity, 'code');
  if (code !== undefined) letter.code = code;
  const statusCode = readOptionalNumber(entity, 'statusCode');
  if (statusCode !== undefined) letter.statusCode = statusCode;
  const enrollmentId = readOptionalString(entity, 'enrollmentId');
  if (enrollmentId !== undefined) letter.enrollmentId = enrollmentId;
  const position = readOptionalString(entity, 'position');
  if (position !== undefined) letter.position = position;
  return letter;
}
