import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { encodeMoodleParams, interpretMoodle } from '../../src/lms/moodle/api.js';
import { decodeMoodleToken, encodeMoodleToken, formatMoodleCursor, parseMoodleCursor } from '../../src/lms/moodle/cursor.js';
import {
  completionTimeOf,
  findReportColumns,
  parseMoodleDate,
  parseMoodleEnrollmentId,
  parseMoodleLink,
  readMoodleCourse,
  readRosterUser,
  toMoodleReportItem,
  toMoodleWalkItem,
  type MoodleCourseInfo,
  type ReportColumns,
} from '../../src/lms/moodle/mapping.js';
import { readMoodleSettings } from '../../src/lms/moodle/settings.js';
import { classifyLmsFailure, LmsRequestError } from '../../src/lms/http/errors.js';
import type { WebResponse } from '../../src/lms/http/lmsHttp.js';
import { moodleUserdate } from '../../src/sandbox/lms/moodleStandIn.js';
import { referenceDataDir } from '../support/restLmsHarness.js';

type Json = Record<string, unknown>;
const logstore = (name: string): Json => JSON.parse(readFileSync(join(referenceDataDir, 'moodle', 'logstore-events', name), 'utf8')) as Json;

// Real rows (xAPI-vle/moodle-logstore_xapi fixtures): course 2 "test_name" (lang en), users 1 and 2, and the events.
const common = logstore('moodle-common-data.json');
const completedEvent = logstore('moodle-course-completed-event.json');
const enrolledEvent = logstore('moodle-user-enrolment-created-event.json');
const users = (logstore('moodle-user-enrolment-updated-suspended-data.json')['user'] ?? []) as Json[];
const courseRow = ((common['course'] ?? []) as Json[]).find((c) => c['id'] === completedEvent['courseid']) ?? {};
const siteRow = ((common['course'] ?? []) as Json[]).find((c) => c['id'] === 1) ?? {};
const eventTime = Number(completedEvent['timecreated']);
// What core_course_get_courses returns for that course (the shape of its return description; times from the event).
const course = readMoodleCourse({ ...courseRow, shortname: 'test', format: 'topics', categoryid: 1, visible: 1, timemodified: eventTime, enddate: 0 }) as MoodleCourseInfo;
const ctx = { baseUrl: 'https://moodle.example.edu', assignmentType: 'required' as const };
const user1 = readRosterUser({ ...users[0], username: 'test_fullname1', idnumber: '', lastcourseaccess: 0 });
const user2 = readRosterUser({ ...users[1], username: 'test_fullname2', lastcourseaccess: 0 });

