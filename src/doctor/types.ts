import type { DoctorCheckId } from '../graph/errorAdvice.js';

export type { DoctorCheckId } from '../graph/errorAdvice.js';

/**
 * pass ✔; fail ✘ (blocking: the sync cannot work); warn ? (works, but look at it, or could not
 * be checked); skip (not run: an earlier check failed, or --learner was not given).
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  readonly id: DoctorCheckId;
  readonly title: string;
  readonly status: CheckStatus;
  /** One line: what was found. Never a secret. */
  readonly reason: string;
  /** The exact fix (a command or a portal page), for fail and warn. */
  readonly fix?: string;
}

export type DoctorVerdict = 'green' | 'warnings' | 'blocking';

export interface DoctorReport {
  readonly verdict: DoctorVerdict;
  readonly checkedAt: string;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
  /** What the run left behind: only the inactive probe course. */
  readonly leftBehind: readonly string[];
}

/** 0 all green, 3 warnings only, 1 a blocking problem (issue 17; the doctor's own contract). */
export function exitCodeOfDoctor(report: Pick<DoctorReport, 'verdict'>): number {
  return report.verdict === 'blocking' ? 1 : report.verdict === 'warnings' ? 3 : 0;
}

export function verdictOf(checks: readonly CheckResult[]): DoctorVerdict {
  if (checks.some((c) => c.status === 'fail')) return 'blocking';
  return checks.some((c) => c.status === 'warn') ? 'warnings' : 'green';
}

/** The fixed ids of the probes (docs/deploy.md): an inactive course, and a short-lived activity. */
export const PROBE_CONTENT_ID = 'viva-sync-doctor';
export const PROBE_ACTIVITY_ID = 'viva-sync-doctor-probe';
