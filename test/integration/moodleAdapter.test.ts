import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { isConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createMoodleAdapter } from '../../src/lms/moodle/index.js';
import type { ChangePage, LmsAdapter, SourceItem } from '../../src/lms/types.js';
import { isLmsRequestError } from '../../src/lms/http/errors.js';
import { loadMoodleReference, MoodleStandIn, seedMoodleReference, suspendedStatus, type MoodleReference, type MoodleStandInOptions } from '../../src/sandbox/lms/moodleStandIn.js';
import { stableGuid } from '../../src/sandbox/tenant.js';
import { activitySummary, addLearners, apiSyncHarness, referenceDataDir } from '../support/restLmsHarness.js';
import type { SyncHarness } from '../support/syncHarness.js';

let ref: MoodleReference;
beforeAll(() => {
  ref = loadMoodleReference(referenceDataDir);
});

let moodle: MoodleStandIn | undefined;
let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  await moodle?.stop();
  harness = undefined;
  moodle = undefined;
});

const fastHttp = { minBackoffMs: 5, maxBackoffMs: 20, requestTimeoutMs: 5_000 } as const;
const ALL_COLUMNS = ['course', 'user', 'email', 'username', 'status', 'timeenrolled', 'timestarted', 'timecompleted', 'progress'] as const;
/** 2024-03-01T09:00:00Z, for the synthetic learners' enrolment times. */
const T0 = 1_709_283_600;

/**
 * The logstore reference rows (course 2 "test_name"; user 1 completed it, user 2 enrolled and
 * active; the site course) plus synthetic learners and one teacher in course 2 (marked synthetic).
 */
async function seeded(extra = 4, options: MoodleStandInOptions = {}): Promise<{ moodle: MoodleStandIn; courseId: number; emails: string[]; seed: ReturnType<typeof seedMoodleReference> }> {
  const standIn = new MoodleStandIn(options);
  const seed = seedMoodleReference(standIn, ref);
  const emails = ['test@test.com'];
  for (let i = 1; i <= extra; i += 1) {
    const id = 100 + i;
    const email = `synthetic.learner${i}@contoso.example`;
    emails.push(email);
    standIn.addUser({ id, username: email, firstname: 'Synthetic', lastname: `Learner ${i}`, email, idnumber: `E${id}` });
    standIn.enrol(seed.courseId, id, { timecreated: T0 + i * 60, ...(i % 2 === 1 ? { progress: 25, lastaccess: T0 + i * 60 + 30, timestarted: T0 + i * 60 + 30 } : {}) });
  }
  standIn.addUser({ id: 300, username: 'teacher', firstname: 'Synthetic', lastname: 'Teacher', email: 'teacher@contoso.example' });
  standIn.enrol(seed.courseId, 300, { roles: ['editingteacher'], timecreated: T0 });
  standIn.addReport(1, ALL_COLUMNS, { role: 'student' });
  await standIn.start();
  moodle = standIn;
  return { moodle: standIn, courseId: seed.courseId, emails, seed };
}

function adapterFor(standIn: MoodleStandIn, env: Record<string, string> = {}, lookbackMs = 3_600_000): LmsAdapter {
  const config = loadConfig({ VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'moodle', LMS_BASE_URL: standIn.baseUrl, LMS_TOKEN: standIn.token, AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env }, { cwd: '/nonexistent' });
  if (config.lms.adapter === 'file') throw new Error('unexpected');
  return createMoodleAdapter({ settings: config.lms, cwd: '.', lookbackMs, http: fastHttp });
}

async function pagesOf(adapter: LmsAdapter, cursor?: string, maxPageSize = 2): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of adapter.listChanges(cursor !== undefined ? { cursor } : {}).byPage({ maxPageSize })) pages.push(page);
  return pages;
}

const idsOf = (pages: readonly ChangePage[]): string[] => pages.flatMap((p) => p.items).map((i: SourceItem) => (i.kind === 'record' ? i.record.enrollmentId : i.key));

