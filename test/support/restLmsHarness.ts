/**
 * The engine against the Canvas and Moodle stand-ins: a SyncHarness (Graph stand-in +
 * Azurite, settings as a user gives them) whose LMS_* settings point at a stand-in seeded
 * from the real reference data in ../shared/reference/data (see its READMEs).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { stableGuid } from '../../src/sandbox/tenant.js';
import { SyncHarness } from './syncHarness.js';

/** shared/reference/data beside the repository (CI lays a copy of shared/ there too). */
export const referenceDataDir = resolve(process.env['LMS_REFERENCE_DATA'] ?? resolve(import.meta.dirname, '../../../shared/reference/data'));

export function haveReferenceData(): boolean {
  return existsSync(resolve(referenceDataDir, 'canvas', 'api')) && existsSync(resolve(referenceDataDir, 'moodle', 'logstore-events'));
}

/** A SyncHarness whose LMS is an API adapter at `baseUrl`. */
export async function apiSyncHarness(adapter: 'canvas' | 'moodle', baseUrl: string, token: string, env: Record<string, string> = {}): Promise<SyncHarness> {
  const harness = await SyncHarness.create();
  delete harness.env['LMS_FILE_PATH'];
  Object.assign(harness.env, { LMS_ADAPTER: adapter, LMS_BASE_URL: baseUrl, LMS_TOKEN: token, ...env });
  return harness;
}

/** Makes these addresses Entra users of the Graph stand-in (UPN = address, as LEARNER_MATCH's default finds them). */
export function addLearners(harness: SyncHarness, emails: readonly string[]): void {
  for (const email of new Set(emails.map((e) => e.toLowerCase()))) harness.standIn.addUser({ id: stableGuid(email), userPrincipalName: email, mail: email });
}

export interface ActivitySummary {
  readonly status: string;
  readonly percent: number | null;
  readonly learner: string;
  readonly completed: string | null;
  readonly count: number;
}

/** The activities in Graph, by externalCourseActivityId, with what the tests compare. */
export function activitySummary(harness: SyncHarness): Map<string, ActivitySummary> {
  const out = new Map<string, ActivitySummary>();
  for (const [id, list] of harness.activitiesByExternalId()) {
    const a = list[0];
    if (a === undefined) continue;
    out.set(id, { status: a.status, percent: a.completionPercentage, learner: a.learnerUserId, completed: a.completedDateTime, count: list.length });
  }
  return out;
}
