/**
 * The oneroster adapter against the OneRoster stand-in (real HTTP: OAuth 2 client
 * credentials, filter/sort/limit/offset, X-Total-Count and Link, imsx error bodies,
 * 401/403/429), seeded from the real roster-hub bundle and the 1EdTech Japan REST samples,
 * then the whole engine from the stand-in (and from a CSV bundle folder) to the Graph
 * stand-in and Azurite.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { isLmsRequestError } from '../../src/lms/http/errors.js';
import { createOneRosterAdapter } from '../../src/lms/oneroster/index.js';
import type { ChangePage, LmsAdapter } from '../../src/lms/types.js';
import type { Enrollment, EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { OneRosterStandIn, type OneRosterObject, type OneRosterStandInOptions } from '../../src/sandbox/lms/oneRosterStandIn.js';
import { LmsHarness, OR_CLIENT_ID, OR_CLIENT_SECRET, csvRowToRest, referenceJson, referencePath } from '../support/lmsHarness.js';

type CsvCollection = 'enrollments' | 'users' | 'classes' | 'courses';

function rosterHub(collection: CsvCollection): OneRosterObject[] {
  const rows = parse(readFileSync(referencePath(`oneroster/csv-1.1-roster-hub/${collection}.csv`)), { bom: true, columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((row) => csvRowToRest(collection, row));
}

/** The roster-hub bundle served over REST; enrollments stamped at `at` (all at one instant: ties). */
function seed(server: OneRosterStandIn, at = '2026-11-01T10:00:00.000Z'): void {
  server.put('users', rosterHub('users'));
  server.put('courses', rosterHub('courses'));
  server.put('classes', rosterHub('classes'));
  server.put('enrollments', rosterHub('enrollments').map((e) => ({ ...e, dateLastModified: at })));
}

const studentIds = (): string[] => rosterHub('enrollments').filter((e) => e['role'] === 'student').map((e) => String(e['sourcedId']));
const emails = (): string[] => rosterHub('users').map((u) => String(u['email']));

function lineItem(id: string, classId: string, dueDate: string): OneRosterObject {
  return { sourcedId: id, status: 'active', dateLastModified: '2026-10-01T00:00:00.000Z', title: `Assignment ${id}`, assignDate: '2026-10-01T00:00:00.000Z', dueDate, class: { sourcedId: classId, type: 'class' }, school: { sourcedId: 'or0001', type: 'org' }, category: { sourcedId: 'cat-1', type: 'category' } };
}

function gradebookResult(id: string, lineItemId: string, classId: string, studentId: string, scoreStatus: string, scoreDate = '2026-11-02'): OneRosterObject {
  return { sourcedId: id, status: 'active', lineItem: { sourcedId: lineItemId, type: 'lineItem' }, student: { sourcedId: studentId, type: 'user' }, class: { sourcedId: classId, type: 'class' }, scoreStatus, score: 8, scoreDate };
}

let server: OneRosterStandIn | undefined;
let harness: LmsHarness<OneRosterStandIn> | undefined;
afterEach(async () => {
  await server?.stop();
  await harness?.close();
  server = undefined;
  harness = undefined;
});

