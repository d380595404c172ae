import { classifyGraphFailure, isBudgetExhaustedError, isGraphRequestError } from '../graph/errors.js';
import { LEARNER_NOT_FOUND_FIX, withAdvice } from '../graph/errorAdvice.js';
import type { VivaGateway } from '../graph/gateway.js';
import { toActivityBody, type ActivityDraft } from '../mapping/toActivity.js';
import type { ContentResolver, LearnerResolver } from './resolvers.js';
import type { LedgerEntry } from '../state/types.js';
import type { WorkItem } from './types.js';

/** What became of one work item. */
export type WriteOutcome =
  | { readonly kind: 'created' | 'updated'; readonly item: WorkItem; readonly vivaId: string; readonly learnerObjectId: string }
  | { readonly kind: 'deleted'; readonly item: WorkItem }
  /** This record cannot be written now: it becomes a dead letter, and the run goes on. */
  | { readonly kind: 'failed'; readonly item: WorkItem; readonly reason: string; readonly code?: string; readonly statusCode?: number }
  /** Not attempted or not finished (time budget, abort): the page is not complete. */
  | { readonly kind: 'deferred'; readonly item: WorkItem; readonly reason: string }
  /** Nothing will succeed for this tenant until an administrator acts: the run stops. */
  | { readonly kind: 'fatal'; readonly item: WorkItem; readonly reason: string };

export interface WriterDeps {
  readonly gateway: VivaGateway;
  readonly contents: ContentResolver;
  readonly learners: LearnerResolver;
  readonly providerId: string;
  /** True once the run must not start new work (budget spent, abort, fatal error). */
  readonly shouldStop: () => string | undefined;
  readonly abortSignal?: AbortSignal;
  /**
   * Settles once the write-ahead `pending` rows are saved: the activity write (create, update,
   * delete) waits for it, while the content and learner reads that build the body go on. A
   * write-ahead that failed defers the item: nothing is sent for it.
   */
  readonly writeAhead?: Promise<void>;
}

class LearnerNotFound extends Error {
  override readonly name = 'LearnerNotFound';
}

export async function executeWorkItem(item: WorkItem, deps: WriterDeps): Promise<WriteOutcome> {
  const stop = deps.shouldStop();
  if (stop !== undefined) return { kind: 'deferred', item, reason: stop };
  const options = deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal };
  try {
    switch (item.kind) {
      case 'delete': {
        if (!(await writeAheadSaved(deps))) return { kind: 'deferred', item, reason: WRITE_AHEAD_FAILED };
        const vivaId = item.vivaId ?? (await deps.gateway.getActivityByExternalId(item.externalId, options))?.id;
        if (vivaId !== undefined) await deps.gateway.deleteActivity(vivaId, options);
        return { kind: 'deleted', item };
      }
      case 'update': {
        const { body, learnerObjectId } = await buildBody(item.draft, deps);
        if (!(await writeAheadSaved(deps))) return { kind: 'deferred', item, reason: WRITE_AHEAD_FAILED };
        try {
          await deps.gateway.updateActivity(item.vivaId, body, options);
          return { kind: 'updated', item, vivaId: item.vivaId, learnerObjectId };
        } catch (err) {
          // Deleted in Viva behind our back: create it again rather than fail forever.
          if (!(isGraphRequestError(err) && err.statusCode === 404)) throw err;
          const created = await createOrAdopt(item.externalId, body, true, deps);
          return { kind: 'updated', item, vivaId: created, learnerObjectId };
        }
      }
      case 'create': {
        const { body, learnerObjectId } = await buildBody(item.draft, deps);
        if (!(await writeAheadSaved(deps))) return { kind: 'deferred', item, reason: WRITE_AHEAD_FAILED };
        const vivaId = await createOrAdopt(item.externalId, body, item.lookupFirst, deps);
        return { kind: 'created', item, vivaId, learnerObjectId };
      }
    }
  } catch (err) {
    return outcomeOfError(item, err, deps);
  }
}

