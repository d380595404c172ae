import { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { anEnrollment, aSelfInitiatedEnrollment, aWithdrawal } from '../support/builders.js';
import { SyncHarness, summaryOf } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function exportOf(n: number): Enrollment[] {
  return Array.from({ length: n }, (_, i) => {
    const common = { enrollmentId: `enr-${i}`, learner: { id: `u${i % 4}`, upn: `p${i % 4}@contoso.example` }, course: { id: `c-${i % 3}` }, updatedAt: `2026-11-01T10:${String(i).padStart(2, '0')}:00.000Z` };
    return i % 3 === 0 ? aSelfInitiatedEnrollment(common) : anEnrollment(common);
  });
}

/** Time passing, as far as the lease is concerned: the killed run's lease has expired. */
async function expireLease(h: SyncHarness): Promise<void> {
  const client = TableClient.fromConnectionString(inject('azuriteConnectionString'), `${h.env.SYNC_TABLE_PREFIX ?? ''}Lease`, { allowInsecureConnection: true });
  const lease = await client.getEntity<{ owner: string; expiresAt: string }>('lease', 'sync');
  expect(lease.owner).toBeTruthy();
  await client.updateEntity({ partitionKey: 'lease', rowKey: 'sync', owner: lease.owner, expiresAt: '2000-01-01T00:00:00.000Z' }, 'Replace');
}

const isActivityWrite = (method: string, path: string): boolean => method !== 'GET' && path.includes('/learningCourseActivities');

describe('a kill at any instant loses nothing and duplicates nothing', () => {
  // Kill points: on the first write, and deep inside later pages. 'during' kills while
  // Graph is applying the write (its response never arrives); 'after' lets the response go.
  it.each([
    [1, 'during'],
    [4, 'after'],
    [11, 'during'],
    [23, 'after'],
  ] as const)('SIGKILL at activity write %i (%s) → the next run finishes with one activity per enrollment', async (n, when) => {
    const records: (Enrollment | ReturnType<typeof aWithdrawal>)[] = exportOf(30);
    harness = await SyncHarness.create();
    harness.writeExport(records);
    let writes = 0;
    let kill: (() => void) | undefined;
    harness.standIn.setOptions({
      faults: {
        decide: ({ method, path }) => {
          if (!isActivityWrite(method, path)) return undefined;
          writes += 1;
          if (writes === n) {
            if (when === 'during') kill?.();
            else setTimeout(() => kill?.(), 5);
          }
          return undefined;
        },
      },
    });
    const killed = await harness.runCli(['sync', '--json'], { SYNC_TIME_BUDGET_SECONDS: '0' }, (k) => (kill = k));
    expect(killed.signal).toBe('SIGKILL');
    harness.standIn.setOptions({ faults: {} });

    // Meanwhile the LMS moved on: one withdrawal, one completion.
    records.push(aWithdrawal({ enrollmentId: 'enr-1', updatedAt: '2026-11-02T00:00:00.000Z' }));
    records.push(anEnrollment({ ...(records[2] as Enrollment), status: 'completed', progressPercent: 100, completedAt: '2026-11-02T00:01:00.000Z', updatedAt: '2026-11-02T00:01:00.000Z' }));
    harness.writeExport(records);
    // The killed run still holds the run lease; let its 15 seconds pass at once.
    await expireLease(harness);
    const resumed = await harness.runCli(['sync', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summaryOf(resumed).status).toBe('succeeded');

    const byId = harness.activitiesByExternalId();
    expect(byId.has('enr-1')).toBe(false);
    expect(byId.size).toBe(29);
    for (const [id, activities] of byId) expect(activities, id).toHaveLength(1);
    expect(byId.get('enr-2')?.[0]?.status).toBe('completed');

    const again = await harness.runCli(['sync', '--json']);
    expect(summaryOf(again).counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });
});