describe('Moodle walk records → canonical enrollments (logstore reference rows)', () => {
  it('reads the course, and knows the site course', () => {
    expect(course).toEqual({ id: 2, fullname: 'test_name', lang: 'en', timemodified: 1433946701, enddate: 0, visible: true, isSite: false });
    expect(readMoodleCourse({ ...siteRow, format: 'site', categoryid: 0 })?.isSite).toBe(true);
  });

  it('user 1 completed course 2 (course_completed event): completed, 100 %, completedAt from the criteria', () => {
    const completedAt = completionTimeOf({ completionstatus: { completed: true, aggregation: 1, completions: [{ type: 4, timecompleted: eventTime }, { type: 6, timecompleted: null }] }, warnings: [] });
    expect(completedAt).toBe('2015-06-10T14:31:41.000Z');
    const item = toMoodleWalkItem({ course, user: user1 ?? { id: 1 }, enrolment: { id: 2, completed: true, progress: 100 }, ...(completedAt !== undefined ? { completedAt } : {}) }, ctx);
    expect(item).toEqual({
      kind: 'record',
      position: 'moodle course 2 user 1',
      record: {
        enrollmentId: 'moodle:2:1',
        learner: { id: '1', email: 'test@test.com' },
        course: { id: 'moodle:course:2', title: 'test_name', url: 'https://moodle.example.edu/course/view.php?id=2', language: 'en' },
        source: 'assigned',
        assignmentType: 'required',
        completedAt: '2015-06-10T14:31:41.000Z',
        status: 'completed',
        progressPercent: 100,
        updatedAt: '2015-06-10T14:31:41.000Z',
      },
    });
  });

  it('user 2 enrolled (user_enrolment_created): not started; suspended (its status 1 row): a withdrawal with the same time', () => {
    expect(enrolledEvent['relateduserid']).toBe(2);
    const live = toMoodleWalkItem({ course, user: user2 ?? { id: 2 }, enrolment: { id: 2, completed: false, progress: 0 } }, ctx);
    expect(live).toMatchObject({ kind: 'record', record: { enrollmentId: 'moodle:2:2', status: 'notStarted', progressPercent: 0, updatedAt: '2015-06-10T14:31:41.000Z' } });
    const withdrawn = toMoodleWalkItem({ course, user: user2 ?? { id: 2 }, enrolment: undefined }, ctx);
    expect(withdrawn).toEqual({ kind: 'record', position: 'moodle course 2 user 2', record: { enrollmentId: 'moodle:2:2', updatedAt: '2015-06-10T14:31:41.000Z', deleted: true } });
  });

  it('progress rounds, access means in progress, a later access moves updatedAt, completion off omits the percentage', () => {
    const later = eventTime + 3600;
    expect(toMoodleWalkItem({ course, user: { id: 5, email: 'a@b.example', username: 'a@b.example', idnumber: 'E5', lastcourseaccess: later }, enrolment: { id: 2, progress: 33.6, completed: false } }, ctx)).toMatchObject({
      record: { status: 'inProgress', progressPercent: 34, updatedAt: '2015-06-10T15:31:41.000Z', learner: { id: '5', email: 'a@b.example', upn: 'a@b.example', employeeId: 'E5' } },
    });
    const off = toMoodleWalkItem({ course: { ...course, enddate: eventTime + 86_400 }, user: { id: 6 , email: 'c@d.example' }, enrolment: { id: 2 } }, ctx);
    expect(off).toMatchObject({ record: { status: 'notStarted', dueAt: '2015-06-11T14:31:41.000Z' } });
    expect(off).not.toHaveProperty('record.progressPercent');
    expect(toMoodleWalkItem({ course: { ...course, lang: 'pt_br' }, user: { id: 7 }, enrolment: { id: 2 } }, ctx)).toMatchObject({ record: { course: { language: 'pt-br' } } });
    expect(toMoodleWalkItem({ course: { ...course, lang: 'custom pack!' }, user: { id: 7 }, enrolment: { id: 2 } }, ctx)).not.toHaveProperty('record.course.language');
    expect(parseMoodleEnrollmentId('moodle:2:7')).toEqual({ courseId: 2, userId: 7 });
    expect(parseMoodleEnrollmentId('moodle:x:7')).toBeUndefined();
  });
});

