import type { Quarantine, QuarantineStore } from '../state/quarantineStore.js';
import type { LeaseHolder, RunRecord, SyncState } from '../state/types.js';
import { withAbandoned } from '../sync/runStatus.js';
import type { Capacity, CapacityLimits } from '../sync/catalog/capacity.js';
import { readContentCounts } from '../sync/catalog/contentCounts.js';
import { formatCapacityLines } from './catalogSummary.js';

export interface StatusReport {
  readonly cursor: { readonly value: string | null; readonly savedAt: string | null; readonly ledgerComplete: boolean };
  /** The run holding the run lease: its run id, until when, and who (trigger, host, process id). */
  readonly lease: LeaseHolder | null;
  readonly deadLetters: { readonly count: number; readonly recent: readonly { key: string; reason: string; attempts: number; retryable: boolean; position?: string }[] };
  readonly runs: readonly RunRecord[];
  /** Null when this build's caller has no quarantine store. */
  readonly quarantine: Quarantine | null;
  /** The Viva Learning items this provider wrote against the tenant limits; `warning` from 80% of either. */
  readonly capacity: Capacity;
}

export interface ReadStatusOptions {
  /** The tenant limits the capacity is counted against (default: Viva Learning's). */
  readonly capacityLimits?: CapacityLimits;
}

const RECENT_DEAD_LETTERS = 20;

export async function readStatus(state: SyncState, quarantineStore?: QuarantineStore, options: ReadStatusOptions = {}): Promise<StatusReport> {
  const [cursor, lease, count, runs, quarantine, contents] = await Promise.all([
    state.cursor.get(),
    state.lease.current(),
    state.deadLetters.count(),
    state.runs.listRecent(10),
    quarantineStore?.get(),
    readContentCounts(state.contents, options),
  ]);
  const recent: StatusReport['deadLetters']['recent'][number][] = [];
  for await (const letter of state.deadLetters.list()) {
    recent.push({ key: letter.key, reason: letter.reason, attempts: letter.attempts, retryable: letter.retryable, ...(letter.position !== undefined ? { position: letter.position } : {}) });
    if (recent.length >= RECENT_DEAD_LETTERS) break;
  }
  return {
    cursor: { value: cursor.value ?? null, savedAt: cursor.savedAt ?? null, ledgerComplete: cursor.ledgerComplete },
    lease: lease ?? null,
    deadLetters: { count, recent },
    runs: withAbandoned(runs, lease),
    quarantine: quarantine ?? null,
    capacity: contents.capacity,
  };
}

export function formatStatus(status: StatusReport): string {
  const q = status.quarantine;
  const lines = [
    ...(q?.active === true ? [`QUARANTINED since ${q.since ?? 'unknown'}: ${(q.reason ?? '').replace(/^quarantined: /, '')}`, '  Sync passes are skipped until `viva-sync quarantine clear`.'] : []),
    `Cursor: ${status.cursor.value ?? '(none: the next run reads everything)'}${status.cursor.savedAt !== null ? ` (saved ${status.cursor.savedAt})` : ''}`,
    `Run lease: ${status.lease === null ? 'free' : `held by run ${status.lease.owner}${status.lease.holder !== undefined ? ` (${status.lease.holder})` : ''} until ${status.lease.expiresAt}`}`,
    ...formatCapacityLines(status.capacity),
    `Dead letters: ${status.deadLetters.count}`,
    ...status.deadLetters.recent.map((d) => `  ${d.key}${d.position !== undefined ? ` (${d.position})` : ''}: ${d.reason} [attempts ${d.attempts}${d.retryable ? ', will retry' : ''}]`),
    'Recent runs:',
    ...(status.runs.length === 0
      ? ['  (none)']
      : status.runs.map((r) => {
          const c = r.counts;
          return `  ${r.startedAt} ${r.runId} ${r.status}: read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}${r.message !== undefined ? ` — ${r.message}` : ''}`;
        })),
  ];
  return `${lines.join('\n')}\n`;
}
