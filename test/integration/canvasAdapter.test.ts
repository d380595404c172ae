import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createCanvasAdapter } from '../../src/lms/canvas/index.js';
import type { ChangePage, LmsAdapter, SourceItem } from '../../src/lms/types.js';
import { isLmsRequestError } from '../../src/lms/http/errors.js';
import { CanvasStandIn, loadCanvasReference, seedCanvasReference, type CanvasReference } from '../../src/sandbox/lms/canvasStandIn.js';
import { stableGuid } from '../../src/sandbox/tenant.js';
import { activitySummary, addLearners, apiSyncHarness, referenceDataDir } from '../support/restLmsHarness.js';
import type { SyncHarness } from '../support/syncHarness.js';

let ref: CanvasReference;
beforeAll(() => {
  ref = loadCanvasReference(referenceDataDir);
});

let canvas: CanvasStandIn | undefined;
let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  await canvas?.stop();
  harness = undefined;
  canvas = undefined;
});

const fastHttp = { minBackoffMs: 5, maxBackoffMs: 20, requestTimeoutMs: 5_000, maxPaceMs: 50 } as const;

/**
 * The captured course (1383418: one student, one teacher) plus synthetic students cloned from
 * the captured student's record (new ids and addresses; marked synthetic), and the other
 * captured courses (no enrollments).
 */
async function seeded(extraStudents = 4, options: ConstructorParameters<typeof CanvasStandIn>[0] = {}): Promise<{ canvas: CanvasStandIn; courseId: number; student: Record<string, unknown>; emails: string[] }> {
  const standIn = new CanvasStandIn(options);
  const { courseId } = seedCanvasReference(standIn, ref);
  const student = ref.enrollments.find((e) => e['type'] === 'StudentEnrollment') ?? {};
  const emails = [String((student['user'] as Record<string, unknown>)['login_id'])];
  for (let i = 1; i <= extraStudents; i += 1) {
    const userId = 9_000_000 + i;
    const email = `synthetic.learner${i}@contoso.example`;
    emails.push(email);
    standIn.addEnrollment({
      ...student,
      id: 30_000_000 + i,
      user_id: userId,
      last_activity_at: i % 2 === 0 ? null : student['last_activity_at'],
      user: { id: userId, name: `Synthetic Learner ${i}`, sortable_name: `Learner ${i}, Synthetic`, short_name: `Synthetic Learner ${i}`, login_id: email },
    });
  }
  await standIn.start();
  canvas = standIn;
  return { canvas: standIn, courseId, student, emails };
}

function adapterFor(standIn: CanvasStandIn, env: Record<string, string> = {}): LmsAdapter {
  const config = loadConfig({ VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'canvas', LMS_BASE_URL: standIn.baseUrl, LMS_TOKEN: standIn.token, AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env }, { cwd: '/nonexistent' });
  if (config.lms.adapter === 'file') throw new Error('unexpected');
  return createCanvasAdapter({ settings: config.lms, cwd: '.', lookbackMs: 0, http: fastHttp });
}

async function pagesOf(adapter: LmsAdapter, cursor?: string, maxPageSize = 2): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of adapter.listChanges(cursor !== undefined ? { cursor } : {}).byPage({ maxPageSize })) pages.push(page);
  return pages;
}

function records(pages: readonly ChangePage[]): SourceItem[] {
  return pages.flatMap((p) => p.items);
}

