import { afterEach, describe, expect, it } from 'vitest';
import { anEnrollment } from '../support/builders.js';
import { lastJsonLine, SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const records = Array.from({ length: 6 }, (_, i) => anEnrollment({ enrollmentId: `s${i}`, updatedAt: `2026-11-01T10:0${i}:00.000Z` }));
const withdrawn = (ids: readonly number[]): unknown[] => records.map((r, i) => (ids.includes(i) ? { enrollmentId: r.enrollmentId, deleted: true, updatedAt: `2026-11-02T10:0${i}:00.000Z` } : r));

/** Counts the DELETEs that reach Graph. */
function countDeletes(h: SyncHarness): { readonly count: () => number } {
  let deletes = 0;
  h.standIn.setOptions({ faults: { decide: ({ method }) => (method === 'DELETE' && ++deletes > 0 ? undefined : undefined) } });
  return { count: () => deletes };
}

async function setUp(maxDeletes: number): Promise<SyncHarness> {
  const h = await SyncHarness.create();
  h.env.SYNC_QUARANTINE_MAX_DELETES = String(maxDeletes);
  h.writeExport(records);
  expect((await h.run({ pageSize: 2 })).counts.created).toBe(6);
  return h;
}

describe('staged deletes: the mass-withdrawal guard holds before the first DELETE', () => {
  it('a pass over several pages sends no DELETE when the total is over the maximum; creates and updates are not held back', async () => {
    harness = await setUp(3);
    const h = harness;
    const deletes = countDeletes(h);
    // Five withdrawals spread over three pages of two, and a new enrollment on the last page.
    h.writeExport([...withdrawn([0, 1, 2, 3, 4]), anEnrollment({ enrollmentId: 'new', updatedAt: '2026-11-03T00:00:00.000Z' })]);
    const stopped = await h.run({ pageSize: 2 });
    expect(stopped).toMatchObject({ status: 'failed', counts: { deleted: 0, created: 1 } });
    expect(stopped.message).toMatch(/^quarantined: this run would delete 5 activities, more than SYNC_QUARANTINE_MAX_DELETES \(3\); none was deleted/);
    expect(deletes.count()).toBe(0);
    expect(h.activitiesByExternalId().size).toBe(7);
    expect(lastJsonLine((await h.cli(['quarantine', 'show', '--json'])).stdout)).toMatchObject({ active: true, trigger: 'deletes', stagedDeletes: 5 });

    // Discarded: the cursor goes back, so the next pass reads the withdrawals again (and judges them again).
    const cleared = lastJsonLine((await h.cli(['quarantine', 'clear', '--json'])).stdout);
    expect(cleared).toMatchObject({ active: false, stagedDeletes: { staged: 5, discarded: 5, rewoundTo: expect.any(String) } });
    const again = await h.run({ pageSize: 2 });
    expect(again).toMatchObject({ status: 'failed', counts: { deleted: 0 } });
    expect(again.message).toMatch(/would delete 5 activities/);
    expect(deletes.count()).toBe(0);

    // Approved: sent now, with the ledger and counts as any delete.
    const approved = lastJsonLine((await h.cli(['quarantine', 'clear', '--allow-deletes', '--json'])).stdout);
    expect(approved).toMatchObject({ active: false, deletesApproved: false, stagedDeletes: { staged: 5, deleted: 5, remaining: 0 } });
    expect(deletes.count()).toBe(5);
    expect([...h.activitiesByExternalId().keys()].sort()).toEqual(['new', 's5']);
    expect(await h.run({ pageSize: 2 })).toMatchObject({ status: 'succeeded', counts: { deleted: 0, created: 0, updated: 0 } });
  });

  it('within the maximum, the deletes are sent once the pass has read every page', async () => {
    harness = await setUp(3);
    const h = harness;
    const deletes = countDeletes(h);
    h.writeExport(withdrawn([1, 4]));
    const done = await h.run({ pageSize: 2 });
    expect(done).toMatchObject({ status: 'succeeded', counts: { deleted: 2 } });
    expect(deletes.count()).toBe(2);
    expect(lastJsonLine((await h.cli(['quarantine', 'show', '--json'])).stdout)).toMatchObject({ active: false, stagedDeletes: 0 });
  });

  it('a pass that stops before the end keeps its staged deletes and sends none; the pass that reads to the end sends them', async () => {
    harness = await setUp(3);
    const h = harness;
    const deletes = countDeletes(h);
    // Withdrawn just after they were written: a full pass reads them first, on its first page.
    h.writeExport(records.map((r, i) => (i < 2 ? { enrollmentId: r.enrollmentId, deleted: true, updatedAt: `2026-11-01T10:0${i}:30.000Z` } : r)));
    const stop = new AbortController();
    // Stopped once its first page was checkpointed.
    await expect(h.run({ full: true, pageSize: 2, abortSignal: stop.signal, onProgress: () => stop.abort(new Error('stopped')) })).rejects.toThrow();
    expect(deletes.count()).toBe(0);
    expect(lastJsonLine((await h.cli(['quarantine', 'show', '--json'])).stdout)).toMatchObject({ stagedDeletes: 2 });
    const resumed = await h.run({ pageSize: 2 });
    expect(resumed).toMatchObject({ status: 'succeeded', counts: { deleted: 2 } });
    expect(deletes.count()).toBe(2);
    expect(h.activitiesByExternalId().size).toBe(4);
  });

  it('an enrollment re-activated after its withdrawal was staged is not deleted', async () => {
    harness = await setUp(1);
    const h = harness;
    const deletes = countDeletes(h);
    h.writeExport(withdrawn([0, 1]));
    expect((await h.run({ pageSize: 2 })).status).toBe('failed');
    // The LMS corrects itself: s0 is back (a newer record), s1 stays withdrawn; the operator re-reads.
    expect((await h.cli(['quarantine', 'clear'])).code).toBe(0);
    h.writeExport([...withdrawn([1]).filter((r) => (r as { enrollmentId: string }).enrollmentId !== 's0'), { ...records[0], updatedAt: '2026-11-04T00:00:00.000Z' }]);
    const done = await h.run({ pageSize: 2 });
    expect(done).toMatchObject({ status: 'succeeded', counts: { deleted: 1 } });
    expect(deletes.count()).toBe(1);
    expect(h.activitiesByExternalId().has('s0')).toBe(true);
    expect(h.activitiesByExternalId().has('s1')).toBe(false);
  });
});