describe('Moodle Report builder rows', () => {
  const headers = ['Course full name with link', 'Full name with link', 'Email address', 'Username', 'Status', 'Time enrolled', 'Time started', 'Time completed', 'Progress'];
  const columns = (findReportColumns(headers) as { ok: true; columns: ReportColumns }).columns;
  const row = (over: Partial<Record<string, string>> = {}): string[] => {
    const base: Record<string, string> = {
      course: '<a href="https://moodle.example.edu/course/view.php?id=2">test_name &amp; more</a>',
      user: '<a href="https://moodle.example.edu/user/profile.php?id=1">test_fullname1 User</a>',
      email: 'test@test.com',
      username: 'test_fullname1',
      status: 'Active',
      enrolled: moodleUserdate(eventTime - 86_400),
      started: moodleUserdate(eventTime - 3600),
      completed: moodleUserdate(eventTime),
      progress: '100.0%',
      ...over,
    };
    return [base['course'], base['user'], base['email'], base['username'], base['status'], base['enrolled'], base['started'], base['completed'], base['progress']].map((v) => v ?? '');
  };

  it('finds columns by heading (case, HTML), and names the missing required ones', () => {
    expect(columns).toEqual({ course: 0, user: 1, email: 2, username: 3, status: 4, enrolled: 5, started: 6, completed: 7, progress: 8 });
    expect(findReportColumns(['<span>COURSE FULL NAME WITH LINK</span>', 'Full name with link', 'Time enrolled', 'Time completed'])).toMatchObject({ ok: true });
    expect(findReportColumns(['Course full name with link', 'Email address'])).toEqual({ ok: false, missing: ['"full name with link"', '"time enrolled"', '"time completed"'] });
  });

  it('reads userdate text (English, UTC), ISO, unix seconds; blank is no date; anything else is unreadable', () => {
    expect(moodleUserdate(eventTime)).toBe('Wednesday, 10 June 2015, 2:31 PM');
    expect(parseMoodleDate(moodleUserdate(eventTime))).toBe('2015-06-10T14:31:00.000Z');
    expect(parseMoodleDate('10 June 2015, 12:05 AM')).toBe('2015-06-10T00:05:00.000Z');
    expect(parseMoodleDate('Monday, 1 January 2024, 12:00 PM')).toBe('2024-01-01T12:00:00.000Z');
    expect(parseMoodleDate('1433946701')).toBe('2015-06-10T14:31:41.000Z');
    expect(parseMoodleDate('2015-06-10T14:31:41Z')).toBe('2015-06-10T14:31:41.000Z');
    expect(parseMoodleDate('')).toBeNull();
    expect(parseMoodleDate('mercredi 10 juin 2015, 14:31')).toBeUndefined();
    expect(parseMoodleDate('31 February 2015, 1:00 PM')).toBeUndefined();
  });

  it('reads ids and titles from the links', () => {
    expect(parseMoodleLink('<a href="https://m.example/course/view.php?id=12">A &amp; B</a>', 'course/view.php')).toEqual({ id: 12, text: 'A & B' });
    expect(parseMoodleLink('<a href="https://m.example/user/view.php?course=2&amp;id=7">X</a>', 'user')).toEqual({ id: 7, text: 'X' });
    expect(parseMoodleLink('plain', 'user')).toBeUndefined();
  });

  it('a completed row: times from the columns, updatedAt the latest of them', () => {
    const { item, updatedAt, withdrawn } = toMoodleReportItem(row(), columns, ctx, 'moodle report 1 page 0 row 1');
    expect(withdrawn).toBe(false);
    expect(updatedAt).toBe('2015-06-10T14:31:00.000Z');
    expect(item).toMatchObject({
      kind: 'record',
      record: { enrollmentId: 'moodle:2:1', course: { id: 'moodle:course:2', title: 'test_name & more' }, learner: { id: '1', email: 'test@test.com' }, status: 'completed', progressPercent: 100, assignedAt: '2015-06-09T14:31:00.000Z', startedAt: '2015-06-10T13:31:00.000Z', completedAt: '2015-06-10T14:31:00.000Z' },
    });
  });

  it('suspended or not-current rows are withdrawals; an unreadable date is an invalid item naming the column', () => {
    expect(toMoodleReportItem(row({ status: 'Suspended', completed: '', progress: '' }), columns, ctx, 'p')).toMatchObject({ withdrawn: true, item: { kind: 'record', record: { enrollmentId: 'moodle:2:1', deleted: true } } });
    expect(toMoodleReportItem(row({ status: 'Not current' }), columns, ctx, 'p').withdrawn).toBe(true);
    expect(toMoodleReportItem(row({ completed: 'mercredi 10 juin 2015' }), columns, ctx, 'p').item).toMatchObject({ kind: 'invalid', key: 'moodle:2:1', reason: expect.stringContaining('"time completed" cell "mercredi 10 juin 2015"') });
    expect(toMoodleReportItem(row({ course: 'test_name' }), columns, ctx, 'p').item).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('course/view.php?id=') });
    expect(toMoodleReportItem(row({ started: '', completed: '', progress: '0.0%' }), columns, ctx, 'p').item).toMatchObject({ record: { status: 'notStarted', progressPercent: 0 } });
  });
});

function response(status: number, body: unknown, headers: Record<string, string> = {}): WebResponse {
  return { status, text: typeof body === 'string' ? body : JSON.stringify(body), headers: new Headers(headers), operation: 'moodle core_enrol_get_users_courses' };
}