describe('canvas adapter → engine → Graph stand-in', () => {
  it('first sync exact, re-sync no writes, a progress change propagates, a deletion withdraws', async () => {
    const { canvas: c, courseId, student, emails } = await seeded(4);
    harness = await apiSyncHarness('canvas', c.baseUrl, c.token);
    addLearners(harness, emails);

    const first = await harness.run({ pageSize: 2 });
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ read: 5, created: 5, failed: 0 });
    const activities = activitySummary(harness);
    expect([...activities.keys()].sort()).toEqual(['canvas:23221371', 'canvas:30000001', 'canvas:30000002', 'canvas:30000003', 'canvas:30000004']);
    // The captured student: 1 of 2 module requirements met (docs example), so in progress, 50 %.
    expect(activities.get('canvas:23221371')).toMatchObject({ status: 'inProgress', percent: 50, learner: stableGuid('bla@gmail.com'), count: 1 });
    // A synthetic student without activity or progress has not started.
    expect(activities.get('canvas:30000002')).toMatchObject({ status: 'notStarted', percent: 0 });
    // The enrolled course, and (SYNC_CATALOG=all) the account's other captured courses.
    expect(harness.standIn.contents().map((content) => content.externalId)).toContain(`canvas:course:${courseId}`);
    expect((first.catalog?.created ?? 0) + (first.catalog?.retired ?? 0)).toBe(harness.standIn.contents().length);
    expect(first.catalog?.complete).toBe(true);
    expect(first.cursor.after).toMatch(/"done":true/);

    harness.standIn.resetStats();
    const again = await harness.run({ pageSize: 2 });
    expect(again.counts).toMatchObject({ read: 5, created: 0, updated: 0, deleted: 0, unchanged: 5 });
    expect(harness.standIn.stats().writes).toBe(0);

    // The second docs row: every requirement met; module progress does not touch the enrollment row.
    c.setProgress(courseId, Number(student['user_id']), { requirement_completed_count: 2, completed_at: '2021-08-10T16:26:08Z' });
    c.updateEnrollment(30_000_003, { enrollment_state: 'deleted' });
    harness.standIn.resetStats();
    const changed = await harness.run({ pageSize: 2 });
    expect(changed.counts).toMatchObject({ updated: 1, deleted: 1, created: 0, failed: 0 });
    const after = activitySummary(harness);
    expect(after.get('canvas:23221371')).toMatchObject({ status: 'completed', percent: 100, completed: '2021-08-10T16:26:08.000Z' });
    expect(after.has('canvas:30000003')).toBe(false);
    expect(after.size).toBe(4);
  });

  it('viva-sync sync --dry-run against the stand-in prints the planned calls and writes nothing', async () => {
    const { canvas: c, emails } = await seeded(1);
    harness = await apiSyncHarness('canvas', c.baseUrl, c.token);
    addLearners(harness, emails);
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true }, env: harness.env, cwd: harness.dir };
    expect(await runCli(['sync', '--dry-run'], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('Dry run');
    expect(text).toContain("would PATCH upsert content: canvas:course:1383418");
    expect(text).toContain('would POST create activity: canvas:23221371');
    expect(text).toContain('would POST create activity: canvas:30000001');
    expect(text).not.toContain(c.token);
    expect(harness.standIn.stats().total).toBe(0);
  });
});

