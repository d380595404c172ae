/**
 * OneRoster records → canonical enrollments (pure), from the real REST JSON and CSV rows in
 * shared/reference/data/oneroster, with the quirks they carry. Gradebook data exists in no
 * public sample, so line items and results here are shaped from the official 1.2 Gradebook
 * OpenAPI (LineItemDType, ResultDType).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { parseEnrollment } from '../../src/mapping/enrollment.js';
import { formatCursor, parseCursor } from '../../src/lms/oneroster/cursor.js';
import { readManifest } from '../../src/lms/oneroster/csvBundle.js';
import { gradebookState, toRawRecord, type MappingInput } from '../../src/lms/oneroster/mapping.js';
import { lenientDateTime, readClass, readEnrollment, readLineItem, readResult, readUser, statusOf, type OrLineItem, type OrResult } from '../../src/lms/oneroster/model.js';
import { parseLinkHeader } from '../../src/lms/oneroster/restClient.js';
import { readOneRosterOptions } from '../../src/lms/oneroster/settings.js';
import { parseFilter } from '../../src/sandbox/lms/oneRosterStandIn.js';
import { referenceJson, referencePath } from '../support/lmsHarness.js';

function csv(relativePath: string): Record<string, string>[] {
  return parse(readFileSync(referencePath(relativePath)), { bom: true, columns: true, relax_column_count: true, skip_empty_lines: true }) as Record<string, string>[];
}

const lineItem = (id: string, extra: Partial<OrLineItem> = {}): OrLineItem => ({ sourcedId: id, status: 'active', dateLastModified: '2026-10-01T00:00:00.000Z', classSourcedId: 'cls-1', assignDate: '2026-10-01T00:00:00.000Z', dueDate: undefined, ...extra });
const result = (lineItemId: string, scoreStatus: string, extra: Partial<OrResult> = {}): OrResult => ({
  sourcedId: `r-${lineItemId}`,
  status: 'active',
  dateLastModified: '2026-10-10T00:00:00.000Z',
  lineItemSourcedId: lineItemId,
  studentSourcedId: 'usr-1',
  classSourcedId: 'cls-1',
  scoreStatus,
  scoreDate: '2026-10-09T00:00:00.000Z',
  inProgress: false,
  ...extra,
});

describe('reading OneRoster records leniently', () => {
  it('reads 1.2 REST JSON (1EdTech Japan profile): GUIDRefs, boolean primary, empty roles', () => {
    const [enrollment] = referenceJson<{ enrollments: unknown[] }>('oneroster/rest-1.2-1edtech-japan/enrollments.json').enrollments;
    expect(readEnrollment(enrollment)).toEqual({
      sourcedId: '401322ff-f51e-445d-948e-5d27166ae97c',
      status: 'active',
      dateLastModified: '2023-01-30T05:21:09.691Z',
      userSourcedId: 'fde2a968-1ac9-4c72-96bc-28bb20e3afb8',
      classSourcedId: 'c0935e31-e98a-46d8-bd8b-831a26fcaef5',
      role: 'student',
      beginDate: undefined,
      endDate: undefined,
    });
    const [user] = referenceJson<{ users: unknown[] }>('oneroster/rest-1.2-1edtech-japan/users.json').users;
    expect(readUser(user)).toEqual({ sourcedId: 'fde2a968-1ac9-4c72-96bc-28bb20e3afb8', status: 'active', username: 'てすとたろう', email: undefined });
    const [klass] = referenceJson<{ classes: unknown[] }>('oneroster/rest-1.2-1edtech-japan/classes.json').classes;
    expect(readClass(klass)).toMatchObject({ title: '1年1組', classCode: '0101', courseSourcedId: '1dd2f3c3-fc9c-4e7a-bc58-df2bef4b80f4' });
  });

  it('reads 1.1-shaped JSON with numbers for booleans (libre-oneroster)', () => {
    const enrollments = referenceJson<{ enrollments: unknown[] }>('oneroster/rest-libre-oneroster/enrollments.json').enrollments.map(readEnrollment);
    expect(enrollments.map((e) => [e?.role, e?.beginDate, e?.endDate])).toEqual([
      ['student', undefined, undefined],
      ['teacher', '2012-07-01T00:00:00.000Z', '2013-07-01T00:00:00.000Z'],
    ]);
    const users = referenceJson<{ users: unknown[] }>('oneroster/rest-libre-oneroster/users.json').users.map(readUser);
    expect(users[1]).toEqual({ sourcedId: '002', status: 'active', username: 'test02', email: 'test02@localhost.lan' });
  });

  it('reads CSV rows: columns in any order, empty status (bulk) as active, inactive as tobedeleted, the dataLastModified typo', () => {
    const oat = csv('oneroster/csv-1.1-oat-sa/enrollments.csv').map(readEnrollment);
    expect(oat.map((e) => [e?.sourcedId, e?.classSourcedId, e?.userSourcedId, e?.status])).toEqual([
      ['enrol1', 'class1', 'user1', 'active'],
      ['enrol2', 'class2', 'user1', 'active'],
      ['enrol3', 'class3', 'user2', 'active'],
    ]);
    expect(statusOf('inactive')).toBe('tobedeleted');
    expect(statusOf('')).toBe('active');
    expect(readEnrollment({ sourcedId: 'x', dataLastModified: '2023-05-01T18:25:43.511Z' })?.dateLastModified).toBe('2023-05-01T18:25:43.511Z');
    const classes = csv('oneroster/csv-1.2-moodle-enrol-oneroster/v1p2_full_dataset/classes.csv').map(readClass);
    expect(classes.map((c) => [c?.sourcedId, c?.status])).toEqual([
      ['cls-222-123456', 'active'],
      ['cls-222-123478', 'tobedeleted'],
    ]);
  });

  it('reads dates as ISO, zone-less ones as UTC, and leaves d/m/y (or m/d/y?) ones out', () => {
    expect(lenientDateTime('2017-04-05')).toBe('2017-04-05T00:00:00.000Z');
    expect(lenientDateTime('2017-05-06 08:01:05')).toBe('2017-05-06T08:01:05.000Z');
    expect(lenientDateTime('2023-05-01T18:25:43.511Z')).toBe('2023-05-01T18:25:43.511Z');
    expect(lenientDateTime('1/05/2023')).toBeUndefined();
    expect(lenientDateTime('15/06/2023')).toBeUndefined();
    expect(lenientDateTime('')).toBeUndefined();
  });

  it('reads gradebook objects shaped as the 1.2 Gradebook OpenAPI describes them', () => {
    expect(readResult({ sourcedId: 'r1', status: 'active', dateLastModified: '2026-10-10T00:00:00Z', lineItem: { sourcedId: 'li1', type: 'lineItem' }, student: { sourcedId: 'u1', type: 'user' }, class: { sourcedId: 'c1', type: 'class' }, scoreStatus: 'Fully Graded', scoreDate: '2026-10-09', inProgress: 'false' })).toEqual({
      sourcedId: 'r1',
      status: 'active',
      dateLastModified: '2026-10-10T00:00:00.000Z',
      lineItemSourcedId: 'li1',
      studentSourcedId: 'u1',
      classSourcedId: 'c1',
      scoreStatus: 'fully graded',
      scoreDate: '2026-10-09T00:00:00.000Z',
      inProgress: false,
    });
    expect(readLineItem({ sourcedId: 'li1', status: 'active', class: { sourcedId: 'c1' }, dueDate: '2026-12-01T17:00:00Z' })).toMatchObject({ classSourcedId: 'c1', dueDate: '2026-12-01T17:00:00.000Z' });
  });
});

describe('gradebook → status and progress', () => {
  const items = [lineItem('li1', { dueDate: '2026-11-15T17:00:00.000Z' }), lineItem('li2', { dueDate: '2026-12-01T17:00:00.000Z' }), lineItem('li3')];

  it.each([
    ['no line items', [], [], { status: 'notStarted' }],
    ['line items, no results', items, [], { status: 'notStarted', progressPercent: 0, dueAt: '2026-12-01T17:00:00.000Z' }],
    ['not submitted only', items, [result('li1', 'not submitted')], { status: 'notStarted', progressPercent: 0 }],
    ['one of three fully graded', items, [result('li1', 'fully graded')], { status: 'inProgress', progressPercent: 33, startedAt: '2026-10-09T00:00:00.000Z' }],
    ['partially graded', items, [result('li1', 'partially graded')], { status: 'inProgress', progressPercent: 0 }],
    ['1.2 inProgress flag', items, [result('li1', 'not submitted', { inProgress: true })], { status: 'inProgress', progressPercent: 0 }],
    ['submitted counts as done', items, [result('li1', 'submitted'), result('li2', 'fully graded'), result('li3', 'fully graded', { scoreDate: '2026-10-20T00:00:00.000Z' })], { status: 'completed', progressPercent: 100, completedAt: '2026-10-20T00:00:00.000Z' }],
    ['exempt leaves the denominator', items, [result('li1', 'fully graded'), result('li2', 'exempt'), result('li3', 'fully graded')], { status: 'completed', progressPercent: 100, dueAt: '2026-11-15T17:00:00.000Z' }],
    ['tobedeleted line items and results do not count', [...items.slice(0, 1), lineItem('li9', { status: 'tobedeleted' })], [result('li1', 'fully graded'), result('li9', 'not submitted', { status: 'tobedeleted' })], { status: 'completed', progressPercent: 100 }],
  ] as const)('%s', (_name, lineItems, results, expected) => {
    expect(gradebookState(lineItems, results)).toMatchObject(expected);
  });

  it('updatedAt is the latest change of the line items and results used', () => {
    expect(gradebookState(items, [result('li1', 'fully graded', { dateLastModified: '2026-11-20T08:00:00.000Z' })]).updatedAt).toBe('2026-11-20T08:00:00.000Z');
  });
});

describe('OneRoster → canonical enrollment', () => {
  const [japanEnrollment] = referenceJson<{ enrollments: unknown[] }>('oneroster/rest-1.2-1edtech-japan/enrollments.json').enrollments;
  const [japanClass] = referenceJson<{ classes: unknown[] }>('oneroster/rest-1.2-1edtech-japan/classes.json').classes;
  const base = (over: Partial<MappingInput> = {}): MappingInput => ({
    enrollment: readEnrollment(japanEnrollment) ?? (undefined as never),
    user: { sourcedId: 'fde2a968-1ac9-4c72-96bc-28bb20e3afb8', status: 'active', username: 'taro.test@school.example.jp', email: undefined },
    klass: readClass(japanClass),
    gradebook: undefined,
    assignmentType: 'required',
    courseUrl: (c) => `https://sis.example.jp/classes/${c}`,
    ...over,
  });

  it('an active student enrollment is a required assignment of the class, learner by username when it is an address', () => {
    const mapped = toRawRecord(base());
    expect(mapped.ok).toBe(true);
    const parsed = parseEnrollment(mapped.ok ? mapped.raw : undefined);
    expect(parsed.ok && parsed.enrollment).toEqual({
      enrollmentId: '401322ff-f51e-445d-948e-5d27166ae97c',
      learner: { id: 'fde2a968-1ac9-4c72-96bc-28bb20e3afb8', email: 'taro.test@school.example.jp', upn: 'taro.test@school.example.jp' },
      course: { id: 'c0935e31-e98a-46d8-bd8b-831a26fcaef5', title: '1年1組', url: 'https://sis.example.jp/classes/c0935e31-e98a-46d8-bd8b-831a26fcaef5', description: '0101' },
      source: 'assigned',
      assignmentType: 'required',
      status: 'notStarted',
      updatedAt: '2023-01-30T05:21:09.691Z',
    });
  });

  it('progress, dates and the later of enrollment and gradebook changes', () => {
    const gradebook = gradebookState([lineItem('li1', { dueDate: '2026-12-01T17:00:00.000Z' }), lineItem('li2')], [result('li1', 'fully graded')]);
    const mapped = toRawRecord(base({ gradebook, enrollment: { ...(readEnrollment(japanEnrollment) ?? (undefined as never)), beginDate: '2026-09-01T00:00:00.000Z', endDate: '2027-06-30T00:00:00.000Z' } }));
    expect(mapped.ok && mapped.raw).toMatchObject({ status: 'inProgress', progressPercent: 50, assignedAt: '2026-09-01T00:00:00.000Z', dueAt: '2026-12-01T17:00:00.000Z', startedAt: '2026-10-09T00:00:00.000Z', updatedAt: '2026-10-10T00:00:00.000Z' });
    const noItems = toRawRecord(base({ enrollment: { ...(readEnrollment(japanEnrollment) ?? (undefined as never)), endDate: '2027-06-30T00:00:00.000Z' } }));
    expect(noItems.ok && noItems.raw['dueAt']).toBe('2027-06-30T00:00:00.000Z');
  });

  it('tobedeleted (the enrollment or its class) is a withdrawal that needs nothing else', () => {
    const enrollment = { ...(readEnrollment(japanEnrollment) ?? (undefined as never)), status: 'tobedeleted' as const };
    expect(toRawRecord(base({ enrollment, user: undefined, klass: undefined }))).toEqual({ ok: true, raw: { enrollmentId: '401322ff-f51e-445d-948e-5d27166ae97c', updatedAt: '2023-01-30T05:21:09.691Z', deleted: true } });
    const deletedClass = { ...(readClass(japanClass) ?? (undefined as never)), status: 'tobedeleted' as const };
    expect(toRawRecord(base({ klass: deletedClass, user: undefined })).ok && toRawRecord(base({ klass: deletedClass })).ok).toBe(true);
    const withdrawn = toRawRecord(base({ klass: deletedClass }));
    expect(withdrawn.ok && withdrawn.raw['deleted']).toBe(true);
  });

  it('says what is missing: the user, the class, a date', () => {
    expect(toRawRecord(base({ user: undefined }))).toMatchObject({ ok: false, reason: 'user fde2a968-1ac9-4c72-96bc-28bb20e3afb8 was not found' });
    expect(toRawRecord(base({ klass: undefined }))).toMatchObject({ ok: false, reason: 'class c0935e31-e98a-46d8-bd8b-831a26fcaef5 was not found' });
    const undated = { ...(readEnrollment(japanEnrollment) ?? (undefined as never)), dateLastModified: undefined };
    expect(toRawRecord(base({ enrollment: undated }))).toMatchObject({ ok: false, reason: 'the enrollment has no readable dateLastModified' });
    expect(toRawRecord(base({ enrollment: undated, fallbackUpdatedAt: '2026-11-01T00:00:00.000Z' })).ok).toBe(true);
  });
});

describe('LMS_ONEROSTER_* settings', () => {
  const rest = (extra: Record<string, string> = {}, over: Partial<ApiLmsSettings> = {}): ApiLmsSettings => ({
    adapter: 'oneroster',
    baseUrl: 'https://sis.example.edu',
    clientId: 'id',
    clientSecret: 'secret-value',
    tokenUrl: 'https://sis.example.edu/oauth/token',
    extra,
    ...over,
  });
  const problems = (settings: ApiLmsSettings): string[] => {
    try {
      readOneRosterOptions(settings, process.cwd());
      return [];
    } catch (err) {
      if (!isConfigError(err)) throw err;
      return err.problems.map((p) => `${p.setting} ${p.problem}`);
    }
  };

  it('defaults: 1.2, incremental, gradebook on, required, the roster-core and gradebook scopes, the class resource as course URL', () => {
    const options = readOneRosterOptions(rest(), process.cwd());
    expect(options).toMatchObject({ mode: 'rest', version: '1.2', fullPull: false, gradebook: true, assignmentType: 'required', scope: 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly' });
    expect(options.courseUrl('cls 1', undefined)).toBe('https://sis.example.edu/ims/oneroster/rostering/v1p2/classes/cls%201');
    const v11 = readOneRosterOptions(rest({ LMS_ONEROSTER_VERSION: '1.1', LMS_ONEROSTER_GRADEBOOK: 'false', LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/course/{courseSourcedId}?class={classSourcedId}' }), process.cwd());
    expect(v11).toMatchObject({ version: '1.1', gradebook: false, scope: '' });
    expect(v11.courseUrl('c1', 'k1')).toBe('https://lms.example.edu/course/k1?class=c1');
  });

  it('names every bad setting, never a secret', () => {
    const found = problems(rest({ LMS_ONEROSTER_VERSION: '2', LMS_ONEROSTER_FULL_PULL: 'maybe', LMS_ONEROSTER_COURSE_URL: 'https://lms.example.edu/course', LMS_ASSIGNMENT_TYPE: 'x', LMS_ONEROSTER_SCOPES: 'y' }, { clientSecret: undefined }));
    expect(found).toEqual([
      expect.stringMatching(/^LMS_ONEROSTER_SCOPES is not a OneRoster adapter setting/),
      expect.stringMatching(/^LMS_ASSIGNMENT_TYPE must be required or recommended/),
      expect.stringMatching(/^LMS_ONEROSTER_VERSION must be 1.2 or 1.1/),
      expect.stringMatching(/^LMS_ONEROSTER_COURSE_URL must contain \{classSourcedId\}/),
      expect.stringMatching(/^LMS_ONEROSTER_FULL_PULL must be true or false/),
      expect.stringMatching(/^LMS_CLIENT_SECRET is required/),
    ]);
    expect(problems(rest({}, { tokenUrl: 'http://sis.example.edu/token' }))).toEqual([expect.stringMatching(/^LMS_TOKEN_URL must be an https URL/)]);
    expect(problems(rest({ LMS_ONEROSTER_VERSION: '9' })).join(' ')).not.toContain('secret-value');
  });

  it('a CSV bundle needs a folder with manifest.csv and a course URL template', () => {
    const bundle = (path: string, extra: Record<string, string> = {}): ApiLmsSettings => ({ adapter: 'oneroster', baseUrl: '', filePath: path, extra });
    expect(problems(bundle(referencePath('oneroster/csv-1.1-roster-hub')))).toEqual([expect.stringMatching(/^LMS_ONEROSTER_COURSE_URL is required when LMS_FILE_PATH names a OneRoster CSV bundle/)]);
    expect(problems(bundle(referencePath('oneroster/csv-1.1-roster-hub/oneroster.zip'), { LMS_ONEROSTER_COURSE_URL: 'https://x.example/{classSourcedId}' }))).toEqual([expect.stringMatching(/^LMS_FILE_PATH .* must name the folder of an unzipped OneRoster CSV bundle/)]);
    expect(problems(bundle('/nonexistent/bundle', { LMS_ONEROSTER_COURSE_URL: 'https://x.example/{classSourcedId}', LMS_ONEROSTER_FULL_PULL: 'true' }))).toEqual([
      expect.stringMatching(/^LMS_ONEROSTER_FULL_PULL applies to the REST API only/),
      expect.stringMatching(/^LMS_FILE_PATH .* does not exist/),
    ]);
  });
});

describe('bundle manifests', () => {
  it('reads bulk, delta and empty entries, and ignores unknown keys (a typo) instead of failing', () => {
    const hub = readManifest(referencePath('oneroster/csv-1.1-roster-hub'));
    expect(hub.oneRosterVersion).toBe('1.1');
    expect(hub.files.get('enrollments')).toBe('bulk');
    expect(hub.ignored).toEqual(['fiel.demographics']);
    const delta = readManifest(referencePath('oneroster/csv-1.2-moodle-enrol-oneroster/oneroster_test_data-delta'));
    expect(delta.files.get('enrollments')).toBe('delta');
    const full = readManifest(referencePath('oneroster/csv-1.2-moodle-enrol-oneroster/v1p2_full_dataset'));
    expect(full.files.get('userProfiles')).toBe('absent');
  });
});

describe('cursor, filter and link helpers', () => {
  it('the cursor is versioned JSON with one mark per stream; a bare ISO time reads as both', () => {
    const cursor = formatCursor({ enrollments: '2026-11-01T00:00:00.000Z', results: '2026-11-02T00:00:00.000Z' });
    expect(cursor).toBe('{"v":1,"enrollments":"2026-11-01T00:00:00.000Z","results":"2026-11-02T00:00:00.000Z"}');
    expect(parseCursor(cursor)).toEqual({ enrollments: '2026-11-01T00:00:00.000Z', results: '2026-11-02T00:00:00.000Z' });
    expect(parseCursor('2026-11-01T00:00:00Z')).toEqual({ enrollments: '2026-11-01T00:00:00.000Z', results: '2026-11-01T00:00:00.000Z' });
    expect(() => parseCursor('{"v":2}')).toThrow(/not a oneroster adapter cursor/);
  });

  it('parses the OneRoster filter grammar the stand-in serves', () => {
    const record = { dateLastModified: '2026-11-01T00:00:00.000Z', user: { sourcedId: 'u1' }, class: { sourcedId: "c'1" }, role: 'student' };
    const match = (filter: string): boolean | string => {
      const predicate = parseFilter(filter);
      return typeof predicate === 'string' ? predicate : predicate(record);
    };
    expect(match("dateLastModified>='2026-11-01T00:00:00.000Z'")).toBe(true);
    expect(match("dateLastModified>'2026-11-01T00:00:00.000Z'")).toBe(false);
    expect(match("user.sourcedId='u1' AND class.sourcedId='c''1'")).toBe(true);
    expect(match("role='teacher' OR role='student'")).toBe(true);
    expect(match("role~'STU'")).toBe(true);
    expect(match("role='a' AND role='b' AND role='c'")).toMatch(/at most two predicates/);
    expect(match('role=student')).toMatch(/not field<op>'value'/);
  });

  it('reads RFC 8288 Link headers', () => {
    const links = parseLinkHeader('<https://sis.example/enrollments?limit=100&offset=101>; rel="next", <https://sis.example/enrollments?offset=0>; rel="prev", <https://x/last>; rel=last');
    expect(links.get('next')).toBe('https://sis.example/enrollments?limit=100&offset=101');
    expect(links.get('last')).toBe('https://x/last');
  });
});
