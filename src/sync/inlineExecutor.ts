import type { VivaGateway } from '../graph/gateway.js';
import { NO_BATCH_COUNTS } from '../state/outstandingStore.js';
import type { LedgerStore } from '../state/types.js';
import type { ExecutorOptions, PageExecutor, PageWork, Settlement } from './pageExecutor.js';
import type { ContentResolver, LearnerResolver } from './resolvers.js';
import { executeWorkItem, type WriteOutcome } from './writer.js';

export interface InlineExecutorDeps {
  readonly gateway: VivaGateway;
  readonly ledger: LedgerStore;
  readonly contents: ContentResolver;
  readonly learners: LearnerResolver;
  readonly providerId: string;
  readonly abortSignal: AbortSignal;
  /** Why the run must not start new writes (budget, abort, a fatal error); undefined to go on. */
  readonly shouldStop: () => string | undefined;
  /** A write met a refusal that stops the whole tenant (licence, consent). */
  readonly onFatal: (reason: string) => void;
}

/** Writes a page's items from this process, then lets the engine checkpoint the outcomes. */
export class InlineExecutor implements PageExecutor {
  readonly wait = { maxWaitMs: 0, pollMs: 0 };
  readonly pagesInHand = 2;
  private pageCursor: string | undefined;

  constructor(private readonly deps: InlineExecutorDeps) {}

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async carryOut(work: PageWork, options: ExecutorOptions): Promise<readonly WriteOutcome[]> {
    const { deps } = this;
    // Write-ahead: a create that reaches Graph before a crash is found again by lookup.
    const intents = work.items.filter((i) => i.kind === 'create' && work.ledger.get(i.externalId)?.state !== 'pending');
    if (intents.length > 0) {
      const now = new Date().toISOString();
      await deps.ledger.putMany(
        intents.map((i) => ({ externalId: i.externalId, enrollmentId: i.enrollmentId, state: 'pending' as const, updatedAt: now })),
        options,
      );
    }
    await deps.contents.prefetch(
      work.items.flatMap((i) => (i.kind === 'delete' ? [] : [i.draft.course.id])),
      options,
    );
    return Promise.all(
      work.items.map((item) =>
        executeWorkItem(item, {
          gateway: deps.gateway,
          contents: deps.contents,
          learners: deps.learners,
          providerId: deps.providerId,
          abortSignal: deps.abortSignal,
          shouldStop: deps.shouldStop,
        }).then((outcome) => {
          if (outcome.kind === 'fatal') deps.onFatal(outcome.reason);
          return outcome;
        }),
      ),
    );
  }

  endPage(cursor: string | undefined): Promise<void> {
    // The page's writes were checkpointed before this call: its cursor is safe at once.
    if (cursor !== undefined) this.pageCursor = cursor;
    return Promise.resolve();
  }

  settle(): Promise<Settlement> {
    const cursor = this.pageCursor;
    this.pageCursor = undefined;
    return Promise.resolve({ cursor, outstanding: 0, written: NO_BATCH_COUNTS });
  }
}
