/**
 * Dead letters folded into groups by reason, one letter at a time, so that 100,000 letters cost
 * a map of a few dozen groups rather than an array of 100,000 (pure: no I/O).
 */
import type { DeadLetter, DeadLetterBrief } from '../state/types.js';
import type { DeadLetterGroup, DeadLetterSample } from './statusData.js';

/** Groups kept while scanning; letters of further reasons count in `otherGroups`. */
export const MAX_GROUPS = 40;
export const SAMPLES_PER_GROUP = 3;
const MAX_REASON_LENGTH = 300;

/**
 * The part of a reason that letters share: quoted values, e-mail addresses, GUIDs, dates and
 * numbers become `…`, so "learner 'ada@x' not found" and "learner 'bob@y' not found" group.
 */
export function reasonTemplate(reason: string): string {
  const firstLine = reason.split('\n', 1)[0] ?? '';
  const template = firstLine
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '…')
    .replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '…')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '…')
    .replace(/\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?/g, '…')
    // Numbers are particulars (ids, lines, sizes), except the name of the date standard.
    .replace(/(?<!ISO |\d)\d+/g, '…')
    .replace(/…(?:[\s,.…]*…)+/g, '…')
    .trim();
  return template.length > MAX_REASON_LENGTH ? `${template.slice(0, MAX_REASON_LENGTH - 1)}…` : template;
}

interface GroupState {
  readonly reason: string;
  readonly kind: DeadLetter['kind'];
  readonly code: string | null;
  readonly statusCode: number | null;
  count: number;
  retryable: number;
  oldestFailedAt: string;
  readonly samples: DeadLetterSample[];
}

export interface DeadLetterGrouping {
  readonly scanned: number;
  readonly oldestFailedAt: string | null;
  readonly groups: readonly DeadLetterGroup[];
  readonly otherGroups: { readonly groups: number; readonly count: number };
}

/** Accumulates letters; `result()` gives the groups, largest first. */
export class DeadLetterGrouper {
  readonly #groups = new Map<string, GroupState>();
  /** Reasons seen past MAX_GROUPS: only their number is kept (bounded too). */
  readonly #otherReasons = new Set<string>();
  #otherCount = 0;
  #scanned = 0;
  #oldest: string | null = null;

  /** Letters added so far. */
  get scanned(): number {
    return this.#scanned;
  }

  add(letter: Pick<DeadLetterBrief, 'key' | 'kind' | 'reason' | 'code' | 'statusCode' | 'enrollmentId' | 'position' | 'firstFailedAt' | 'retryable'>): void {
    this.#scanned += 1;
    if (this.#oldest === null || letter.firstFailedAt < this.#oldest) this.#oldest = letter.firstFailedAt;
    const reason = reasonTemplate(letter.reason);
    const id = `${letter.kind}\u0000${letter.code ?? ''}\u0000${reason}`;
    let group = this.#groups.get(id);
    if (group === undefined) {
      if (this.#groups.size >= MAX_GROUPS) {
        if (this.#otherReasons.size < 10_000) this.#otherReasons.add(id);
        this.#otherCount += 1;
        return;
      }
      group = { reason, kind: letter.kind, code: letter.code ?? null, statusCode: letter.statusCode ?? null, count: 0, retryable: 0, oldestFailedAt: letter.firstFailedAt, samples: [] };
      this.#groups.set(id, group);
    }
    group.count += 1;
    if (letter.retryable) group.retryable += 1;
    if (letter.firstFailedAt < group.oldestFailedAt) group.oldestFailedAt = letter.firstFailedAt;
    if (group.samples.length < SAMPLES_PER_GROUP) {
      group.samples.push({ key: letter.key, enrollmentId: letter.enrollmentId ?? null, learner: null, course: null, position: letter.position ?? null });
    }
  }

  result(): DeadLetterGrouping {
    const groups = [...this.#groups.values()]
      .sort((a, b) => b.count - a.count || (a.oldestFailedAt < b.oldestFailedAt ? -1 : 1))
      .map((g): DeadLetterGroup => ({ ...g, samples: [...g.samples] }));
    return { scanned: this.#scanned, oldestFailedAt: this.#oldest, groups, otherGroups: { groups: this.#otherReasons.size, count: this.#otherCount } };
  }
}

/** The learner and course ids of a stored record (canonical JSON), when it can be read. */
export function idsOfRecord(record: string): { readonly learner: string | null; readonly course: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record);
  } catch {
    return { learner: null, course: null };
  }
  return { learner: nestedId(parsed, 'learner'), course: nestedId(parsed, 'course') };
}

function nestedId(value: unknown, field: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const inner = (value as Record<string, unknown>)[field];
  if (typeof inner !== 'object' || inner === null) return null;
  const id = (inner as Record<string, unknown>)['id'];
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : null;
}