describe('moodle adapter (walk) → engine → Graph stand-in', () => {
  it('first sync exact, re-sync no writes, a change propagates, a suspension withdraws', async () => {
    const { moodle: m, courseId, emails, seed } = await seeded(4);
    harness = await apiSyncHarness('moodle', m.baseUrl, m.token);
    addLearners(harness, emails);

    const first = await harness.run({ pageSize: 2 });
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ read: 6, created: 6, failed: 0 });
    const activities = activitySummary(harness);
    expect([...activities.keys()].sort()).toEqual(['moodle:2:1', 'moodle:2:101', 'moodle:2:102', 'moodle:2:103', 'moodle:2:104', 'moodle:2:2']);
    // The logstore's course_completed event: user 1 completed course 2 at 1433946701.
    expect(activities.get(`moodle:${courseId}:${seed.completedUser}`)).toMatchObject({ status: 'completed', percent: 100, completed: '2015-06-10T14:31:41.000Z', learner: stableGuid('test@test.com') });
    expect(activities.get(`moodle:${courseId}:${seed.enrolledUser}`)).toMatchObject({ status: 'notStarted', percent: 0 });
    expect(activities.get('moodle:2:101')).toMatchObject({ status: 'inProgress', percent: 25 });
    expect(harness.standIn.contents().map((c) => [c.externalId, c.title])).toEqual([['moodle:course:2', 'test_name']]);

    harness.standIn.resetStats();
    const again = await harness.run({ pageSize: 2 });
    expect(again.counts).toMatchObject({ read: 6, created: 0, updated: 0, deleted: 0, unchanged: 6 });
    expect(harness.standIn.stats().writes).toBe(0);

    m.updateEnrolment(courseId, 102, { progress: 60, lastaccess: T0 + 86_400 });
    // The reference's user_enrolment_updated "suspended" row: status 1.
    m.updateEnrolment(courseId, seed.enrolledUser, { status: suspendedStatus(ref) });
    const changed = await harness.run({ pageSize: 2 });
    expect(changed.counts).toMatchObject({ updated: 1, deleted: 1, created: 0, failed: 0 });
    const after = activitySummary(harness);
    expect(after.get('moodle:2:102')).toMatchObject({ status: 'inProgress', percent: 60 });
    expect(after.has(`moodle:${courseId}:${seed.enrolledUser}`)).toBe(false);

    // The reference's "resumed" row (status 0): the learner is back, and so is the assignment.
    const resumedStatus = Number((((ref.resumed['user_enrolments'] ?? []) as Record<string, unknown>[])[0] ?? {})['status']);
    m.updateEnrolment(courseId, seed.enrolledUser, { status: resumedStatus });
    // A completed learner who is then suspended is withdrawn too (its time does not look older than the completion).
    m.updateEnrolment(courseId, seed.completedUser, { status: 1 });
    const back = await harness.run({ pageSize: 2 });
    expect(back.counts).toMatchObject({ created: 1, deleted: 1, failed: 0 });
    expect(activitySummary(harness).has(`moodle:${courseId}:${seed.enrolledUser}`)).toBe(true);
    expect(activitySummary(harness).has(`moodle:${courseId}:${seed.completedUser}`)).toBe(false);
  });

  it('viva-sync sync --dry-run prints a plan and writes nothing', async () => {
    const { moodle: m, emails } = await seeded(1);
    harness = await apiSyncHarness('moodle', m.baseUrl, m.token);
    addLearners(harness, emails);
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true }, env: harness.env, cwd: harness.dir };
    expect(await runCli(['sync', '--dry-run'], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('would PATCH upsert content: moodle:course:2');
    expect(text).toContain('would POST create activity: moodle:2:1');
    expect(text).toContain('would POST create activity: moodle:2:101');
    expect(text).not.toContain(m.token);
    expect(harness.standIn.stats().total).toBe(0);
  });
});

