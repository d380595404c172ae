import type { LeaseHolder, RunRecord } from '../state/types.js';

/**
 * A run row says `running` from its start until the run writes its outcome. A run holds the run
 * lease (renewed every few seconds) for exactly that time, so a `running` row whose run does
 * not hold a live lease belongs to a process that died: it is shown as `abandoned`.
 */
export function withAbandoned<T extends RunRecord>(runs: readonly T[], lease: Pick<LeaseHolder, 'owner'> | undefined): T[] {
  return runs.map((run) => (run.status === 'running' && run.runId !== lease?.owner ? { ...run, status: 'abandoned' } : run));
}
