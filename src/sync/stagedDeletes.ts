/**
 * Staged deletes: the mass-withdrawal guard holds before the first DELETE.
 *
 * During a sync pass every planned delete (a withdrawal read from the LMS, or a withdrawal by
 * absence from a complete listing, src/sync/absence.ts) is staged in the `…StagedDeletes` table
 * instead of sent; creates and updates go on as usual. Once the pass has read every page, the
 * engine applies the staged deletes if there are at most SYNC_QUARANTINE_MAX_DELETES of them (or
 * an operator approved them), or quarantines the sync with none applied. A pass that stops early
 * (time budget, an error) applies nothing: its staged deletes stay, and the pass that next reads to
 * the end judges and applies them with its own. `viva-sync quarantine clear --allow-deletes`
 * applies them; `viva-sync quarantine clear` discards them and rewinds the cursor to where the
 * first of them was read, so the next pass reads those records again.
 *
 * Any other source of withdrawals stages through `DeleteStaging.stage` (or the store's `stage`)
 * during the pass, before the engine's end-of-read step (`Run.applyStaged`).
 */
import type { EnrollmentRecord, Withdrawal } from '../mapping/enrollment.js';
import type { StagedDelete, StagedDeleteStore } from '../state/stagedDeleteStore.js';
import type { StateOperationOptions, SyncState } from '../state/types.js';
import type { Logger } from './logger.js';
import type { PageWork } from './pageExecutor.js';
import { holdRunLease } from './runLeaseKeeper.js';
import type { WorkItem } from './types.js';

type DeleteItem = Extract<WorkItem, { kind: 'delete' }>;

/** One run's view of the staged deletes: loaded at its start, kept in step as it stages and applies. */
export class DeleteStaging {
  private readonly staged = new Map<string, StagedDelete>();

  constructor(
    private readonly store: StagedDeleteStore,
    private readonly runId: string,
  ) {}

  get size(): number {
    return this.staged.size;
  }

  async load(options: StateOperationOptions): Promise<void> {
    this.staged.clear();
    for (const staged of await this.store.list(options)) this.staged.set(staged.externalId, staged);
  }

  /**
   * A record of a staged enrollment read at or after the staged withdrawal (re-enrolled, or
   * withdrawn again) supersedes it: the staged row goes, and the plan decides afresh (a
   * withdrawal is staged again).
   */
  async supersede(records: readonly EnrollmentRecord[], keyOf: (r: EnrollmentRecord) => string, options: StateOperationOptions): Promise<void> {
    if (this.staged.size === 0) return;
    const gone = records.map((r) => ({ key: keyOf(r), at: r.updatedAt })).filter(({ key, at }) => {
      const staged = this.staged.get(key);
      return staged !== undefined && staged.sourceUpdatedAt <= at;
    });
    if (gone.length === 0) return;
    await this.store.remove(gone.map((g) => g.key), options);
    for (const { key } of gone) this.staged.delete(key);
  }

  /** Stages these planned deletes; `rewindTo` is the cursor this pass started from. */
  async stage(items: readonly DeleteItem[], positions: ReadonlyMap<string, string>, rewindTo: { readonly cursor: string | undefined }, options: StateOperationOptions): Promise<void> {
    if (items.length === 0) return;
    const stagedAt = new Date().toISOString();
    const rows: StagedDelete[] = items.map((item) => {
      const position = positions.get(item.enrollmentId);
      return {
        externalId: item.externalId,
        enrollmentId: item.enrollmentId,
        sourceUpdatedAt: item.sourceUpdatedAt,
        vivaId: item.vivaId,
        lookupFirst: item.lookupFirst,
        ...(position !== undefined ? { position } : {}),
        runId: this.runId,
        stagedAt,
      };
    });
    await this.store.stage(rows, rewindTo, options);
    for (const row of rows) this.staged.set(row.externalId, row);
  }

  /** The staged deletes as pages of work, oldest withdrawal first. */
  pages(pageSize: number): PageWork[] {
    const all = [...this.staged.values()].sort((a, b) => (a.sourceUpdatedAt < b.sourceUpdatedAt ? -1 : a.sourceUpdatedAt > b.sourceUpdatedAt ? 1 : 0));
    const pages: PageWork[] = [];
    for (let i = 0; i < all.length; i += pageSize) {
      const chunk = all.slice(i, i + pageSize);
      const items: DeleteItem[] = chunk.map((s) => ({ version: 1, kind: 'delete', externalId: s.externalId, enrollmentId: s.enrollmentId, sourceUpdatedAt: s.sourceUpdatedAt, vivaId: s.vivaId, lookupFirst: s.lookupFirst }));
      // What a dead letter keeps of a delete that fails: the withdrawal, which a later run retries.
      const records = new Map<string, EnrollmentRecord>(chunk.map((s): [string, Withdrawal] => [s.enrollmentId, { enrollmentId: s.enrollmentId, updatedAt: s.sourceUpdatedAt, deleted: true }]));
      const positions = new Map(chunk.flatMap((s): [string, string][] => (s.position !== undefined ? [[s.enrollmentId, s.position]] : [])));
      pages.push({ items, records, positions, ledger: new Map() });
    }
    return pages;
  }

  /** These deletes were sent (or dead-lettered, or handed to the queue workers): no longer staged. */
  async applied(externalIds: readonly string[], options: StateOperationOptions): Promise<void> {
    if (externalIds.length === 0) return;
    await this.store.remove(externalIds, options);
    for (const id of externalIds) this.staged.delete(id);
    if (this.staged.size === 0) await this.store.forgetRewindIfEmpty(options);
  }
}

export interface DiscardResult {
  readonly discarded: number;
  /** The cursor the sync reads from again; null: from the start. Absent when nothing was staged. */
  readonly rewoundTo?: string | null;
}

/**
 * `viva-sync quarantine clear` without --allow-deletes: forgets the staged deletes and rewinds the
 * cursor to where the first of them was read, so the next pass reads those records again and
 * judges them afresh (a fixed export no longer withdraws them). Under the run lease.
 */
export async function discardStagedDeletes(deps: { readonly state: SyncState; readonly store: StagedDeleteStore; readonly logger: Logger; readonly runId: string }): Promise<DiscardResult> {
  const lease = await holdRunLease(deps.state.lease, deps.runId, { trigger: 'quarantine clear', logger: deps.logger });
  try {
    const options = { abortSignal: lease.signal };
    const rewind = await deps.store.rewindTo(options);
    const discarded = await deps.store.discardAll(options);
    if (discarded === 0 || rewind === undefined) return { discarded };
    const cursor = await deps.state.cursor.get(options);
    await deps.state.cursor.save({ value: rewind.cursor, ledgerComplete: cursor.ledgerComplete, ledgerEpoch: cursor.ledgerEpoch, runId: deps.runId }, cursor.etag, options);
    deps.logger.info('Staged deletes discarded; the cursor was rewound so the next pass reads them again', { discarded, cursor: rewind.cursor ?? null });
    return { discarded, rewoundTo: rewind.cursor ?? null };
  } finally {
    await lease.release();
  }
}
