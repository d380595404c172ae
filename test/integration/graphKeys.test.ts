/**
 * LMS ids with every awkward character go through a real sync against the Graph stand-in (which
 * decodes a path once and splits it on '/', as Graph does): the keys and bodies agree, an id with
 * '/' is stored in its escaped form, and an activity created before ids were escaped (its body
 * carried the raw id) is still updated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromGraphExternalId, toGraphExternalId } from '../../src/graph/odata.js';
import { anEnrollment, aSelfInitiatedEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const AWKWARD = ["o'brien", 'term/2026/e 1', 'x#1?y=2', '100%25 done', 'a:b:c', 'é-ü-漢字', '~~starts', 'plain-1'];

describe('ids with quotes, slashes, #, ?, %, :, spaces and non-ASCII', () => {
  it('sync, re-sync with changes, and every request is accepted', async () => {
    harness = await SyncHarness.create();
    const learner = { id: 'u1', upn: 'ada@contoso.example' };
    const first = AWKWARD.map((id, i) =>
      i % 2 === 0
        ? anEnrollment({ enrollmentId: `enr-${id}`, learner, course: { id: `course-${id}`, title: `Course ${i}`, url: `https://lms.example/c/${i}` }, status: 'notStarted', progressPercent: 0 })
        : aSelfInitiatedEnrollment({ enrollmentId: `enr-${id}`, learner, course: { id: `course-${id}`, title: `Course ${i}`, url: `https://lms.example/c/${i}` }, status: 'inProgress', progressPercent: 10 }),
    );
    harness.writeExport(first);
    const run1 = await harness.run();
    expect(run1.counts).toMatchObject({ read: AWKWARD.length, created: AWKWARD.length, failed: 0 });

    const stored = harness.activitiesByExternalId();
    for (const id of AWKWARD) {
      expect(stored.get(`enr-${id}`), id).toHaveLength(1);
      const content = harness.standIn.contents().find((c) => c.externalId === toGraphExternalId(`course-${id}`));
      expect(content, id).toBeDefined();
      expect(fromGraphExternalId(content?.externalId ?? '')).toBe(`course-${id}`);
    }
    expect(harness.standIn.activities().filter((a) => a.externalCourseActivityId === '~~enr-term~2F2026~2Fe 1')).toHaveLength(1);

    const second = first.map((e) => ({ ...e, status: 'completed' as const, progressPercent: 100, completedAt: '2026-11-02T10:00:00.000Z', updatedAt: '2026-11-02T10:00:00.000Z' }));
    harness.writeExport(second);
    const run2 = await harness.run();
    expect(run2.counts).toMatchObject({ updated: AWKWARD.length, failed: 0 });
    expect(harness.standIn.activities().every((a) => a.status === 'completed')).toBe(true);
    // Lookups by key found nothing (404) before the creates; none was unroutable (400).
    expect(harness.standIn.requests().filter((r) => r.status >= 400 && r.status !== 404)).toEqual([]);
    expect(harness.standIn.requests().filter((r) => r.path.includes("(externalCourseActivityId='~~enr-term~2F2026~2Fe%201')")).length).toBeGreaterThan(0);
  });

  it('keeps updating an activity created before ids were escaped (its externalCourseActivityId is the raw id)', async () => {
    harness = await SyncHarness.create();
    const enrollment = anEnrollment({ enrollmentId: 'legacy/7', learner: { id: 'u1', upn: 'ada@contoso.example' }, status: 'inProgress', progressPercent: 20 });
    harness.writeExport([enrollment]);
    expect((await harness.run()).counts).toMatchObject({ created: 1, failed: 0 });
    // What an earlier version left in Viva: the same activity, with the raw id in its body.
    const state = harness.standIn.exportState();
    const [activity] = state.activities;
    if (!activity) throw new Error('no activity');
    harness.standIn.importState({ ...state, activities: [{ ...activity, externalCourseActivityId: 'legacy/7' }] });

    harness.writeExport([{ ...enrollment, status: 'completed', progressPercent: 100, completedAt: '2026-11-02T10:00:00.000Z', updatedAt: '2026-11-02T10:00:00.000Z' }]);
    const run = await harness.run();
    expect(run.counts).toMatchObject({ updated: 1, failed: 0 });
    expect(harness.standIn.activities()).toEqual([expect.objectContaining({ id: activity.id, status: 'completed', externalCourseActivityId: 'legacy/7' })]);
  });
});
