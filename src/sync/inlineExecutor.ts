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
    // Write-ahead: a create that reaches Graph before a crash is found again by lookup. The
    // activity writes wait for these rows (WriterDeps.writeAhead); the content and learner reads
    // that build their bodies go on meanwhile, so a webhook's first Graph request does not wait for them.
    const intents = work.items.filter((i) => i.kind === 'create' && work.ledger.get(i.externalId)?.state !== 'pending');
    const now = new Date().toISOString();
    const writeAhead =
      intents.length === 0 ? undefined : deps.ledger.putMany(intents.map((i) => ({ externalId: i.externalId, enrollmentId: i.enrollmentId, state: 'pending' as const, updatedAt: now })), options);
    // Reported below, once every item has settled.
    writeAhead?.catch(() => undefined);
    const written = deps.contents.prefetch(work.items.flatMap((i) => (i.kind === 'delete' ? [] : [i.draft.course.id])), options).then(() =>
      Promise.all(
        work.items.map((item) =>
          executeWorkItem(item, {
            gateway: deps.gateway,
            contents: deps.contents,
            learners: deps.learners,
            providerId: deps.providerId,
            abortSignal: deps.abortSignal,
            shouldStop: deps.shouldStop,
            ...(writeAhead !== undefined ? { writeAhead } : {}),
          }).then((outcome) => {
            if (outcome.kind === 'fatal') deps.onFatal(outcome.reason);
            return outcome;
          }),
        ),
      ),
    );
    // Nothing of this page is still running when it is reported: a failed write-ahead fails the page as before.
    const [ahead, outcomes] = await Promise.allSettled([writeAhead, written]);
    if (ahead.status === 'rejected') throw ahead.reason;
    if (outcomes.status === 'rejected') throw outcomes.reason;
    return outcomes.value;
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