async function start(options: Partial<OneRosterStandInOptions> = {}): Promise<{ server: OneRosterStandIn; adapter: (extra?: Record<string, string>, over?: Partial<ApiLmsSettings>, lookbackMs?: number) => LmsAdapter }> {
  const s = new OneRosterStandIn({ clientId: OR_CLIENT_ID, clientSecret: OR_CLIENT_SECRET, ...options });
  server = s;
  const baseUrl = await s.start();
  return {
    server: s,
    adapter: (extra = {}, over = {}, lookbackMs = 0) =>
      createOneRosterAdapter({
        settings: { adapter: 'oneroster', baseUrl, clientId: OR_CLIENT_ID, clientSecret: OR_CLIENT_SECRET, tokenUrl: s.tokenUrl, extra: { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}', ...extra }, ...over },
        cwd: '.',
        lookbackMs,
        http: { minBackoffMs: 5, maxRetries: 3 },
      }),
  };
}

async function pages(adapter: LmsAdapter, cursor?: string, maxPageSize = 200): Promise<ChangePage[]> {
  const out: ChangePage[] = [];
  for await (const page of adapter.listChanges(cursor === undefined ? {} : { cursor }).byPage({ maxPageSize })) out.push(page);
  return out;
}

function recordsOf(list: readonly ChangePage[]): EnrollmentRecord[] {
  return list.flatMap((p) => p.items.flatMap((i) => (i.kind === 'record' ? [i.record] : [])));
}

describe('oneroster adapter against the OneRoster stand-in', () => {
  it('pages by key on dateLastModified: records sharing a timestamp across page boundaries are all read; one token serves every request', async () => {
    const { server: s, adapter } = await start({ maxLimit: 4 });
    seed(s);
    // Three enrollments per minute: every page boundary (4) falls inside a group that shares a timestamp.
    rosterHub('enrollments').forEach((e, i) => s.update('enrollments', String(e['sourcedId']), {}, `2026-11-01T10:${String(Math.floor(i / 3)).padStart(2, '0')}:00.000Z`));
    const list = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 4);
    const records = recordsOf(list) as Enrollment[];
    expect(records.map((r) => r.enrollmentId).sort()).toEqual(studentIds().sort());
    expect(records.find((r) => r.enrollmentId === 'en0006')).toMatchObject({ learner: { email: 'user03@sample-u.ac.jp' }, course: { id: 'cl0001', title: 'Introduction to Information Processing' }, source: 'assigned', assignmentType: 'required', status: 'notStarted' });
    const enrollmentCalls = s.requests().filter((r) => r.path.endsWith('/rostering/v1p2/enrollments'));
    expect(enrollmentCalls[0]?.query).toEqual({ sort: 'dateLastModified', orderBy: 'asc', limit: '4', offset: '0' });
    // Once per listing: is the sort honoured? (the newest record first when descending, last when ascending)
    expect(enrollmentCalls[1]?.query).toEqual({ sort: 'dateLastModified', orderBy: 'desc', limit: '1', offset: '0' });
    expect(enrollmentCalls[2]?.query).toEqual({ sort: 'dateLastModified', orderBy: 'asc', limit: '1', offset: '29' });
    // The next page starts at the last timestamp read (10:01), skipping the one record already read there.
    expect(enrollmentCalls[3]?.query).toMatchObject({ filter: "dateLastModified>='2026-11-01T10:01:00.000Z'", offset: '1' });
    // Each page's cursor is its last timestamp: safe to store, and a kill resumes from there.
    expect(list.map((p) => JSON.parse(p.cursor ?? '{}').enrollments)).toEqual(['2026-11-01T10:01:00.000Z', '2026-11-01T10:02:00.000Z', '2026-11-01T10:03:00.000Z', '2026-11-01T10:05:00.000Z', '2026-11-01T10:06:00.000Z', '2026-11-01T10:07:00.000Z', '2026-11-01T10:09:00.000Z', '2026-11-01T10:09:00.000Z']);
    expect(s.tokensIssued).toBe(1);
    expect(s.requests().filter((r) => r.path !== '/oauth/token').every((r) => r.headers['authorization'] === 'Bearer (hidden)')).toBe(true);
  });

  it('a bulk load at one instant (every record ties) is read whole by offset', async () => {
    const { server: s, adapter } = await start({ maxLimit: 4 });
    seed(s);
    const list = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 4);
    expect(recordsOf(list).map((r) => r.enrollmentId).sort()).toEqual(studentIds().sort());
    expect(JSON.parse(list.at(-1)?.cursor ?? '{}').enrollments).toBe('2026-11-01T10:00:00.000Z');
  });

  it('a provider that caps `limit` below what is asked, and sends neither Link nor X-Total-Count… is still read to the end', async () => {
    const { server: s, adapter } = await start({ maxLimit: 4, links: false });
    seed(s);
    rosterHub('enrollments').forEach((e, i) => s.update('enrollments', String(e['sourcedId']), {}, `2026-11-01T10:${String(i).padStart(2, '0')}:00.000Z`));
    const list = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 10);
    expect(recordsOf(list).map((r) => r.enrollmentId).sort()).toEqual(studentIds().sort());
    expect(list.length).toBeGreaterThanOrEqual(8);
  });

  it('reads only what changed since the cursor (minus the look-back), and a change that arrives late', async () => {
    const { server: s, adapter } = await start();
    seed(s, '2026-11-01T10:00:00.000Z');
    const first = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }));
    const cursor = first.at(-1)?.cursor;
    expect(JSON.parse(cursor ?? '{}')).toEqual({ v: 1, enrollments: '2026-11-01T10:00:00.000Z' });
    s.update('enrollments', 'en0010', { endDate: '2027-03-31' }, '2026-11-01T11:00:00.000Z');
    // Written by a slow transaction with a time before the cursor, but inside the look-back.
    s.update('enrollments', 'en0011', { endDate: '2027-03-31' }, '2026-11-01T09:30:00.000Z');
    const second = recordsOf(await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }, {}, 3_600_000), cursor)) as Enrollment[];
    expect(second.map((r) => r.enrollmentId).sort()).toEqual(['en0010', 'en0011', ...studentIds().filter((id) => !['en0010', 'en0011'].includes(id))].sort());
    const third = recordsOf(await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), '{"v":1,"enrollments":"2026-11-01T10:30:00.000Z"}')) as Enrollment[];
    expect(third.map((r) => [r.enrollmentId, r.dueAt])).toEqual([['en0010', '2027-03-31T00:00:00.000Z']]);
  });

  it('a provider that ignores sort is read by offset and Link; the cursor moves only at the end', async () => {
    const { server: s, adapter } = await start({ maxLimit: 5, ignoreSort: true });
    seed(s);
    s.update('enrollments', 'en0006', {}, '2026-11-01T12:00:00.000Z');
    s.update('enrollments', 'en0030', {}, '2026-11-01T08:00:00.000Z');
    const list = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 5);
    expect(recordsOf(list).map((r) => r.enrollmentId).sort()).toEqual(studentIds().sort());
    expect(list.slice(0, -1).every((p) => p.cursor === undefined)).toBe(true);
    expect(JSON.parse(list.at(-1)?.cursor ?? '{}').enrollments).toBe('2026-11-01T12:00:00.000Z');
  });

  it('a provider that refuses the filter: the error says to set LMS_ONEROSTER_FULL_PULL, which then reads everything and keeps what changed', async () => {
    const { server: s, adapter } = await start({ brokenFilter: 'reject' });
    seed(s);
    s.update('enrollments', 'en0007', {}, '2026-11-02T10:00:00.000Z');
    const cursor = '{"v":1,"enrollments":"2026-11-02T00:00:00.000Z"}';
    const err = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), cursor).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.statusCode).toBe(400);
    expect((err as Error).message).toMatch(/invalid_filter_field|Filtering is not supported/);
    expect((err as Error).message).toMatch(/LMS_ONEROSTER_FULL_PULL=true/);
    const full = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false', LMS_ONEROSTER_FULL_PULL: 'true' }), cursor);
    expect(recordsOf(full).map((r) => r.enrollmentId)).toEqual(['en0007']);
    expect(s.requests().filter((r) => r.path.endsWith('/enrollments') && r.status === 200).every((r) => r.query['filter'] === undefined)).toBe(true);
  });

  it('progress from the gradebook; a graded result later brings its enrollment back with the new progress', async () => {
    const { server: s } = await start();
    seed(s);
    s.put('lineItems', [lineItem('li-1', 'cl0001', '2026-11-20T17:00:00.000Z'), lineItem('li-2', 'cl0001', '2026-12-04T17:00:00.000Z')]);
    s.put('results', [{ ...gradebookResult('r-1', 'li-1', 'cl0001', 'us0003', 'fully graded'), dateLastModified: '2026-11-02T08:00:00.000Z' }]);
    const started = Date.parse('2026-11-05T00:00:00.000Z');
    const a = createOneRosterAdapter({
      settings: { adapter: 'oneroster', baseUrl: s.origin, clientId: OR_CLIENT_ID, clientSecret: OR_CLIENT_SECRET, tokenUrl: s.tokenUrl, extra: { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}' } },
      cwd: '.',
      lookbackMs: 0,
      now: () => started,
    });
    const first = await pages(a);
    const byId = new Map(recordsOf(first).map((r) => [r.enrollmentId, r]));
    expect(byId.get('en0006')).toMatchObject({ status: 'inProgress', progressPercent: 50, dueAt: '2026-12-04T17:00:00.000Z', updatedAt: '2026-11-02T08:00:00.000Z' });
    expect(byId.get('en0007')).toMatchObject({ status: 'notStarted', progressPercent: 0 });
    // The first listing read every enrollment with its results: the results stream starts when it began.
    const cursor = first.at(-1)?.cursor;
    expect(JSON.parse(cursor ?? '{}')).toEqual({ v: 1, enrollments: '2026-11-01T10:00:00.000Z', results: '2026-11-05T00:00:00.000Z' });

    // `class` is optional on a result (ResultDType): this one names only its line item.
    const { class: _class, ...withoutClass } = gradebookResult('r-2', 'li-2', 'cl0001', 'us0003', 'submitted', '2026-11-06');
    s.put('results', [{ ...withoutClass, dateLastModified: '2026-11-06T09:00:00.000Z' }]);
    s.clearRequests();
    const second = await pages(a, cursor);
    // The enrollments at the mark itself are read again (>=); then the results stream brings en0006 back.
    expect(recordsOf(second.slice(0, -1)).every((r) => r.updatedAt <= '2026-11-02T08:00:00.000Z' || r.enrollmentId === 'en0006')).toBe(true);
    expect(recordsOf(second.slice(-1))).toEqual([expect.objectContaining({ enrollmentId: 'en0006', status: 'completed', progressPercent: 100, completedAt: '2026-11-06T00:00:00.000Z', updatedAt: '2026-11-06T09:00:00.000Z' })]);
    expect(s.requests().some((r) => r.path.endsWith('/gradebook/v1p2/results') && r.query['filter'] === "dateLastModified>='2026-11-05T00:00:00.000Z'")).toBe(true);
    expect(s.requests().some((r) => r.query['filter'] === "user.sourcedId='us0003' AND class.sourcedId='cl0001'")).toBe(true);
    expect(s.requests().some((r) => r.path.endsWith('/gradebook/v1p2/lineItems/li-2'))).toBe(true);
    expect(JSON.parse(second.at(-1)?.cursor ?? '{}')).toEqual({ v: 1, enrollments: '2026-11-01T10:00:00.000Z', results: '2026-11-06T09:00:00.000Z' });
  });

  it('tobedeleted enrollments (and enrollments of a tobedeleted class) are withdrawals', async () => {
    const { server: s, adapter } = await start();
    seed(s);
    s.update('enrollments', 'en0008', { status: 'tobedeleted' }, '2026-11-03T00:00:00.000Z');
    s.update('classes', 'cl0005', { status: 'tobedeleted' });
    const records = recordsOf(await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' })));
    const withdrawn = records.filter((r) => r.deleted === true).map((r) => r.enrollmentId).sort();
    const inClass5 = rosterHub('enrollments').filter((e) => e['role'] === 'student' && (e['class'] as { sourcedId: string }).sourcedId === 'cl0005').map((e) => String(e['sourcedId']));
    expect(withdrawn).toEqual(['en0008', ...inClass5].sort());
  });

  it('reads one enrollment by id; unknown and teacher enrollments are undefined', async () => {
    const { server: s, adapter } = await start();
    seed(s);
    const item = await adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }).getEnrollment('en0012');
    expect(item?.kind === 'record' && item.record.enrollmentId).toBe('en0012');
    expect(await adapter().getEnrollment('missing')).toBeUndefined();
    expect(await adapter().getEnrollment('en0001')).toBeUndefined();
  });

  it('1.1: the single /ims/oneroster/v1p1 base path, the Japan REST sample, no scope', async () => {
    const { server: s, adapter } = await start({ version: '1.1' });
    for (const collection of ['users', 'classes', 'enrollments'] as const) s.put(collection, referenceJson<Record<string, OneRosterObject[]>>(`oneroster/rest-1.2-1edtech-japan/${collection}.json`)[collection] ?? []);
    const records = recordsOf(await pages(adapter({ LMS_ONEROSTER_VERSION: '1.1' })));
    expect(records).toEqual([expect.objectContaining({ enrollmentId: '401322ff-f51e-445d-948e-5d27166ae97c', course: expect.objectContaining({ title: '1年1組' }) })]);
    expect(s.requests().filter((r) => r.path.startsWith('/ims/')).every((r) => r.path.startsWith('/ims/oneroster/v1p1/'))).toBe(true);
  });
});

