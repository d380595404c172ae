import type { VivaGateway } from '../../graph/gateway.js';
import { NO_BATCH_COUNTS, type BatchCounts, type TableOutstandingStore } from '../../state/outstandingStore.js';
import type { LedgerEntry, SyncState } from '../../state/types.js';
import { recordFailure } from '../deadLetters.js';
import type { Logger } from '../logger.js';
import { ContentResolver, LearnerResolver } from '../resolvers.js';
import type { WorkItem } from '../types.js';
import { executeWorkItem, ledgerEntryOf } from '../writer.js';
import { InvalidWorkMessageError, parseWorkBatch, type ItemSource, type WorkBatchMessage } from './messages.js';

export interface WorkerDeps {
  readonly gateway: VivaGateway;
  readonly state: SyncState;
  readonly outstanding: TableOutstandingStore;
  readonly providerId: string;
  readonly logger: Logger;
  readonly abortSignal?: AbortSignal;
}

export interface WorkBatchResult {
  /** `duplicate`: the batch was already done (a second delivery), nothing was sent. */
  readonly status: 'done' | 'duplicate';
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
}

/** The batch is not finished (Graph throttled past the deadline, an abort, a tenant-wide refusal): let the queue deliver it again. */
export class WorkBatchIncompleteError extends Error {
  override readonly name = 'WorkBatchIncompleteError';
}

/**
 * The writer side of queue mode: performs one work batch with the same gateway and ledger rules
 * as an inline run. Idempotent: a batch already done changes nothing, and within a batch an item
 * the ledger shows as handled is skipped, while a create whose intent row is there (an earlier
 * delivery stopped mid-write) looks the activity up before creating it.
 */
export async function processWorkBatch(input: unknown, deps: WorkerDeps): Promise<WorkBatchResult> {
  const message = await resolveMessage(parseWorkBatch(input), deps);
  const opts = deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal };
  const items = message.items ?? [];
  const none = { written: 0, skipped: items.length, failed: 0 };
  const batch = await deps.outstanding.getBatch(message.pageId, message.batchId, opts);
  if (batch?.state === 'done') return { status: 'duplicate', ...none };
  // No batch row and no page: the page was finished or abandoned, and its records are planned again.
  if (batch === undefined && (await deps.outstanding.getPage(message.pageId, opts)) === undefined) return { status: 'duplicate', ...none };

  const ledger = await deps.state.ledger.getMany(items.map((i) => i.externalId), opts);
  // What this batch did, over all its deliveries, judged from the ledger now: a redelivery's counts
  // replace the earlier delivery's, so a failure retried is counted once and a write done earlier still counts.
  const counts: { -readonly [K in keyof BatchCounts]: number } = { ...NO_BATCH_COUNTS };
  const todo: WorkItem[] = [];
  for (const item of items) {
    const entry = ledger.get(item.externalId);
    if (entry?.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt === item.sourceUpdatedAt && isDone(entry, item)) {
      counts[DONE_AS[item.kind]] += 1; // written by an earlier delivery
      continue;
    }
    // Overtaken by a newer record: the batch that carries it counts it.
    if (entry?.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt > item.sourceUpdatedAt) continue;
    todo.push(item.kind === 'create' && entry?.state === 'pending' && !item.lookupFirst ? { ...item, lookupFirst: true } : item);
  }
  // Write-ahead, as inline: a create that reaches Graph before this worker dies is found again by lookup.
  const intents = todo.filter((i) => i.kind === 'create' && ledger.get(i.externalId)?.state !== 'pending');
  if (intents.length > 0) {
    const now = new Date().toISOString();
    await deps.state.ledger.putMany(intents.map((i) => ({ externalId: i.externalId, enrollmentId: i.enrollmentId, state: 'pending' as const, updatedAt: now })), opts);
  }

  const contents = new ContentResolver(deps.gateway, deps.state.contents);
  const learners = new LearnerResolver(deps.gateway, deps.state.learners);
  await contents.prefetch(todo.flatMap((i) => (i.kind === 'delete' ? [] : [i.draft.course.id])), opts);
  let stop: string | undefined;
  const outcomes = await Promise.all(
    todo.map((item) =>
      executeWorkItem(item, {
        gateway: deps.gateway,
        contents,
        learners,
        providerId: deps.providerId,
        ...opts,
        shouldStop: () => stop ?? (deps.abortSignal?.aborted === true ? 'the worker was stopped' : undefined),
      }).then((outcome) => {
        if (outcome.kind === 'fatal') stop ??= outcome.reason;
        return outcome;
      }),
    ),
  );

  const now = new Date().toISOString();
  const entries: LedgerEntry[] = [];
  for (const outcome of outcomes) {
    const entry = ledgerEntryOf(outcome, now);
    if (entry === undefined) continue;
    entries.push(entry);
    if (outcome.kind === 'created' || outcome.kind === 'updated' || outcome.kind === 'deleted') counts[outcome.kind] += 1;
  }
  if (entries.length > 0) await deps.state.ledger.putMany(entries, opts);
  // Only the dead letters that exist: one keyed query per 14 items instead of a delete per item.
  const parked = await deps.state.deadLetters.existing(entries.map((e) => e.externalId), opts);
  await Promise.all([...parked].map((key) => deps.state.deadLetters.delete(key, opts)));
  let failed = 0;
  for (const outcome of outcomes) {
    if (outcome.kind !== 'failed') continue;
    failed += 1;
    counts.failed += 1;
    await deadLetter(deps, outcome.item, message.sources?.[outcome.item.enrollmentId], outcome.reason, {
      ...(outcome.code !== undefined ? { code: outcome.code } : {}),
      ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}),
    });
    deps.logger.warn('Record dead-lettered', { runId: message.runId, key: outcome.item.externalId, reason: outcome.reason });
  }
  const unfinished = outcomes.find((o) => o.kind === 'deferred' || o.kind === 'fatal');
  if (unfinished !== undefined && (unfinished.kind === 'deferred' || unfinished.kind === 'fatal')) {
    await deps.outstanding.batchFailed(message.pageId, message.batchId, items.length, unfinished.reason, counts).catch(() => undefined);
    throw new WorkBatchIncompleteError(`work batch ${message.pageId}/${message.batchId} is not finished: ${unfinished.reason}`);
  }
  await deps.outstanding.batchDone(message.pageId, message.batchId, items.length, counts, opts);
  return { status: 'done', written: entries.length, skipped: items.length - todo.length, failed };
}