const WRITE_AHEAD_FAILED = 'the write-ahead ledger rows could not be saved';

/** False when the write-ahead failed (the caller reports why); true once it is saved, or when there is none. */
async function writeAheadSaved(deps: WriterDeps): Promise<boolean> {
  if (deps.writeAhead === undefined) return true;
  try {
    await deps.writeAhead;
    return true;
  } catch {
    return false;
  }
}

async function buildBody(draft: ActivityDraft, deps: WriterDeps): Promise<{ body: ReturnType<typeof toActivityBody>; learnerObjectId: string }> {
  const options = deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal };
  const [learningContentId, learnerUserId, assignerUserId] = await Promise.all([
    deps.contents.resolve(draft.course, options),
    deps.learners.resolve(draft.learner, options),
    draft.assigner === undefined ? Promise.resolve(undefined) : deps.learners.resolve(draft.assigner, options).catch(() => undefined),
  ]);
  if (learnerUserId === undefined) {
    throw new LearnerNotFound(`no Entra user has ${draft.learner.match} "${draft.learner.value}"`);
  }
  const body = toActivityBody(draft, { learnerUserId, learningContentId, ...(assignerUserId !== undefined ? { assignerUserId } : {}) }, deps.providerId);
  return { body, learnerObjectId: learnerUserId };
}

/** Creates the activity, or adopts the one an earlier, interrupted run created. */
async function createOrAdopt(externalId: string, body: ReturnType<typeof toActivityBody>, lookupFirst: boolean, deps: WriterDeps): Promise<string> {
  const options = deps.abortSignal === undefined ? {} : { abortSignal: deps.abortSignal };
  if (lookupFirst) {
    const existing = await deps.gateway.getActivityByExternalId(externalId, options);
    if (existing !== undefined) {
      await deps.gateway.updateActivity(existing.id, body, options);
      return existing.id;
    }
  }
  return (await deps.gateway.createActivity(body, options)).id;
}

function outcomeOfError(item: WorkItem, err: unknown, deps: WriterDeps): WriteOutcome {
  if (err instanceof LearnerNotFound) return { kind: 'failed', item, reason: `${err.message}. Fix: ${LEARNER_NOT_FOUND_FIX}.`, code: 'learnerNotFound' };
  if (isBudgetExhaustedError(err)) return { kind: 'deferred', item, reason: err.message };
  if (deps.abortSignal?.aborted === true || (err instanceof Error && err.name === 'AbortError')) {
    return { kind: 'deferred', item, reason: 'the run was cancelled' };
  }
  const failure = classifyGraphFailure(err);
  // The same fix `viva-sync doctor` prints for this refusal (src/graph/errorAdvice.ts).
  const reason = isGraphRequestError(err) ? withAdvice(failure.reason, err) : failure.reason;
  if (failure.scope === 'tenant') return { kind: 'fatal', item, reason };
  if (isGraphRequestError(err)) {
    return { kind: 'failed', item, reason, code: err.code, statusCode: err.statusCode };
  }
  return { kind: 'failed', item, reason: failure.reason };
}

/** What the ledger records of a finished write (the same rows an inline run writes). */
export function ledgerEntryOf(outcome: WriteOutcome, now: string): LedgerEntry | undefined {
  const item = outcome.item;
  if ((outcome.kind === 'created' || outcome.kind === 'updated') && item.kind !== 'delete') {
    return {
      externalId: item.externalId,
      enrollmentId: item.enrollmentId,
      state: 'synced',
      vivaId: outcome.vivaId,
      fingerprint: item.fingerprint,
      contentExternalId: item.draft.course.id,
      learnerObjectId: outcome.learnerObjectId,
      sourceUpdatedAt: item.sourceUpdatedAt,
      updatedAt: now,
    };
  }
  if (outcome.kind === 'deleted') return { externalId: item.externalId, enrollmentId: item.enrollmentId, state: 'deleted', sourceUpdatedAt: item.sourceUpdatedAt, updatedAt: now };
  return undefined;
}
