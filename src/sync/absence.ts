/**
 * Withdrawals by absence (DESIGN.md, LMS_EXPORT_MODE=snapshot; the Moodle full walk): when a
 * listing that names every current enrollment (`PagedChanges.complete`) was read to its end,
 * every enrollment the ledger holds as live that it did not name was withdrawn in the LMS.
 *
 * The withdrawals are yielded as extra pages after the listing's last page, so they take the
 * engine's ordinary path for a withdrawal: planned as deletes, counted by the mass-withdrawal
 * guard (SYNC_QUARANTINE_MAX_DELETES) before any DELETE is sent. A pass that stops before the
 * end (time budget, an error, a failed page) never asks for these pages, so it withdraws
 * nothing; nor does a listing with a record it could not identify (an unreadable line may be
 * any enrollment).
 */
import type { ChangePage, PagedChanges, SourceItem } from '../lms/types.js';
import type { LedgerStore, StateOperationOptions } from '../state/types.js';
import type { Logger } from './logger.js';

export const ABSENT_POSITION = 'absent from a complete listing';

export interface AbsenceOptions extends StateOperationOptions {
  readonly pageSize: number;
  readonly logger: Logger;
  readonly runId: string;
  readonly now?: () => Date;
}

/** The listing's pages, then (when it is complete and was read to its end) pages of withdrawals by absence. */
export async function* withAbsentWithdrawals(listing: PagedChanges, pages: AsyncIterable<ChangePage>, ledger: LedgerStore, options: AbsenceOptions): AsyncGenerator<ChangePage> {
  if (listing.complete !== true) {
    yield* pages;
    return;
  }
  const seen = new Set<string>();
  let unidentified = 0;
  let cursor: string | undefined;
  for await (const page of pages) {
    for (const item of page.items) {
      const id = item.kind === 'record' ? item.record.enrollmentId : item.enrollmentId;
      if (id !== undefined) seen.add(id);
      else unidentified += 1;
    }
    if (page.cursor !== undefined) cursor = page.cursor;
    yield page;
  }
  // Only here once the consumer asked past the last page: the listing was read to its end.
  // A listing may learn only as it reads that it is not complete after all (an export folder with no new snapshot).
  if (listing.complete !== true) return;
  if (unidentified > 0) {
    options.logger.warn('The complete listing had records without an enrollment id; no withdrawal is inferred from absence this run', { runId: options.runId, records: unidentified });
    return;
  }
  const covered = listing.coveredCourses?.();
  const now = (options.now ?? (() => new Date()))().toISOString();
  let batch: SourceItem[] = [];
  let total = 0;
  for await (const entry of ledger.list(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {})) {
    if (entry.state === 'deleted' || seen.has(entry.enrollmentId)) continue;
    // A listing of some courses (a walk over the active ones) says nothing of the others' enrollments.
    if (covered !== undefined && (entry.contentExternalId === undefined || !covered.has(entry.contentExternalId))) continue;
    // Never older than what the ledger last handled, or the engine would skip it as stale.
    const updatedAt = entry.sourceUpdatedAt !== undefined && entry.sourceUpdatedAt > now ? entry.sourceUpdatedAt : now;
    batch.push({ kind: 'record', record: { enrollmentId: entry.enrollmentId, updatedAt, deleted: true }, position: ABSENT_POSITION });
    total += 1;
    if (batch.length >= options.pageSize) {
      yield { items: batch, cursor, continuationToken: undefined };
      batch = [];
    }
  }
  if (batch.length > 0) yield { items: batch, cursor, continuationToken: undefined };
  if (total > 0) options.logger.info('Withdrawing enrollments a complete listing no longer holds', { runId: options.runId, enrollments: total });
}