describe('moodle adapter (report) → engine → Graph stand-in', () => {
  it('reads the report incrementally by its time columns: exact, quiet, changes and suspensions propagate', async () => {
    const { moodle: m, courseId, emails, seed } = await seeded(4);
    harness = await apiSyncHarness('moodle', m.baseUrl, m.token, { LMS_MOODLE_REPORT_ID: '1' });
    addLearners(harness, emails);

    const first = await harness.run({ pageSize: 3 });
    expect(first.counts).toMatchObject({ read: 6, created: 6, failed: 0 });
    const activities = activitySummary(harness);
    expect(activities.get('moodle:2:1')).toMatchObject({ status: 'completed', completed: '2015-06-10T14:31:00.000Z' });
    expect(activities.get('moodle:2:101')).toMatchObject({ status: 'inProgress', percent: 25 });
    // userdate() shows minutes: the latest time (09:04:30, learner 103 started) reads as 09:04.
    expect(JSON.parse(first.cursor.after ?? '{}')).toEqual({ v: 1, report: 1, since: '2024-03-01T09:04:00.000Z' });

    harness.standIn.resetStats();
    const again = await harness.run({ pageSize: 3 });
    // Only rows changed within the lookback before the cursor are read again.
    expect(again.counts.read).toBeLessThan(6);
    expect(harness.standIn.stats().writes).toBe(0);

    const now = Math.floor(Date.now() / 1000);
    m.updateEnrolment(courseId, 102, { progress: 100, timestarted: now - 120, timecompleted: now - 60 });
    m.updateEnrolment(courseId, seed.enrolledUser, { status: 1 });
    const changed = await harness.run({ pageSize: 3 });
    expect(changed.counts).toMatchObject({ updated: 1, deleted: 1, created: 0 });
    expect(activitySummary(harness).get('moodle:2:102')).toMatchObject({ status: 'completed', percent: 100 });
  });
});

