import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { interpretCanvas } from '../../src/lms/canvas/api.js';
import { formatCanvasCursor, parseCanvasCursor, decodeCanvasToken, encodeCanvasToken } from '../../src/lms/canvas/cursor.js';
import { isUnder, parseLinkHeader } from '../../src/lms/canvas/link.js';
import { readBulkProgressRow, readCanvasCourse, readCanvasProgress, toCanvasItem, type CanvasCourseInfo, type CanvasMappingContext, type CanvasProgress } from '../../src/lms/canvas/mapping.js';
import { readCanvasSettings } from '../../src/lms/canvas/settings.js';
import { classifyLmsFailure, LmsRequestError, parseRetryAfter } from '../../src/lms/http/errors.js';
import type { WebResponse } from '../../src/lms/http/lmsHttp.js';
import { referenceDataDir } from '../support/restLmsHarness.js';

type Json = Record<string, unknown>;
const api = (name: string): Json[] => JSON.parse(readFileSync(join(referenceDataDir, 'canvas', 'api', name), 'utf8')) as Json[];
const liveEvent = (name: string): Json => ((JSON.parse(readFileSync(join(referenceDataDir, 'canvas', 'live-events', name), 'utf8')) as { examples: { payload: Json }[] }).examples[0]?.payload ?? {});

// Real data: the captured course enrollments and favourite courses (canvas-android), the docs' bulk_user_progress.
const enrollments = api('canvas-course-enrollments.captured.json');
const courses = api('canvas-favorite-courses-with-enrollments.captured.json');
const bulk = api('bulk_user_progress.docs-example.json');
const student = enrollments.find((e) => e['type'] === 'StudentEnrollment') ?? {};
const teacher = enrollments.find((e) => e['type'] === 'TeacherEnrollment') ?? {};
const course = readCanvasCourse(courses.find((c) => c['id'] === student['course_id'])) as CanvasCourseInfo;
const [inProgress, completed] = bulk.map((row) => readBulkProgressRow(row)?.[1]) as [CanvasProgress, CanvasProgress];

function ctx(progress?: CanvasProgress, overrides: Partial<CanvasMappingContext> = {}): CanvasMappingContext {
  return { baseUrl: 'https://canvas.example.edu', assignmentType: 'required', course, progressOf: () => progress, ...overrides };
}