/** The count a planned item adds once written. */
export const DONE_AS = { create: 'created', update: 'updated', delete: 'deleted' } as const satisfies Record<WorkItem['kind'], keyof BatchCounts>;

export function isDone(entry: LedgerEntry, item: WorkItem): boolean {
  return item.kind === 'delete' ? entry.state === 'deleted' : entry.state === 'synced' && entry.fingerprint === item.fingerprint;
}

export async function deadLetter(deps: Pick<WorkerDeps, 'state' | 'abortSignal'>, item: WorkItem, source: ItemSource | undefined, reason: string, extra: { code?: string; statusCode?: number } = {}): Promise<void> {
  await recordFailure(
    deps.state.deadLetters,
    {
      key: item.externalId,
      kind: 'write',
      reason,
      record: source?.record ?? JSON.stringify({ enrollmentId: item.enrollmentId }),
      enrollmentId: item.enrollmentId,
      ...(source?.position !== undefined ? { position: source.position } : {}),
      ...extra,
    },
    new Date(),
    deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal },
  );
}

/** A message by reference gets its items from the payload row. */
export async function resolveMessage(message: WorkBatchMessage, deps: Pick<WorkerDeps, 'outstanding' | 'abortSignal'>): Promise<WorkBatchMessage> {
  if (message.ref === undefined) return message;
  const json = await deps.outstanding.getPayload(message.ref, deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal });
  if (json === undefined) return { ...message, items: [], sources: {} };
  const payload = parseWorkBatch(JSON.stringify({ version: 1, kind: 'workBatch', runId: message.runId, pageId: message.pageId, batchId: message.batchId, ...(JSON.parse(json) as object) }));
  if (payload.items === undefined) throw new InvalidWorkMessageError(`the payload ${message.ref} holds no items`);
  return payload;
}
