import { contentCheck } from './checks/content.js';
import { graphRolesCheck, graphTokenCheck } from './checks/graphToken.js';
import { lmsCheck } from './checks/lms.js';
import { activityCheck, learnerCheck } from './checks/learner.js';
import { clockCheck, providerCheck } from './checks/provider.js';
import { settingsCheck } from './checks/settings.js';
import { storageCheck } from './checks/storage.js';
import { resultOf, type DoctorCheck, type DoctorContext, type DoctorOptions } from './context.js';
import { PROBE_CONTENT_ID, verdictOf, type CheckResult, type DoctorReport } from './types.js';

/**
 * The checks, in the order they run and print. Each uses what the earlier ones found (settings,
 * then the token, then the provider…) and is skipped when what it needs is missing.
 */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [settingsCheck, storageCheck, graphTokenCheck, graphRolesCheck, providerCheck, clockCheck, contentCheck, lmsCheck, learnerCheck, activityCheck];

/** Runs every check; one that throws unexpectedly becomes its own ✘ line, never a crash. */
export async function runDoctor(options: DoctorOptions, checks: readonly DoctorCheck[] = DOCTOR_CHECKS): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const started = Date.now();
  const context: DoctorContext = { options, now, facts: {} };
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push(await check.run(context));
    } catch (err) {
      results.push(resultOf(check, 'fail', `the check itself failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}`, 'run it again; if it persists, report it with this line'));
    }
  }
  return {
    verdict: verdictOf(results),
    checkedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    checks: results,
    leftBehind: context.facts.probeContentId !== undefined ? [`the inactive probe course ${PROBE_CONTENT_ID} (learningContent ${context.facts.probeContentId})`] : [],
  };
}