describe('Canvas records → canonical enrollments (real captures)', () => {
  it('reads the captured course and the docs progress rows', () => {
    expect(course).toEqual({ id: 1383418, name: "Trevor's Emporium Extraordinarium" });
    expect(readCanvasCourse(courses.find((c) => c['id'] === 833052))).toEqual({ id: 833052, name: 'Android Development', endAt: '2014-11-22T05:55:00.000Z' });
    expect(inProgress).toEqual({ requirementCount: 2, requirementCompletedCount: 1, completedAt: undefined });
    expect(completed).toEqual({ requirementCount: 2, requirementCompletedCount: 2, completedAt: '2021-08-10T16:26:08.000Z' });
    expect(readBulkProgressRow(bulk[0])?.[0]).toBe('1');
    // The Live Events course_completed body carries the same CourseProgress shape.
    expect(readCanvasProgress((liveEvent('course_completed.json')['body'] as Json)['progress'])).toEqual({ requirementCount: 6, requirementCompletedCount: 6, completedAt: '2019-11-05T13:38:00.218Z' });
  });

  it('maps the captured student enrollment with in-progress module progress', () => {
    expect(toCanvasItem(student, ctx(inProgress))).toEqual({
      kind: 'record',
      position: 'canvas course 1383418 enrollment 23221371',
      record: {
        enrollmentId: 'canvas:23221371',
        learner: { id: '5834817', email: 'bla@gmail.com' },
        course: { id: 'canvas:course:1383418', title: "Trevor's Emporium Extraordinarium", url: 'https://canvas.example.edu/courses/1383418' },
        source: 'assigned',
        assignmentType: 'required',
        assignedAt: '2014-06-27T16:30:59.000Z',
        status: 'inProgress',
        progressPercent: 50,
        updatedAt: '2014-07-14T16:49:15.000Z',
      },
    });
  });

  it('completed progress makes it completed, with completedAt and an updatedAt no earlier than it', () => {
    const item = toCanvasItem(student, ctx(completed, { assignmentType: 'recommended' }));
    expect(item).toMatchObject({ kind: 'record', record: { status: 'completed', progressPercent: 100, completedAt: '2021-08-10T16:26:08.000Z', updatedAt: '2021-08-10T16:26:08.000Z', assignmentType: 'recommended' } });
  });

  it('without module requirements, activity alone says in progress; no activity says not started', () => {
    expect(toCanvasItem(student, ctx(undefined))).toMatchObject({ record: { status: 'inProgress' } });
    expect(toCanvasItem(student, ctx(undefined))).not.toHaveProperty('record.progressPercent');
    expect(toCanvasItem({ ...student, last_activity_at: null }, ctx({ requirementCount: 3, requirementCompletedCount: 0, completedAt: undefined }))).toMatchObject({ record: { status: 'notStarted', progressPercent: 0 } });
  });

  it('deleted, rejected and inactive enrollments are withdrawals; concluded (completed) ones stay', () => {
    for (const state of ['deleted', 'rejected', 'inactive']) {
      expect(toCanvasItem({ ...student, enrollment_state: state, updated_at: '2024-01-02T03:04:05Z' }, ctx(inProgress))).toEqual({ kind: 'record', position: 'canvas course 1383418 enrollment 23221371', record: { enrollmentId: 'canvas:23221371', updatedAt: '2024-01-02T03:04:05.000Z', deleted: true } });
    }
    expect(toCanvasItem({ ...student, enrollment_state: 'completed' }, ctx(inProgress))).toMatchObject({ record: { status: 'inProgress' } });
  });

  it('leaves teachers out, and takes the due date from the enrollment, the course or the term', () => {
    expect(toCanvasItem(teacher, ctx(inProgress))).toBeUndefined();
    expect(toCanvasItem(student, ctx(inProgress, { course: { ...course, termEndAt: '2015-01-01T00:00:00.000Z' } }))).toMatchObject({ record: { dueAt: '2015-01-01T00:00:00.000Z' } });
    expect(toCanvasItem({ ...student, end_at: '2014-12-01T00:00:00Z' }, ctx(inProgress, { course: { ...course, endAt: '2015-01-01T00:00:00.000Z' } }))).toMatchObject({ record: { dueAt: '2014-12-01T00:00:00.000Z' } });
  });

  it('a record the canonical format refuses is an invalid item with its reason, keyed by its id', () => {
    expect(toCanvasItem({ ...student, updated_at: 'soon' }, ctx())).toMatchObject({ kind: 'invalid', key: 'canvas:23221371', reason: 'updated_at "soon" is not an ISO 8601 date-time' });
    expect(toCanvasItem({ ...student, user_id: null, user: {} }, ctx())).toMatchObject({ kind: 'invalid', key: 'canvas:23221371', reason: expect.stringContaining('learner.id is required') });
    const notObject = toCanvasItem('oops', ctx());
    expect(notObject).toMatchObject({ kind: 'invalid', reason: 'the enrollment is not a JSON object' });
    expect(notObject?.kind === 'invalid' ? notObject.key : '').toMatch(/^canvas:invalid:[0-9a-f]{32}$/);
    expect(toCanvasItem(student, ctx(inProgress, { course: undefined }))).toMatchObject({ kind: 'invalid', reason: 'course 1383418 is not known to Canvas' });
  });
});

describe('Canvas Link headers and cursors', () => {
  it('parses rel links, keeps them opaque, and accepts only links under the API root', () => {
    const header = '<https://c.example/api/v1/courses/1/enrollments?page=bookmark:WzEsMl0&per_page=10>; rel="current",<https://c.example/api/v1/courses/1/enrollments?page=bookmark:WzMsNF0&per_page=10>; rel="next",<https://c.example/api/v1/courses/1/enrollments?page=first&per_page=10>; rel="first"';
    const links = parseLinkHeader(header);
    expect(links.get('next')).toBe('https://c.example/api/v1/courses/1/enrollments?page=bookmark:WzMsNF0&per_page=10');
    expect(links.has('last')).toBe(false);
    expect(parseLinkHeader(null).size).toBe(0);
    expect(isUnder('https://c.example/api/v1', links.get('next') ?? '')).toBe(true);
    expect(isUnder('https://c.example/api/v1', 'https://evil.example/api/v1/courses')).toBe(false);
    expect(isUnder('https://c.example/api/v1', 'https://c.example/api/v10/x')).toBe(false);
  });

  it('formats and parses every cursor form; anything else starts a new pass', () => {
    for (const cursor of [{ kind: 'done', pass: '2026-01-01T00:00:00.000Z' }, { kind: 'after', pass: 'p', course: 12 }, { kind: 'within', pass: 'p', course: 12, next: 'https://c.example/api/v1/x' }] as const) {
      expect(parseCanvasCursor(formatCanvasCursor(cursor))).toEqual(cursor);
      expect(decodeCanvasToken(encodeCanvasToken(cursor))).toEqual(cursor);
    }
    expect(parseCanvasCursor('2026-01-01T00:00:00.000Z')).toEqual({ kind: 'start' });
    expect(parseCanvasCursor('{"v":2}')).toEqual({ kind: 'start' });
    expect(() => decodeCanvasToken('not a token')).toThrow(TypeError);
  });
});