describe('moodle adapter against the stand-in', () => {
  it('walks visible courses only, leaves the site course and teachers out, posts the token in the body with moodlewsrestformat=json', async () => {
    const { moodle: m } = await seeded(2);
    m.addCourse({ id: 7, fullname: 'Hidden', visible: 0 });
    m.enrol(7, 101);
    const pages = await pagesOf(adapterFor(m));
    expect(idsOf(pages)).toEqual(['moodle:2:1', 'moodle:2:2', 'moodle:2:101', 'moodle:2:102']);
    const calls = m.requests();
    expect(calls.every((c) => c.method === 'POST')).toBe(true);
    expect(calls.some((c) => c.params['courseid'] === '7')).toBe(false);
    expect(calls.some((c) => c.wsfunction === 'core_enrol_get_enrolled_users' && c.params['options[0][value]'] === 'moodle/course:isincompletionreports')).toBe(true);
    // The completion time is asked for only where the course is completed.
    expect(calls.filter((c) => c.wsfunction === 'core_completion_get_course_completion_status').map((c) => c.params['userid'])).toEqual(['1']);
  });

  it('resumes a stopped pass from its cursor without skipping, even when the roster shrank meanwhile', async () => {
    const { moodle: m, courseId } = await seeded(5);
    const adapter = adapterFor(m);
    const all = await pagesOf(adapter);
    const ids = idsOf(all);
    expect(ids).toHaveLength(7);
    const stoppedAfter = all[1]?.cursor;
    m.unenrol(courseId, 1); // a user before the resume point leaves: offsets shift by one
    const resumed = idsOf(await pagesOf(adapter, stoppedAfter));
    expect(resumed).toEqual(ids.slice(4));
    expect(all[all.length - 1]?.cursor).toMatch(/"done":true/);
  });

  it('a full walk withdraws a hard unenrolment (the enrolment is gone, not suspended); a resumed pass does not', async () => {
    const { moodle: m, courseId } = await seeded(3);
    harness = await apiSyncHarness('moodle', m.baseUrl, m.token);
    addLearners(harness, ['test@test.com', 'synthetic.learner1@contoso.example', 'synthetic.learner2@contoso.example', 'synthetic.learner3@contoso.example']);
    const first = await harness.run({ pageSize: 2 });
    expect(first.counts).toMatchObject({ created: 5, deleted: 0 });

    m.unenrol(courseId, 102);
    harness.standIn.resetStats();
    const second = await harness.run({ pageSize: 2 });
    expect(second.status).toBe('succeeded');
    expect(second.counts).toMatchObject({ deleted: 1, created: 0, updated: 0 });
    expect(activitySummary(harness).has('moodle:2:102')).toBe(false);
    expect(harness.standIn.requests().filter((r) => r.method === 'DELETE')).toHaveLength(1);

    // A run that resumes a pass in the middle has not seen the whole roster: it infers nothing.
    m.unenrol(courseId, 103);
    const state = await harness.state();
    const cursor = await state.cursor.get();
    await state.cursor.save({ value: JSON.stringify({ v: 1, pass: '2026-11-01T00:00:00.000Z', course: courseId, from: 2, last: 101 }), ledgerComplete: true, runId: 'test' }, cursor.etag);
    const resumed = await harness.run({ pageSize: 2 });
    expect(resumed.counts.deleted).toBe(0);
    expect(activitySummary(harness).has('moodle:2:103')).toBe(true);
  });

  it('lists the catalog (core_course_get_courses): unenrolled courses become content, hidden or ended ones are retired, the site course is left out', async () => {
    const { moodle: m, emails } = await seeded(1);
    m.addCourse({ id: 9, fullname: 'Unenrolled elective', categoryid: 1, visible: 1, timemodified: T0, lang: 'pt_br' });
    m.addCourse({ id: 10, fullname: 'Soon hidden', categoryid: 1, visible: 1, timemodified: T0 });
    m.addCourse({ id: 11, fullname: 'Ended long ago', categoryid: 1, visible: 1, enddate: T0, timemodified: T0 });
    const listed = [];
    for await (const item of adapterFor(m).listCatalog?.() ?? []) listed.push(item);
    expect(listed.map((i) => (i.kind === 'course' ? [i.course.id, i.course.active] : [i.kind]))).toEqual([
      ['moodle:course:2', true],
      ['moodle:course:9', true],
      ['moodle:course:10', true],
      ['moodle:course:11', false],
    ]);
    expect(listed[1]).toMatchObject({ course: { title: 'Unenrolled elective', url: `${m.baseUrl}/course/view.php?id=9`, language: 'pt-br', format: 'Course', updatedAt: new Date(T0 * 1000).toISOString() } });

    harness = await apiSyncHarness('moodle', m.baseUrl, m.token);
    addLearners(harness, emails);
    const first = await harness.run({ pageSize: 2 });
    expect(first.catalog).toMatchObject({ created: 3, retired: 1, complete: true });
    expect(harness.standIn.contents().map((c) => [c.externalId, c.isActive]).sort()).toEqual([['moodle:course:10', true], ['moodle:course:11', false], ['moodle:course:2', true], ['moodle:course:9', true]]);

    m.addCourse({ id: 10, fullname: 'Soon hidden', categoryid: 1, visible: 0, timemodified: T0 + 60 });
    const second = await harness.run({ pageSize: 2 });
    expect(second.catalog).toMatchObject({ retired: 1, created: 0, updated: 0 });
    expect(harness.standIn.contents().find((c) => c.externalId === 'moodle:course:10')?.isActive).toBe(false);
  });

  it('LMS_COURSE_IDS limits the walk; a course Moodle does not return becomes one dead letter', async () => {
    const { moodle: m } = await seeded(1);
    m.addCourse({ id: 9, fullname: 'Other' });
    m.enrol(9, 101);
    const pages = await pagesOf(adapterFor(m, { LMS_COURSE_IDS: '9,4242' }));
    expect(idsOf(pages)).toEqual(['moodle:course:4242', 'moodle:9:101']);
  });

  it('fetches one enrollment by id: live, withdrawn when no longer active, undefined when unknown', async () => {
    const { moodle: m, courseId, seed } = await seeded(1);
    const adapter = adapterFor(m);
    expect(await adapter.getEnrollment(`moodle:${courseId}:${seed.completedUser}`)).toMatchObject({ kind: 'record', record: { status: 'completed', completedAt: '2015-06-10T14:31:41.000Z', learner: { id: '1', email: 'test@test.com' }, course: { title: 'test_name', url: `${m.baseUrl}/course/view.php?id=2` } } });
    m.updateEnrolment(courseId, 101, { status: 1 });
    expect(await adapter.getEnrollment(`moodle:${courseId}:101`)).toMatchObject({ kind: 'record', record: { enrollmentId: 'moodle:2:101', deleted: true } });
    expect(await adapter.getEnrollment('moodle:77:1')).toBeUndefined();
    expect(await adapter.getEnrollment('moodle:2:999')).toBeUndefined();
    expect(await adapter.getEnrollment('canvas:5')).toBeUndefined();
  });

  it('report mode: records that share a minute across a page boundary, and late rows, are not skipped', async () => {
    const { moodle: m, courseId } = await seeded(0);
    const adapter = adapterFor(m, { LMS_MOODLE_REPORT_ID: '1' }, 600_000);
    const first = await pagesOf(adapter, undefined, 1);
    const cursor = first[first.length - 1]?.cursor;
    expect(first.slice(0, -1).every((p) => p.cursor === undefined)).toBe(true);
    for (let i = 0; i < 3; i += 1) {
      m.addUser({ id: 500 + i, username: `tie${i}@contoso.example`, firstname: 'Tie', lastname: String(i), email: `tie${i}@contoso.example` });
      m.enrol(courseId, 500 + i, { timecreated: 1_433_946_701 });
    }
    m.addUser({ id: 600, username: 'late@contoso.example', firstname: 'Late', lastname: 'Row', email: 'late@contoso.example' });
    m.enrol(courseId, 600, { timecreated: 1_433_946_701 - 300 });
    const next = idsOf(await pagesOf(adapter, cursor, 2));
    expect(next).toEqual(expect.arrayContaining(['moodle:2:500', 'moodle:2:501', 'moodle:2:502', 'moodle:2:600']));
  });
});

