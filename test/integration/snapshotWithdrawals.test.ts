import { appendFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function roster(n: number): Enrollment[] {
  return Array.from({ length: n }, (_, i) =>
    anEnrollment({
      enrollmentId: `snap-${i}`,
      learner: { id: `u${i}`, upn: `learner${i}@contoso.example` },
      course: { id: `course-${i % 3}`, title: `Course ${i % 3}`, url: `https://lms.example/c/${i % 3}` },
      updatedAt: `2026-11-01T00:00:${String(i).padStart(2, '0')}.000Z`,
    }),
  );
}

const deletes = (h: SyncHarness): number => h.standIn.requests().filter((r) => r.method === 'DELETE').length;

describe('LMS_EXPORT_MODE=snapshot: withdrawals by absence', () => {
  it('withdraws every synced enrollment a complete snapshot no longer holds, and only those', async () => {
    harness = await SyncHarness.create();
    const env = { LMS_EXPORT_MODE: 'snapshot' };
    const all = roster(10);
    harness.writeExport(all);
    const first = await harness.run({ pageSize: 3 }, env);
    expect(first.counts).toMatchObject({ created: 10, deleted: 0 });

    // The next snapshot: snap-3 and snap-7 are gone, nothing else changed (same updatedAt).
    harness.writeExport(all.filter((r) => r.enrollmentId !== 'snap-3' && r.enrollmentId !== 'snap-7'));
    harness.standIn.resetStats();
    const second = await harness.run({ pageSize: 3 });
    expect(second.status).toBe('succeeded');
    expect(second.counts).toMatchObject({ deleted: 2, created: 0, updated: 0, failed: 0 });
    expect(deletes(harness)).toBe(2);
    expect([...harness.activitiesByExternalId().keys()].sort()).toEqual(all.map((r) => r.enrollmentId).filter((id) => id !== 'snap-3' && id !== 'snap-7').sort());

    harness.standIn.resetStats();
    const third = await harness.run({ pageSize: 3 });
    expect(third.counts).toMatchObject({ deleted: 0, created: 0, updated: 0 });
    expect(harness.standIn.stats().total).toBe(0);
  });

  it('in changes mode (the default) an enrollment missing from an export is not withdrawn', async () => {
    harness = await SyncHarness.create();
    const all = roster(4);
    harness.writeExport(all);
    await harness.run();
    harness.writeExport(all.slice(0, 2));
    const summary = await harness.run({ full: true });
    expect(summary.counts.deleted).toBe(0);
    expect(harness.activitiesByExternalId().size).toBe(4);
  });

  it('a pass that stops before the end of the snapshot withdraws nothing', async () => {
    harness = await SyncHarness.create();
    const env = { LMS_EXPORT_MODE: 'snapshot' };
    const all = roster(9);
    harness.writeExport(all);
    await harness.run({}, env);
    harness.writeExport(all.slice(0, 6));
    harness.standIn.resetStats();
    const stop = new AbortController();
    // Cancelled after the first page of three: the rest of the snapshot was never read.
    await expect(harness.run({ pageSize: 3, abortSignal: stop.signal, onProgress: () => stop.abort(new Error('stopped by the test')) })).rejects.toThrow();
    expect(deletes(harness)).toBe(0);
    expect(harness.activitiesByExternalId().size).toBe(9);
  });

  it('a snapshot with a line it cannot identify (a truncated file) withdraws nothing', async () => {
    harness = await SyncHarness.create();
    const env = { LMS_EXPORT_MODE: 'snapshot' };
    const all = roster(5);
    harness.writeExport(all);
    await harness.run({}, env);
    harness.writeExport(all.slice(0, 3));
    appendFileSync(harness.exportPath, '{"enrollmentId": "snap-3", "learner": {"id": "u3"\n');
    appendFileSync(harness.exportPath, '{"trunc\n');
    const summary = await harness.run();
    expect(summary.counts.deleted).toBe(0);
    expect(harness.activitiesByExternalId().size).toBe(5);
  });

  it('withdrawals by absence go through the mass-withdrawal guard', async () => {
    harness = await SyncHarness.create();
    const env = { LMS_EXPORT_MODE: 'snapshot', SYNC_QUARANTINE_MAX_DELETES: '2' };
    const all = roster(8);
    harness.writeExport(all);
    await harness.run({}, env);
    // An export that lost most of its rows (a broken job upstream): 5 withdrawals, more than 2.
    harness.writeExport(all.slice(0, 3));
    harness.standIn.resetStats();
    const summary = await harness.run();
    expect(summary.status).toBe('failed');
    expect(summary.message).toMatch(/SYNC_QUARANTINE_MAX_DELETES \(2\)/);
    expect(deletes(harness)).toBe(0);
    expect(harness.activitiesByExternalId().size).toBe(8);
  });
});