function errorOf(fn: () => unknown): LmsRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LmsRequestError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('Moodle responses → errors → retry decisions', () => {
  it.each([
    [200, { exception: 'moodle_exception', errorcode: 'invalidtoken', message: 'Invalid token - token not found' }, 'unauthorized', false, 'LMS_TOKEN'],
    [400, { exception: 'moodle_exception', errorcode: 'invalidtoken', message: 'Invalid token - token not found' }, 'unauthorized', false, 'LMS_TOKEN'],
    [200, { exception: 'webservice_access_exception', errorcode: 'accessexception', message: 'Access control exception', debuginfo: 'Invalid token - token expired - check validuntil time for the token' }, 'unauthorized', false, 'LMS_TOKEN'],
    [200, { exception: 'required_capability_exception', errorcode: 'nopermissions', message: 'Sorry, but you do not currently have permissions to do that (View participants).' }, 'forbidden', false, 'LMS_TOKEN'],
    [200, { exception: 'moodle_exception', errorcode: 'sitemaintenance', message: 'The site is undergoing maintenance' }, 'sitemaintenance', true, undefined],
    [200, { exception: 'moodle_exception', errorcode: 'nocriteriaset', message: 'No criteria set' }, 'nocriteriaset', false, undefined],
    [200, '<?xml version="1.0"?><RESPONSE/>', 'unexpectedBody', false, 'LMS_BASE_URL'],
    [200, '<html><body>Log in</body></html>', 'unexpectedBody', false, 'LMS_BASE_URL'],
    [200, '[{"id": 2,', 'malformed', true, undefined],
    [404, '<html>not found</html>', 'notFound', false, 'LMS_BASE_URL'],
    [303, '', 'redirect', false, 'LMS_BASE_URL'],
    [429, 'slow down', 'rateLimited', true, undefined],
    [502, 'bad gateway', 'http', true, undefined],
  ] as const)('%i %j → %s', (status, body, code, retry, setting) => {
    const err = errorOf(() => interpretMoodle(response(status, body), 'core_enrol_get_users_courses'));
    expect(err.code).toBe(code);
    expect(err.setting).toBe(setting);
    expect(classifyLmsFailure(err).retry).toBe(retry);
  });

  it('passes results through, and writes arguments PHP-style', () => {
    expect(interpretMoodle(response(200, [{ id: 2 }]), 'f')).toEqual([{ id: 2 }]);
    expect(encodeMoodleParams({ courseid: 2, options: [{ name: 'limitfrom', value: 0 }], o: { ids: [3, 4] }, flag: true }).toString()).toBe(
      'courseid=2&options%5B0%5D%5Bname%5D=limitfrom&options%5B0%5D%5Bvalue%5D=0&o%5Bids%5D%5B0%5D=3&o%5Bids%5D%5B1%5D=4&flag=1',
    );
    expect(errorOf(() => interpretMoodle(response(503, 'x', { 'retry-after': '7' }), 'f')).retryAfterMs).toBe(7000);
  });
});

describe('Moodle cursors and settings', () => {
  it('formats and parses every cursor form; another mode or garbage starts afresh', () => {
    for (const cursor of [{ kind: 'done', pass: 'p' }, { kind: 'after', pass: 'p', course: 3 }, { kind: 'within', pass: 'p', course: 3, from: 200, last: 4711 }, { kind: 'report', report: 9, since: '2026-01-01T00:00:00.000Z' }] as const) {
      expect(parseMoodleCursor(formatMoodleCursor(cursor))).toEqual(cursor);
      expect(decodeMoodleToken(encodeMoodleToken(cursor))).toEqual(cursor);
    }
    expect(parseMoodleCursor('2026-01-01T00:00:00.000Z')).toEqual({ kind: 'start' });
    expect(parseMoodleCursor('{"v":1,"report":1,"since":"never"}')).toEqual({ kind: 'start' });
  });

  const settings = (extra: Record<string, string>, over: Partial<ApiLmsSettings> = {}): ApiLmsSettings => ({ adapter: 'moodle', baseUrl: 'https://moodle.example.edu/webservice/rest/server.php', token: 'tok', extra, ...over });

  it('reads the report id, forgives a pasted server.php, and names bad settings', () => {
    expect(readMoodleSettings(settings({ LMS_MOODLE_REPORT_ID: '12' }))).toEqual({ baseUrl: 'https://moodle.example.edu', token: 'tok', courseIds: undefined, assignmentType: 'required', reportId: 12 });
    let err: unknown;
    try {
      readMoodleSettings(settings({ LMS_MOODLE_REPORT_ID: 'my report', LMS_MOODLE_REPROT_ID: '1' }, { courseIds: ['2', 'x'], baseUrl: 'not a url' }));
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    for (const name of ['LMS_MOODLE_REPORT_ID', 'LMS_MOODLE_REPROT_ID', 'LMS_COURSE_IDS', 'LMS_BASE_URL']) expect((err as Error).message).toContain(name);
  });
});