describe('canvas adapter against the stand-in', () => {
  it('lists the account catalog with teachers, public description and image; concluded, unpublished or deleted courses are retired', async () => {
    const { canvas: c, emails } = await seeded(1);
    c.addCourse({ id: 7, name: 'Data literacy', course_code: 'DATA-101', workflow_state: 'available', locale: 'en-GB', public_description: '<p>Read <b>charts</b> &amp; tables</p>', teachers: [{ id: 1, display_name: 'Ada Lovelace' }], image_download_url: 'https://canvas.example/img/7.png' });
    c.addCourse({ id: 8, name: 'Ended course', workflow_state: 'available', end_at: '2020-01-01T00:00:00Z' });
    c.addCourse({ id: 9, name: 'Draft', workflow_state: 'unpublished' });
    const listed = [];
    for await (const item of adapterFor(c).listCatalog?.() ?? []) listed.push(item);
    const byId = new Map(listed.flatMap((i) => (i.kind === 'course' ? [[i.course.id, i.course] as const] : [])));
    expect(byId.has('canvas:course:9')).toBe(false);
    expect(byId.get('canvas:course:8')?.active).toBe(false);
    expect(byId.get('canvas:course:7')).toMatchObject({ title: 'Data literacy', url: `${c.baseUrl}/courses/7`, language: 'en-GB', description: 'Read charts & tables', contributors: ['Ada Lovelace'], additionalTags: ['DATA-101'], thumbnailUrl: 'https://canvas.example/img/7.png', active: true });
    expect(c.requests().map((r) => r.url).find((u) => u.startsWith('/api/v1/accounts/self/courses') && u.includes('teachers'))).toMatch(/state%5B%5D=available&state%5B%5D=completed/);

    harness = await apiSyncHarness('canvas', c.baseUrl, c.token);
    addLearners(harness, emails);
    await harness.run({ pageSize: 2 });
    expect(harness.standIn.contents().find((x) => x.externalId === 'canvas:course:7')).toMatchObject({ contributors: ['Ada Lovelace'], isActive: true });
    expect(harness.standIn.contents().find((x) => x.externalId === 'canvas:course:8')?.isActive).toBe(false);

    // Concluded in Canvas, then deleted: both retired, never deleted in Viva Learning.
    c.addCourse({ id: 7, name: 'Data literacy', course_code: 'DATA-101', workflow_state: 'completed', locale: 'en-GB' });
    const concluded = await harness.run({ pageSize: 2 });
    expect(concluded.catalog).toMatchObject({ retired: 1 });
    expect(harness.standIn.contents().find((x) => x.externalId === 'canvas:course:7')?.isActive).toBe(false);
    c.addCourse({ id: 7, name: 'Data literacy', workflow_state: 'available' });
    expect((await harness.run({ pageSize: 2 })).catalog).toMatchObject({ updated: 1 });
    c.addCourse({ id: 7, name: 'Data literacy', workflow_state: 'deleted' });
    expect((await harness.run({ pageSize: 2 })).catalog).toMatchObject({ retired: 1 });
    expect(harness.standIn.contents().find((x) => x.externalId === 'canvas:course:7')?.isActive).toBe(false);
  });

  it('follows Link pages, leaves teachers out, yields deleted enrollments as withdrawals and walks only active courses', async () => {
    const { canvas: c } = await seeded(3);
    c.updateEnrollment(30_000_002, { enrollment_state: 'deleted' });
    c.addCourse({ id: 5, name: 'Old course', workflow_state: 'completed' });
    c.addEnrollment({ id: 99, course_id: 5, user_id: 1, type: 'StudentEnrollment', enrollment_state: 'active', updated_at: '2020-01-01T00:00:00Z', created_at: '2020-01-01T00:00:00Z', user: { id: 1, login_id: 'x@contoso.example' } });
    const pages = await pagesOf(adapterFor(c));
    expect(pages).toHaveLength(2);
    const items = records(pages);
    expect(items.map((i) => (i.kind === 'record' ? i.record.enrollmentId : i.key))).toEqual(['canvas:23221371', 'canvas:30000001', 'canvas:30000002', 'canvas:30000003']);
    expect(items[2]).toMatchObject({ kind: 'record', record: { enrollmentId: 'canvas:30000002', deleted: true } });
    const paths = c.requests().map((r) => r.url);
    expect(paths[0]).toMatch(/^\/api\/v1\/accounts\/self\/courses\?state%5B%5D=available/);
    expect(paths.some((p) => p.startsWith('/api/v1/courses/5/'))).toBe(false);
    expect(paths.filter((p) => p.includes('/enrollments?')).every((p) => p.includes('state%5B%5D=deleted') && p.includes('type%5B%5D=StudentEnrollment'))).toBe(true);
  });

  it('resumes a stopped pass from the stored cursor without skipping or repeating a page, and a finished pass starts over', async () => {
    const { canvas: c } = await seeded(6);
    c.addCourse({ id: 2_000_000, name: 'Second course', requirementCount: 0 });
    c.addEnrollment({ id: 77, course_id: 2_000_000, user_id: 42, type: 'StudentEnrollment', enrollment_state: 'active', updated_at: '2024-05-01T10:00:00Z', created_at: '2024-05-01T09:00:00Z', last_activity_at: null, user: { id: 42, login_id: 'second@contoso.example' } });
    const adapter = adapterFor(c);
    const all = await pagesOf(adapter);
    const ids = records(all).map((i) => (i.kind === 'record' ? i.record.enrollmentId : i.key));
    expect(ids).toHaveLength(8);
    // Killed after page 2: the engine stored page 2's cursor.
    const resumed = await pagesOf(adapter, all[1]?.cursor);
    expect(records(resumed).map((i) => (i.kind === 'record' ? i.record.enrollmentId : i.key))).toEqual(ids.slice(4));
    // After the last page of the first course, only the second course remains.
    const firstCourseEnd = all.find((p) => p.cursor?.includes('"after"'));
    expect(records(await pagesOf(adapter, firstCourseEnd?.cursor)).map((i) => (i.kind === 'record' ? i.record.enrollmentId : i.key))).toEqual(['canvas:77']);
    // A completed pass marker starts a new pass over everything; each page's cursor is JSON the engine stores.
    expect(all[all.length - 1]?.cursor).toMatch(/"done":true/);
    expect(records(await pagesOf(adapter, all[all.length - 1]?.cursor))).toHaveLength(8);
    // byPage continuation tokens resume the same way.
    const token = all[0]?.continuationToken;
    const viaToken: SourceItem[] = [];
    for await (const page of adapter.listChanges().byPage({ continuationToken: token ?? '', maxPageSize: 2 })) viaToken.push(...page.items);
    expect(viaToken).toHaveLength(6);
  });

  it('LMS_COURSE_IDS limits the walk; a course Canvas does not know becomes one dead letter', async () => {
    const { canvas: c, courseId } = await seeded(1);
    const items = records(await pagesOf(adapterFor(c, { LMS_COURSE_IDS: `${courseId}, 4242` })));
    expect(items.filter((i) => i.kind === 'record')).toHaveLength(2);
    expect(items.find((i) => i.kind === 'invalid')).toMatchObject({ key: 'canvas:course:4242', reason: expect.stringContaining('LMS_COURSE_IDS names course 4242') });
    expect(c.requests().some((r) => r.url.includes('/accounts/'))).toBe(false);
  });

  it('fetches one enrollment by id with its progress, and says undefined for an unknown one', async () => {
    const { canvas: c, courseId, student } = await seeded(1);
    const adapter = adapterFor(c);
    const item = await adapter.getEnrollment('canvas:23221371');
    expect(item).toMatchObject({ kind: 'record', record: { enrollmentId: 'canvas:23221371', status: 'inProgress', progressPercent: 50, learner: { id: '5834817', email: 'bla@gmail.com' }, course: { id: `canvas:course:${courseId}`, title: "Trevor's Emporium Extraordinarium", url: `${c.baseUrl}/courses/${courseId}` } } });
    expect(c.requests().map((r) => r.url.split('?')[0])).toEqual(['/api/v1/accounts/self/enrollments/23221371', `/api/v1/courses/${courseId}`, `/api/v1/courses/${courseId}/users/${String(student['user_id'])}/progress`]);
    expect(await adapter.getEnrollment('canvas:1')).toBeUndefined();
    expect(await adapter.getEnrollment('moodle:1:2')).toBeUndefined();
    expect(await adapter.getEnrollment('canvas:23097257')).toBeUndefined(); // the teacher
  });
});