function settings(extra: Record<string, string> = {}, over: Partial<ApiLmsSettings> = {}): ApiLmsSettings {
  return { adapter: 'canvas', baseUrl: 'https://canvas.example.edu/', token: 'tok', extra, ...over };
}

describe('Canvas settings', () => {
  it('defaults: account self, required, every active course; a pasted /api/v1 is forgiven', () => {
    expect(readCanvasSettings(settings({}, { baseUrl: 'https://canvas.example.edu/api/v1' }))).toEqual({ baseUrl: 'https://canvas.example.edu', token: 'tok', courseIds: undefined, assignmentType: 'required', accountId: 'self' });
    expect(readCanvasSettings(settings({ LMS_CANVAS_ACCOUNT_ID: '12', LMS_ASSIGNMENT_TYPE: 'recommended' }, { courseIds: ['7', '3', '7'] }))).toMatchObject({ accountId: '12', assignmentType: 'recommended', courseIds: [3, 7] });
  });

  it('names every bad setting, never the token', () => {
    let err: unknown;
    try {
      readCanvasSettings(settings({ LMS_CANVAS_ACCOUNT_ID: '../x', LMS_ASSIGNMENT_TYPE: 'mandatory', LMS_CANVAS_ACOUNT: '1' }, { courseIds: ['abc'], token: 'secret value' }));
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    const message = (err as Error).message;
    for (const name of ['LMS_CANVAS_ACCOUNT_ID', 'LMS_ASSIGNMENT_TYPE', 'LMS_CANVAS_ACOUNT', 'LMS_COURSE_IDS', 'LMS_TOKEN']) expect(message).toContain(name);
    expect(message).not.toContain('secret value');
  });
});

function response(status: number, text: string, headers: Record<string, string> = {}): WebResponse {
  return { status, text, headers: new Headers(headers), operation: 'GET /api/v1/courses/1/enrollments' };
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

describe('Canvas responses → errors → retry decisions', () => {
  it.each([
    [401, '{"errors":[{"message":"Invalid access token."}]}', { 'www-authenticate': 'Bearer realm="canvas-lms"' }, 'unauthorized', false],
    [401, '{"status":"unauthorized","errors":[{"message":"user not authorized to perform that action"}]}', {}, 'forbidden', false],
    [403, '403 Forbidden (Rate Limit Exceeded)', {}, 'rateLimited', true],
    [429, '429 Too Many Requests (Rate Limit Exceeded)', { 'retry-after': '3' }, 'rateLimited', true],
    [503, 'unavailable', { 'retry-after': '2' }, 'unavailable', true],
    [404, '{"errors":[{"message":"The specified resource does not exist."}]}', {}, 'notFound', false],
    [400, '{"error":{"message":"not module based"}}', {}, 'badRequest', false],
    [302, '', { location: 'https://sso.example/login' }, 'redirect', false],
    [200, '[{"id": 1,', {}, 'malformed', true],
    [500, 'boom', {}, 'http', true],
  ] as const)('%i %s → %s (retry %s)', (status, text, headers, code, retry) => {
    const err = errorOf(() => interpretCanvas(response(status, text, headers)));
    expect(err.code).toBe(code);
    expect(classifyLmsFailure(err).retry).toBe(retry);
  });

  it('keeps Retry-After as a wait, and names LMS_TOKEN on token failures', () => {
    expect(errorOf(() => interpretCanvas(response(429, 'Rate Limit Exceeded', { 'retry-after': '3' }))).retryAfterMs).toBe(3000);
    expect(errorOf(() => interpretCanvas(response(401, '{"errors":[{"message":"Invalid access token."}]}'))).setting).toBe('LMS_TOKEN');
    expect(interpretCanvas(response(200, '[{"id":1}]'))).toEqual([{ id: 1 }]);
  });

  it('parses Retry-After seconds and dates; aborts are never retried', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(classifyLmsFailure(Object.assign(new Error('aborted'), { name: 'AbortError' })).retry).toBe(false);
    expect(classifyLmsFailure(new LmsRequestError({ system: 'canvas', statusCode: -1, code: 'network', message: 'reset', operation: 'GET /' })).retry).toBe(true);
  });
});
