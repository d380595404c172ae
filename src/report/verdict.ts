/**
 * The status page's verdict and why (pure): failing when the sync is quarantined or its last
 * pass failed, degraded when no pass ran lately, ok otherwise. Dead letters are listed on the
 * page but do not make the sync unhealthy by themselves: bad source records are the LMS's.
 */
import { NOT_A_PASS } from '../sync/health.js';
import type { QuarantineView, RunView, Verdict } from './statusData.js';

export const DEFAULT_MAX_AGE_MINUTES = 60;

export interface VerdictInput {
  /** Newest first. */
  readonly runs: readonly RunView[];
  readonly quarantine: QuarantineView | null;
  readonly now: Date;
  readonly maxAgeMinutes?: number;
}

export function judge(input: VerdictInput): { readonly verdict: Verdict; readonly reasons: readonly string[] } {
  const failing: string[] = [];
  const degraded: string[] = [];
  const q = input.quarantine;
  if (q?.active === true) failing.push(`The sync is quarantined since ${q.since ?? 'an unknown time'}: ${firstLine((q.reason ?? '').replace(/^quarantined: /, ''))}`);
  const pass = input.runs.find((r) => !NOT_A_PASS.test(r.trigger) && r.status !== 'running');
  if (pass === undefined) {
    degraded.push('No sync pass has finished yet.');
  } else {
    if (pass.status === 'failed') failing.push(`The last sync pass (${pass.runId}) failed${pass.message !== null ? `: ${firstLine(pass.message)}` : '.'}`);
    if (pass.status === 'partial') degraded.push(`The last sync pass (${pass.runId}) stopped at its time budget; the next run continues.`);
    const maxAgeMinutes = input.maxAgeMinutes ?? DEFAULT_MAX_AGE_MINUTES;
    const ageMs = input.now.getTime() - Date.parse(pass.finishedAt ?? pass.startedAt);
    if (ageMs > maxAgeMinutes * 60_000) degraded.push(`The last sync pass finished more than ${maxAgeMinutes} minutes ago.`);
  }
  const reasons = [...failing, ...degraded];
  return { verdict: failing.length > 0 ? 'failing' : degraded.length > 0 ? 'degraded' : 'ok', reasons: reasons.length > 0 ? reasons : ['The last sync pass succeeded and is recent.'] };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