describe('oneroster adapter error cases', () => {
  it('an expired token is renewed once and the request succeeds', async () => {
    let clock = Date.parse('2026-11-01T12:00:00.000Z');
    const { server: s, adapter } = await start({ tokenLifetimeSeconds: 3600, now: () => clock });
    seed(s);
    const a = adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' });
    expect(recordsOf(await pages(a, undefined, 10))).toHaveLength(25);
    // The provider's clock runs ahead: the cached token has expired there.
    clock += 2 * 3600_000;
    expect(recordsOf(await pages(a, undefined, 10))).toHaveLength(25);
    expect(s.tokensIssued).toBe(2);
    expect(s.requests().filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('a revoked token mid-listing is renewed; wrong client credentials fail clearly without the secret', async () => {
    const { server: s, adapter } = await start({ maxLimit: 5 });
    seed(s);
    const listing = adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }).listChanges().byPage({ maxPageSize: 5 });
    const head = await listing.next();
    s.revokeTokens();
    let count = head.done === true ? 0 : head.value.items.length;
    for await (const page of listing) count += page.items.length;
    expect(count).toBe(25);

    const err = await pages(adapter({}, { clientSecret: 'not-the-secret' })).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.statusCode).toBe(401);
    expect((err as Error).message).toMatch(/LMS_TOKEN_URL\) refused the client credentials \(LMS_CLIENT_ID, LMS_CLIENT_SECRET\): invalid_client/);
    expect((err as Error).message).not.toContain('not-the-secret');
    // Basic first, then the form body (RFC 6749 §2.3.1), then the failure.
    expect(s.requests().filter((r) => r.path === '/oauth/token' && r.status === 401)).toHaveLength(2);
  });

  it('403 on the gradebook (scope not granted) names the fix; 401 on a resource fails after one renewal', async () => {
    const { server: s, adapter } = await start();
    seed(s);
    const err = await pages(adapter({ LMS_ONEROSTER_SCOPE: 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly' })).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.statusCode).toBe(403);
    expect((err as Error).message).toMatch(/gradebook.readonly scope, or set LMS_ONEROSTER_GRADEBOOK=false/);
  });

  it('429 and 503 with Retry-After are waited out; a malformed page fails the listing', async () => {
    const { server: s, adapter } = await start();
    seed(s);
    s.inject({ kind: 'throttle', retryAfterSeconds: 1 }, 1, '/enrollments');
    s.inject({ kind: 'unavailable', retryAfterSeconds: 0 }, 1, '/users/');
    const startedAt = Date.now();
    expect(recordsOf(await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' })))).toHaveLength(25);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    expect(s.requests().filter((r) => r.status === 429 || r.status === 503)).toHaveLength(2);
    s.inject({ kind: 'malformed' }, 1, '/enrollments');
    const err = await pages(adapter()).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.code).toBe('malformedResponse');
  });

  it('never follows a Link to another host with the bearer token', async () => {
    const { server: s, adapter } = await start({ maxLimit: 5, ignoreSort: true, linkOrigin: 'http://127.0.0.2:9' });
    seed(s);
    s.update('enrollments', 'en0030', {}, '2026-11-01T08:00:00.000Z');
    const err = await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 5).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.code).toBe('foreignLink');
  });

  it('the rate limit of the provider (a request window) is honoured through Retry-After', async () => {
    const { server: s, adapter } = await start({ maxLimit: 10 });
    seed(s);
    s.rateLimit = { requests: 20, windowMs: 1000 };
    expect(recordsOf(await pages(adapter({ LMS_ONEROSTER_GRADEBOOK: 'false' }), undefined, 10))).toHaveLength(25);
    expect(s.requests().some((r) => r.status === 429)).toBe(true);
  });
});

describe('the OneRoster course catalog (classes, with their courses)', () => {
  it('REST: every class becomes a catalog course, enrolled or not, with subjects as tags; a tobedeleted class is retired', async () => {
    harness = await LmsHarness.oneRoster({ maxLimit: 10 });
    seed(harness.lms);
    harness.addLearners(...emails());
    harness.lms.put('courses', [{ sourcedId: 'co-extra', status: 'active', dateLastModified: '2026-11-01T00:00:00.000Z', title: 'Statistics', courseCode: 'ST1', subjects: ['Mathematics'] }]);
    harness.lms.put('classes', [{ sourcedId: 'cl-extra', status: 'active', dateLastModified: '2026-11-03T00:00:00.000Z', title: 'Statistics, evening', classCode: 'ST1-E', classType: 'scheduled', subjects: ['Statistics'], course: { sourcedId: 'co-extra', type: 'course' }, school: { sourcedId: 'or0001', type: 'org' }, terms: [] }]);
    const env = { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}', LMS_ONEROSTER_GRADEBOOK: 'false' };
    const first = await harness.run({ pageSize: 10 }, env);
    expect(first.catalog).toMatchObject({ created: rosterHub('classes').length + 1, complete: true, failed: 0 });
    // The catalog's own cursor: the latest class dateLastModified (the stand-in stamps what it stores).
    expect(first.catalog?.cursor.after).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const extra = harness.sync.standIn.contents().find((c) => c.externalId === 'cl-extra');
    expect(extra).toMatchObject({ title: 'Statistics, evening', description: 'ST1-E (Statistics)', contentWebUrl: 'https://lms.example.edu/classes/cl-extra', additionalTags: ['Statistics', 'Mathematics'], isActive: true });
    const paths = harness.lms.requests().map((r) => r.path);
    expect(paths.some((p) => p.endsWith('/rostering/v1p2/classes'))).toBe(true);
    expect(paths.some((p) => p.endsWith('/rostering/v1p2/courses'))).toBe(true);

    harness.lms.update('classes', 'cl-extra', { status: 'tobedeleted' });
    const retired = await harness.run({ pageSize: 10 });
    expect(retired.catalog).toMatchObject({ retired: 1, created: 0, updated: 0 });
    expect(harness.sync.standIn.contents().find((c) => c.externalId === 'cl-extra')?.isActive).toBe(false);
  });

  it('CSV bundle: classes.csv (bulk) is a complete listing: a class gone from it is retired; a delta bundle retires nothing by absence', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'or-bundle-'));
    cpSync(referencePath('oneroster/csv-1.1-roster-hub'), folder, { recursive: true });
    harness = await LmsHarness.oneRoster();
    harness.addLearners(...emails());
    const env = { LMS_FILE_PATH: folder, LMS_BASE_URL: '', LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}' };
    const first = await harness.run({}, env);
    expect(first.catalog).toMatchObject({ created: rosterHub('classes').length, complete: true });
    expect(harness.sync.standIn.contents().find((c) => c.externalId === 'cl0002')).toMatchObject({ title: 'Introduction to Information Processing', description: 'C402', isActive: true });

    const classes = readFileSync(join(folder, 'classes.csv'), 'utf8').split('\n');
    writeFileSync(join(folder, 'classes.csv'), classes.filter((line) => !line.startsWith('"cl0002"')).join('\n'));
    const manifest = readFileSync(join(folder, 'manifest.csv'), 'utf8');
    writeFileSync(join(folder, 'manifest.csv'), manifest.replace('"file.classes","bulk"', '"file.classes","delta"'));
    const delta = await harness.run();
    expect(delta.catalog).toMatchObject({ retired: 0, complete: false });

    writeFileSync(join(folder, 'manifest.csv'), manifest);
    const bulk = await harness.run();
    expect(bulk.catalog).toMatchObject({ retired: 1, complete: true });
    expect(harness.sync.standIn.contents().find((c) => c.externalId === 'cl0002')?.isActive).toBe(false);
    rmSync(folder, { recursive: true, force: true });
  });
});

