import { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness, summaryOf } from '../support/syncHarness.js';

/**
 * An inline pass reads and plans the next page while this page's Graph writes are in flight
 * (PageExecutor.pagesInHand), and still checkpoints, and saves the cursor, page by page in order.
 */
let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function enrollments(n: number, prefix = 'enr'): Enrollment[] {
  return Array.from({ length: n }, (_, i) =>
    anEnrollment({ enrollmentId: `${prefix}-${i}`, learner: { id: `u${i % 3}`, upn: `p${i % 3}@contoso.example` }, course: { id: `c-${i % 2}` }, updatedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, i)).toISOString() }),
  );
}

/** Arrival times of the activity POSTs at the stand-in, by enrollment id. */
function recordPostArrivals(h: SyncHarness): Map<string, number> {
  const arrivals = new Map<string, number>();
  h.standIn.setOptions({
    faults: {
      decide: ({ method, path, body }) => {
        const id = (body as { externalCourseActivityId?: unknown } | undefined)?.externalCourseActivityId;
        if (method === 'POST' && path.endsWith('/learningCourseActivities') && typeof id === 'string') arrivals.set(id, Date.now());
        return undefined;
      },
    },
  });
  return arrivals;
}

describe('pages in hand', () => {
  it("the next page's writes start before this page's writes were answered", async () => {
    const latencyMs = 400;
    harness = await SyncHarness.create({ latencyMs });
    const h = harness;
    h.writeExport(enrollments(10));
    await h.cli(['provider', 'mark-new']);
    const arrivals = recordPostArrivals(h);
    const progress: (string | undefined)[] = [];
    const summary = await h.run({ pageSize: 5, onProgress: (p) => progress.push(p.cursor) });
    expect(summary.status).toBe('succeeded');
    expect(summary.counts.created).toBe(10);

    const page = (from: number): number[] => Array.from({ length: 5 }, (_, i) => arrivals.get(`enr-${from + i}`) ?? NaN);
    const lastOfFirst = Math.max(...page(0));
    const firstOfSecond = Math.min(...page(5));
    // One page at a time, the second page's first POST would come after the first page's answers (latency) and its checkpoint.
    expect(firstOfSecond).toBeLessThan(lastOfFirst + latencyMs - 100);
    // Cursors are still saved page by page, in order, and the last one stands.
    expect(progress).toHaveLength(2);
    expect(progress[0]).not.toEqual(progress[1]);
    expect((await (await h.state()).cursor.get()).value).toEqual(progress[1]);
  });

  it('an enrollment in two consecutive pages is written once per record, in order: one activity, the later state', async () => {
    harness = await SyncHarness.create({ latencyMs: 100 });
    const h = harness;
    const first = enrollments(5);
    const again = anEnrollment({ ...first[2], status: 'completed', progressPercent: 100, completedAt: '2026-11-01T11:00:00.000Z', updatedAt: '2026-11-01T11:00:00.000Z' });
    h.writeExport([...first, again, ...enrollments(4, 'more')]);
    await h.cli(['provider', 'mark-new']);
    const summary = await h.run({ pageSize: 5 });
    expect(summary.status).toBe('succeeded');
    const byId = h.activitiesByExternalId();
    expect(byId.size).toBe(9);
    for (const [id, list] of byId) expect(list, id).toHaveLength(1);
    expect(byId.get('enr-2')?.[0]?.status).toBe('completed');
    expect(summary.counts).toMatchObject({ created: 9, updated: 1, failed: 0 });
  });

  it('a kill while two pages are in hand (provider marked new, no lookups) duplicates nothing', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const records = enrollments(450);
    h.writeExport(records);
    await h.cli(['provider', 'mark-new']);
    let writes = 0;
    let kill: (() => void) | undefined;
    h.standIn.setOptions({
      faults: {
        decide: ({ method, path }) => {
          if (method === 'POST' && path.endsWith('/learningCourseActivities') && ++writes === 260) kill?.();
          return undefined;
        },
      },
    });
    const killed = await h.runCli(['sync', '--json'], { SYNC_TIME_BUDGET_SECONDS: '0' }, (k) => (kill = k));
    expect(killed.signal).toBe('SIGKILL');
    h.standIn.setOptions({ faults: {} });
    const lease = TableClient.fromConnectionString(inject('azuriteConnectionString'), `${h.env.SYNC_TABLE_PREFIX ?? ''}Lease`, { allowInsecureConnection: true });
    const held = await lease.getEntity<{ owner: string }>('lease', 'sync');
    await lease.updateEntity({ partitionKey: 'lease', rowKey: 'sync', owner: held.owner, expiresAt: '2000-01-01T00:00:00.000Z' }, 'Replace');

    const resumed = await h.runCli(['sync', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summaryOf(resumed).status).toBe('succeeded');
    const byId = h.activitiesByExternalId();
    expect(byId.size).toBe(450);
    for (const [id, list] of byId) expect(list, id).toHaveLength(1);
  });
});