describe('moodle adapter error cases', () => {
  it('an expired token (HTTP 200 with an exception body) fails at once naming LMS_TOKEN, without the token', async () => {
    const { moodle: m } = await seeded(0);
    m.expireToken();
    const err = await pagesOf(adapterFor(m)).catch((e: unknown) => e);
    expect(isLmsRequestError(err)).toBe(true);
    expect((err as Error).message).toMatch(/Moodle refused LMS_TOKEN .*accessexception: Access control exception \(Invalid token - token expired/);
    expect((err as Error).message).not.toContain(m.token);
    expect(m.requests()).toHaveLength(1);
  });

  it('a wrong token answered with HTTP 400 (newer Moodle) is recognised the same way', async () => {
    const { moodle: m } = await seeded(0, { errorStatus: 400 });
    const err = await pagesOf(adapterFor(m, { LMS_TOKEN: 'nope' })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Moodle refused LMS_TOKEN \(invalidtoken: Invalid token - token not found\)/);
    expect(m.requests()).toHaveLength(1);
  });

  it('429 and 503 honour Retry-After; a malformed body is read again; one that stays malformed fails clearly', async () => {
    const { moodle: m } = await seeded(1);
    m.failNext(/core_course_get_courses/, 1, 429, 'Too Many Requests', { 'retry-after': '1' });
    m.failNext(/core_enrol_get_enrolled_users/, 1, 503, '<html>maintenance</html>', { 'retry-after': '0' });
    m.malformNext(/core_enrol_get_users_courses/, 1);
    const started = Date.now();
    expect(idsOf(await pagesOf(adapterFor(m)))).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    m.malformNext(/core_enrol_get_enrolled_users/, 100);
    const err = await pagesOf(adapterFor(m)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/moodle core_enrol_get_enrolled_users returned a body that is not JSON/);
  });

  it('a report without the columns it needs is a settings error naming LMS_MOODLE_REPORT_ID', async () => {
    const { moodle: m } = await seeded(0);
    m.addReport(2, ['course', 'email', 'timecompleted']);
    const err = await pagesOf(adapterFor(m, { LMS_MOODLE_REPORT_ID: '2' })).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/LMS_MOODLE_REPORT_ID \(report 2\) lacks the columns "full name with link", "time enrolled"/);
  });

  it('a function the token’s service lacks is a clear error, not retried', async () => {
    const { moodle: m } = await seeded(0);
    m.failNext(/core_enrol_get_users_courses/, 1, 200, JSON.stringify({ exception: 'webservice_access_exception', errorcode: 'accessexception', message: 'Access control exception' }));
    const err = await pagesOf(adapterFor(m)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Moodle refused LMS_TOKEN for core_enrol_get_users_courses/);
  });
});