describe('the engine from OneRoster to Viva Learning', () => {
  it('first sync exact, re-sync writes nothing, a graded result propagates, a withdrawal deletes', async () => {
    harness = await LmsHarness.oneRoster({ maxLimit: 10 });
    seed(harness.lms);
    harness.addLearners(...emails());
    harness.lms.put('lineItems', [lineItem('li-1', 'cl0001', '2026-11-20T17:00:00.000Z'), lineItem('li-2', 'cl0001', '2026-12-04T17:00:00.000Z')]);
    const env = { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}' };

    const first = await harness.run({ pageSize: 10 }, env);
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ created: 25, failed: 0 });
    const activities = harness.sync.activitiesByExternalId();
    expect([...activities.keys()].sort()).toEqual(studentIds().sort());
    expect(activities.get('en0006')?.[0]).toMatchObject({ '@odata.type': '#microsoft.graph.learningAssignment', status: 'notStarted', assignmentType: 'required', learnerUserId: harness.sync.userId('user03@sample-u.ac.jp') });
    expect(harness.sync.standIn.contents()).toHaveLength(5);

    harness.sync.standIn.resetStats();
    const again = await harness.run({ pageSize: 10 });
    expect(again.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    expect(harness.sync.standIn.stats().writes).toBe(0);

    harness.lms.put('results', [gradebookResult('r-1', 'li-1', 'cl0001', 'us0003', 'fully graded')]);
    harness.lms.update('enrollments', 'en0008', { status: 'tobedeleted' });
    const changed = await harness.run({ pageSize: 10 });
    expect(changed.counts).toMatchObject({ updated: 1, deleted: 1, created: 0, failed: 0 });
    const after = harness.sync.activitiesByExternalId();
    expect(after.get('en0006')?.[0]).toMatchObject({ status: 'inProgress', completionPercentage: 50 });
    expect(after.has('en0008')).toBe(false);
  });

  it('a run stopped after its first page resumes from the stored cursor and ends exact', async () => {
    harness = await LmsHarness.oneRoster({ maxLimit: 4 });
    seed(harness.lms);
    rosterHub('enrollments').forEach((e, i) => harness?.lms.update('enrollments', String(e['sourcedId']), {}, `2026-11-01T10:${String(i).padStart(2, '0')}:00.000Z`));
    harness.addLearners(...emails());
    const env = { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}', LMS_ONEROSTER_GRADEBOOK: 'false' };
    const controller = new AbortController();
    const stopped = await harness.run({ pageSize: 4, abortSignal: controller.signal, onProgress: (p) => p.pages === 2 && controller.abort(new Error('killed')) }, env).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(Error);
    const saved = (await (await harness.sync.state()).cursor.get()).value;
    expect(JSON.parse(saved ?? '{}').enrollments).toBe('2026-11-01T10:07:00.000Z');
    const resumed = await harness.run({ pageSize: 4 });
    expect(resumed.cursor.before).toBe(saved);
    expect([...harness.sync.activitiesByExternalId().keys()].sort()).toEqual(studentIds().sort());
    expect([...harness.sync.activitiesByExternalId().values()].every((list) => list.length === 1)).toBe(true);
  });

  it('`viva-sync sync --dry-run` prints the plan; a CSV bundle folder syncs the same way', async () => {
    harness = await LmsHarness.oneRoster();
    seed(harness.lms);
    harness.addLearners(...emails());
    const env = { LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/classes/{classSourcedId}', LMS_ONEROSTER_GRADEBOOK: 'false' };
    const dry = await harness.cli(['sync', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run');
    expect(dry.stdout).toContain('would POST create activity: en0006');
    expect(dry.stdout).toContain('would PATCH upsert content: cl0001');
    expect(`${dry.stdout}${dry.stderr}`).not.toContain(OR_CLIENT_SECRET);
    expect(harness.sync.standIn.stats().total).toBe(0);

    const bundle = await harness.run({}, { ...env, LMS_FILE_PATH: referencePath('oneroster/csv-1.1-roster-hub'), LMS_BASE_URL: '', LMS_ONEROSTER_GRADEBOOK: '' });
    expect(bundle.counts).toMatchObject({ created: 25, failed: 0 });
  });

  it('exits 2 naming the setting when the CSV bundle has no course URL', async () => {
    harness = await LmsHarness.oneRoster();
    const result = await harness.cli(['sync'], { LMS_FILE_PATH: referencePath('oneroster/csv-1.1-roster-hub') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('LMS_ONEROSTER_COURSE_URL is required');
  });
});
