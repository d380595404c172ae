/**
 * The dead letters for the status report, in one pass however many there are: read without
 * their records (a projection: the record is the bulk of an entity), folded into groups by
 * reason as they stream by, and stopped at a count and a time cap. Only the few samples shown
 * are then read in full, for their learner and course.
 */
import type { DeadLetterStore, StateOperationOptions } from '../state/types.js';
import { DeadLetterGrouper, idsOfRecord } from './deadLetterGroups.js';
import type { DeadLetterGroup } from './statusData.js';

export const RETRY_COMMAND = 'viva-sync deadletters retry --all';
export const LIST_COMMAND = 'viva-sync deadletters list';

const DEFAULT_MAX_DEAD_LETTERS = 200_000;
const DEFAULT_SCAN_MS = 20_000;
const DEFAULT_SAMPLED_GROUPS = 10;
const RECENT = 20;

export interface DeadLetterOverviewOptions extends StateOperationOptions {
  /** Letters read at most (default 200,000); past it `complete` is false and `count` is a lower bound. */
  readonly maxDeadLetters?: number;
  /** Time the scan may take (default 20 s, well inside an HTTP answer's 230 s). */
  readonly scanMs?: number;
  /** Groups whose samples are read in full (default 10). */
  readonly sampledGroups?: number;
}

export interface DeadLetterOverview {
  /** Letters counted: all of them when `complete`, else how many were read before the cap. */
  readonly count: number;
  readonly complete: boolean;
  /** The groups' reasons and counts, most frequent first. */
  readonly byReason: readonly { readonly reason: string; readonly count: number }[];
  /** The first letters read (table order), for a quick look. */
  readonly recent: readonly { readonly key: string; readonly reason: string; readonly attempts: number; readonly retryable: boolean; readonly lastFailedAt: string; readonly position?: string }[];
  readonly oldestFailedAt: string | null;
  /** The largest groups first, at most a few dozen; `otherGroups` counts the letters of reasons past them. */
  readonly groups: readonly DeadLetterGroup[];
  readonly otherGroups: { readonly groups: number; readonly count: number };
  readonly retryCommand: string;
  readonly listCommand: string;
}

export async function readDeadLetterOverview(store: Pick<DeadLetterStore, 'listBrief' | 'get'>, options: DeadLetterOverviewOptions = {}): Promise<DeadLetterOverview> {
  const max = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
  const deadline = Date.now() + (options.scanMs ?? DEFAULT_SCAN_MS);
  // Our own controller: stopping at the cap must also cancel the page being fetched.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.abortSignal?.reason);
  options.abortSignal?.addEventListener('abort', onAbort, { once: true });
  const grouper = new DeadLetterGrouper();
  const recent: DeadLetterOverview['recent'][number][] = [];
  let complete = true;
  try {
    for await (const letter of store.listBrief({ abortSignal: controller.signal })) {
      grouper.add(letter);
      if (recent.length < RECENT) {
        recent.push({ key: letter.key, reason: letter.reason, attempts: letter.attempts, retryable: letter.retryable, lastFailedAt: letter.lastFailedAt, ...(letter.position !== undefined ? { position: letter.position } : {}) });
      }
      if (grouper.scanned >= max || Date.now() > deadline) {
        complete = false;
        break;
      }
    }
  } finally {
    options.abortSignal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
  options.abortSignal?.throwIfAborted();
  const grouping = grouper.result();
  const sampled = options.sampledGroups ?? DEFAULT_SAMPLED_GROUPS;
  const op = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const groups = await Promise.all(grouping.groups.map((group, i) => (i < sampled ? withRecordIds(store, group, op) : group)));
  return {
    count: grouping.scanned,
    complete,
    byReason: groups.map((g) => ({ reason: g.reason, count: g.count })),
    recent,
    oldestFailedAt: grouping.oldestFailedAt,
    groups,
    otherGroups: grouping.otherGroups,
    retryCommand: RETRY_COMMAND,
    listCommand: LIST_COMMAND,
  };
}

/** Fills in the learner and course of a group's samples from their stored records. */
async function withRecordIds(store: Pick<DeadLetterStore, 'get'>, group: DeadLetterGroup, op: StateOperationOptions): Promise<DeadLetterGroup> {
  const samples = await Promise.all(
    group.samples.map(async (sample) => {
      const letter = await store.get(sample.key, op);
      return letter === undefined ? sample : { ...sample, ...idsOfRecord(letter.record) };
    }),
  );
  return { ...group, samples };
}
