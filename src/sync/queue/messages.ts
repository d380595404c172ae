import type { WorkItem } from '../types.js';

/** The source record of an item, as its dead letter keeps it (so a later run can retry it). */
export interface ItemSource {
  readonly record: string;
  readonly position?: string;
}

/**
 * One queue message of queue mode: a batch of planned writes for one partition of learners of
 * one page, as plain versioned JSON (STYLE.md §11). A batch too large for a message travels by
 * reference (`ref`: a payload row of the outstanding table holding `items` and `sources`).
 */
export interface WorkBatchMessage {
  readonly version: 1;
  readonly kind: 'workBatch';
  readonly runId: string;
  readonly pageId: string;
  readonly batchId: string;
  readonly items?: readonly WorkItem[];
  /** Source records by enrollment id. */
  readonly sources?: Readonly<Record<string, ItemSource>>;
  readonly ref?: string;
}

export class InvalidWorkMessageError extends Error {
  override readonly name = 'InvalidWorkMessageError';
}

/** A queue message holds 64 KiB of base64 text, so at most 48 KiB of JSON; keep a margin. */
export const MAX_MESSAGE_JSON_BYTES = 45_000;

/** Parses and checks a message (a string, or the object the Functions host already parsed). */
export function parseWorkBatch(input: unknown): WorkBatchMessage {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new InvalidWorkMessageError('the queue message is not JSON');
    }
  }
  if (!isObject(value)) throw new InvalidWorkMessageError('the queue message is not a JSON object');
  if (value['version'] !== 1) throw new InvalidWorkMessageError(`unsupported work message version ${JSON.stringify(value['version'])}`);
  if (value['kind'] !== 'workBatch') throw new InvalidWorkMessageError(`unknown work message kind ${JSON.stringify(value['kind'])}`);
  for (const name of ['runId', 'pageId', 'batchId'] as const) {
    if (typeof value[name] !== 'string' || value[name] === '') throw new InvalidWorkMessageError(`the work message has no ${name}`);
  }
  const items = value['items'];
  const ref = value['ref'];
  if ((items === undefined) === (ref === undefined)) throw new InvalidWorkMessageError('a work message carries either items or a ref');
  if (ref !== undefined && typeof ref !== 'string') throw new InvalidWorkMessageError('ref must be a string');
  if (items !== undefined) {
    if (!Array.isArray(items)) throw new InvalidWorkMessageError('items must be an array');
    items.forEach((item: unknown, i) => checkItem(item, i));
  }
  const sources = value['sources'];
  if (sources !== undefined && !isObject(sources)) throw new InvalidWorkMessageError('sources must be an object');
  return value as unknown as WorkBatchMessage;
}

/** Checks what the writer relies on; the draft was built by this program's planner. */
function checkItem(item: unknown, index: number): void {
  const bad = (why: string): never => {
    throw new InvalidWorkMessageError(`items[${index}]: ${why}`);
  };
  if (!isObject(item)) bad('not an object');
  const o = item as Record<string, unknown>;
  if (o['version'] !== 1) bad(`unsupported work item version ${JSON.stringify(o['version'])}`);
  if (o['kind'] !== 'create' && o['kind'] !== 'update' && o['kind'] !== 'delete') bad(`unknown kind ${JSON.stringify(o['kind'])}`);
  for (const name of ['externalId', 'enrollmentId', 'sourceUpdatedAt']) if (typeof o[name] !== 'string') bad(`no ${name}`);
  if (o['kind'] !== 'delete' && (!isObject(o['draft']) || typeof o['fingerprint'] !== 'string')) bad('no draft or fingerprint');
  if (o['kind'] === 'update' && typeof o['vivaId'] !== 'string') bad('no vivaId');
  if (o['kind'] !== 'update' && typeof o['lookupFirst'] !== 'boolean') bad('no lookupFirst');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