describe('canvas adapter error cases', () => {
  it('an expired token fails at once, naming LMS_TOKEN, without retrying and without the token in the message', async () => {
    const { canvas: c } = await seeded(0);
    c.expireToken();
    const err = await pagesOf(adapterFor(c)).catch((e: unknown) => e);
    expect(isLmsRequestError(err)).toBe(true);
    expect((err as Error).message).toMatch(/Canvas refused LMS_TOKEN \(401 Invalid access token\.\)/);
    expect((err as Error).message).not.toContain(c.token);
    expect(c.requests()).toHaveLength(1);
  });

  it('a missing permission (Canvas answers 401 without WWW-Authenticate) is named as such', async () => {
    const { canvas: c } = await seeded(0);
    c.denyPaths(/bulk_user_progress/);
    const err = await pagesOf(adapterFor(c)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/may not do GET \/api\/v1\/courses\/1383418\/bulk_user_progress .*user not authorized/);
  });

  it('403 Rate Limit Exceeded waits and retries; 429 and 503 honour Retry-After', async () => {
    const { canvas: c } = await seeded(1);
    c.throttleNext(/\/enrollments$/, 3);
    c.failNext(/bulk_user_progress$/, 1, 429, '{"errors":[{"message":"Too many requests"}]}', { 'retry-after': '1' });
    c.failNext(/\/accounts\/self\/courses$/, 1, 503, '<html>Service Unavailable</html>', { 'retry-after': '0' });
    const started = Date.now();
    const items = records(await pagesOf(adapterFor(c)));
    expect(items).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(c.requests().filter((r) => r.status === 403)).toHaveLength(3);
  });

  it('an abort ends a Retry-After wait at once', async () => {
    const { canvas: c } = await seeded(0);
    c.failNext(/\/accounts\/self\/courses$/, 1, 429, 'Rate Limit Exceeded', { 'retry-after': '30' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by the host')), 100);
    const started = Date.now();
    const pending: Promise<unknown> = (async () => {
      for await (const page of adapterFor(c).listChanges({ abortSignal: controller.signal }).byPage()) void page;
    })();
    await expect(pending).rejects.toThrow('stopped by the host');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('slows down when X-Rate-Limit-Remaining runs low, and is never throttled', async () => {
    const { canvas: c } = await seeded(3, { throttle: { bucket: 8, costPerRequest: 1, refillPerSecond: 20 } });
    const config = loadConfig({ VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'canvas', LMS_BASE_URL: c.baseUrl, LMS_TOKEN: c.token, AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    if (config.lms.adapter === 'file') throw new Error('unexpected');
    const adapter = createCanvasAdapter({ settings: config.lms, cwd: '.', lookbackMs: 0, http: { ...fastHttp, lowQuota: 4, refillPerSecond: 20 } });
    const items = records(await pagesOf(adapter, undefined, 1));
    expect(items).toHaveLength(4);
    expect(c.requests().filter((r) => r.status === 403)).toHaveLength(0);
  });

  it('a malformed page is read again; one that stays malformed fails the listing with a clear message', async () => {
    const { canvas: c } = await seeded(1);
    c.malformNext(/\/enrollments$/, 1);
    expect(records(await pagesOf(adapterFor(c)))).toHaveLength(2);
    c.malformNext(/\/enrollments$/, 100);
    const err = await pagesOf(adapterFor(c)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/GET \/api\/v1\/courses\/1383418\/enrollments returned a body that is not JSON/);
  });

  it('an enrollment the mapping refuses is a dead letter with its reason; the rest of the page goes on', async () => {
    const { canvas: c } = await seeded(1);
    c.updateEnrollment(30_000_001, { updated_at: 'yesterday' });
    const items = records(await pagesOf(adapterFor(c)));
    expect(items.find((i) => i.kind === 'invalid')).toMatchObject({ key: 'canvas:30000001', reason: expect.stringContaining('updated_at "yesterday"') });
    expect(items.filter((i) => i.kind === 'record')).toHaveLength(1);
  });
});
