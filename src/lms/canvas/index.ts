/**
 * The `canvas` adapter: Canvas LMS REST API (lms-source-apis.md §3), behind the adapter
 * interface. Canvas has no changed-since filter on enrollments, so a listing is a pass over
 * the courses in scope (LMS_COURSE_IDS, or the account's available courses), in ascending
 * id order. Per course it reads `bulk_user_progress` (module requirements and completed_at,
 * held for that course only) and then the student enrollments with every state, deleted and
 * completed included, one Canvas page per ChangePage, following the `Link` header's opaque
 * `next`. Records of unchanged enrollments come out identical on every pass, so the engine's
 * ledger skips them; the cursor (see cursor.ts) lets a stopped pass resume where it was.
 * Like every adapter it only reads (STYLE.md §8); its one retry loop is the LMS-side layer (../http/lmsHttp.ts).
 */
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { ApiAdapterOptions } from '../adapterSettings.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, OperationOptions, PageSettings, PagedChanges, SourceItem } from '../types.js';
import { LmsRequestError } from '../http/errors.js';
import { CanvasApi, type CanvasApiOptions } from './api.js';
import { listCanvasCatalog } from './catalog.js';
import { decodeCanvasToken, encodeCanvasToken, formatCanvasCursor, parseCanvasCursor, type CanvasCursor, type StoredCanvasCursor } from './cursor.js';
import { isUnder } from './link.js';
import {
  CANVAS_ENROLLMENT_STATES,
  canvasCourseId,
  parseCanvasEnrollmentId,
  readBulkProgressRow,
  readCanvasCourse,
  readCanvasProgress,
  toCanvasItem,
  type CanvasCourseInfo,
  type CanvasProgress,
} from './mapping.js';
import { readCanvasSettings, type CanvasConfig } from './settings.js';

export { LmsRequestError, isLmsRequestError } from '../http/errors.js';
export { CANVAS_SETTINGS } from './settings.js';

/** LMS_ADAPTER is this adapter's name. */
export type CanvasSettings = ApiLmsSettings;

export type CanvasAdapterOptions = ApiAdapterOptions<CanvasApiOptions>;

/** Canvas' usual per_page cap. */
const MAX_PER_PAGE = 100;

interface Context {
  readonly config: CanvasConfig;
  readonly api: CanvasApi;
}

/** Creates the adapter; validates its settings now, so that a bad one fails at start naming it. */
export function createCanvasAdapter(options: CanvasAdapterOptions): LmsAdapter {
  const config = readCanvasSettings(options.settings);
  const ctx: Context = { config, api: new CanvasApi(config.baseUrl, config.token, options.http) };
  return {
    name: 'canvas',
    listChanges: (listOptions = {}) => listChanges(ctx, listOptions),
    getEnrollment: (enrollmentId, getOptions = {}) => getEnrollment(ctx, enrollmentId, getOptions),
    listCatalog: (catalogOptions = {}) => listCanvasCatalog({ api: ctx.api, baseUrl: config.baseUrl, accountId: config.accountId, courseIds: config.courseIds }, catalogOptions),
  };
}

function listChanges(ctx: Context, options: ListChangesOptions): PagedChanges {
  const byPage = (settings: PageSettings = {}): AsyncGenerator<ChangePage> => listPages(ctx, options, settings);
  async function* items(): AsyncGenerator<SourceItem> {
    for await (const page of byPage()) yield* page.items;
  }
  return Object.assign(items(), { byPage });
}

function perPageOf(maxPageSize: number | undefined): number {
  const size = maxPageSize ?? MAX_PER_PAGE;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`maxPageSize must be a positive integer (got ${size})`);
  return Math.min(size, MAX_PER_PAGE);
}

/** The courses of this pass, ascending, with what the account listing already told about them. */
async function coursesInScope(ctx: Context, signal: AbortSignal | undefined): Promise<{ ids: number[]; known: Map<number, CanvasCourseInfo> }> {
  const known = new Map<number, CanvasCourseInfo>();
  if (ctx.config.courseIds !== undefined) return { ids: [...ctx.config.courseIds], known };
  const opts = signal !== undefined ? { abortSignal: signal } : {};
  let url: string | undefined = ctx.api.url(`/accounts/${encodeURIComponent(ctx.config.accountId)}/courses`, {
    state: ['available'],
    with_enrollments: 'true',
    enrollment_type: ['student'],
    include: ['term'],
    per_page: MAX_PER_PAGE,
  });
  while (url !== undefined) {
    const page = await ctx.api.getPage(url, opts);
    if (!Array.isArray(page.body)) throw unexpected(`GET /api/v1/accounts/${ctx.config.accountId}/courses`, 'an array of courses');
    for (const raw of page.body) {
      const course = readCanvasCourse(raw);
      if (course !== undefined) known.set(course.id, course);
    }
    url = page.next;
  }
  return { ids: [...known.keys()].sort((a, b) => a - b), known };
}

function unexpected(operation: string, what: string): LmsRequestError {
  return new LmsRequestError({ system: 'canvas', statusCode: 200, code: 'unexpectedBody', message: `${operation} did not return ${what}`, operation });
}

async function courseInfo(ctx: Context, id: number, known: Map<number, CanvasCourseInfo>, opts: OperationOptions): Promise<CanvasCourseInfo | undefined> {
  const cached = known.get(id);
  if (cached !== undefined) return cached;
  const raw = await ctx.api.getOptional(ctx.api.url(`/courses/${id}`, { include: ['term'] }), opts);
  return raw === undefined ? undefined : readCanvasCourse(raw);
}

/** Module progress of every student of a course; an empty map when the course is not module-based. */
async function courseProgress(ctx: Context, courseId: number, opts: OperationOptions): Promise<Map<string, CanvasProgress>> {
  const progress = new Map<string, CanvasProgress>();
  let url: string | undefined = ctx.api.url(`/courses/${courseId}/bulk_user_progress`, { per_page: MAX_PER_PAGE });
  while (url !== undefined) {
    let page;
    try {
      page = await ctx.api.getPage(url, opts);
    } catch (err) {
      // 400: "not module based" — no requirements to count; status then comes from activity alone.
      if (err instanceof LmsRequestError && err.code === 'badRequest') return progress;
      throw err;
    }
    if (!Array.isArray(page.body)) throw unexpected(`GET /api/v1/courses/${courseId}/bulk_user_progress`, 'an array of users');
    for (const raw of page.body) {
      const row = readBulkProgressRow(raw);
      if (row !== undefined) progress.set(row[0], row[1]);
    }
    url = page.next;
  }
  return progress;
}

function enrollmentsUrl(ctx: Context, courseId: number, perPage: number): string {
  return ctx.api.url(`/courses/${courseId}/enrollments`, { type: ['StudentEnrollment'], state: [...CANVAS_ENROLLMENT_STATES], per_page: perPage });
}

function startOf(options: ListChangesOptions, settings: PageSettings): CanvasCursor {
  return settings.continuationToken !== undefined ? decodeCanvasToken(settings.continuationToken) : parseCanvasCursor(options.cursor);
}

async function* listPages(ctx: Context, options: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const signal = options.abortSignal;
  const opts = signal !== undefined ? { abortSignal: signal } : {};
  const perPage = perPageOf(settings.maxPageSize);
  const start = startOf(options, settings);
  const pass = start.kind === 'start' || start.kind === 'done' ? new Date().toISOString() : start.pass;
  const { ids, known } = await coursesInScope(ctx, signal);
  const todo = ids.filter((id) => (start.kind === 'after' ? id > start.course : start.kind === 'within' ? id >= start.course : true));
  if (todo.length === 0) {
    yield { items: [], cursor: formatCanvasCursor({ kind: 'done', pass }), continuationToken: undefined };
    return;
  }
  for (const [index, courseId] of todo.entries()) {
    signal?.throwIfAborted();
    const lastCourse = index === todo.length - 1;
    const afterCourse: StoredCanvasCursor = lastCourse ? { kind: 'done', pass } : { kind: 'after', pass, course: courseId };
    const course = await courseInfo(ctx, courseId, known, opts);
    if (course === undefined) {
      // LMS_COURSE_IDS names a course Canvas does not know (or deleted): say so once per pass, go on.
      yield {
        items: [{ kind: 'invalid', key: canvasCourseId(courseId), reason: `LMS_COURSE_IDS names course ${courseId}, which Canvas does not know (404)`, position: `canvas course ${courseId}`, raw: JSON.stringify({ courseId }) }],
        cursor: formatCanvasCursor(afterCourse),
        continuationToken: lastCourse ? undefined : encodeCanvasToken(afterCourse),
      };
      continue;
    }
    const progress = await courseProgress(ctx, courseId, opts);
    const resumeAt = start.kind === 'within' && start.course === courseId && isUnder(`${ctx.config.baseUrl}/api/v1`, start.next) ? start.next : undefined;
    let url: string | undefined = resumeAt ?? enrollmentsUrl(ctx, courseId, perPage);
    while (url !== undefined) {
      const page = await ctx.api.getPage(url, opts);
      if (!Array.isArray(page.body)) throw unexpected(`GET /api/v1/courses/${courseId}/enrollments`, 'an array of enrollments');
      const items: SourceItem[] = [];
      for (const raw of page.body) {
        const item = toCanvasItem(raw, { baseUrl: ctx.config.baseUrl, assignmentType: ctx.config.assignmentType, course, progressOf: (userId) => progress.get(userId) });
        if (item !== undefined) items.push(item);
      }
      const next: StoredCanvasCursor = page.next !== undefined ? { kind: 'within', pass, course: courseId, next: page.next } : afterCourse;
      const done = page.next === undefined && lastCourse;
      yield { items, cursor: formatCanvasCursor(next), continuationToken: done ? undefined : encodeCanvasToken(next) };
      url = page.next;
    }
  }
}

/** `canvas:<id>` through the account's enrollment-by-id endpoint, with its course and the learner's progress. */
async function getEnrollment(ctx: Context, enrollmentId: string, options: OperationOptions): Promise<SourceItem | undefined> {
  const id = parseCanvasEnrollmentId(enrollmentId);
  if (id === undefined) return undefined;
  const raw = await ctx.api.getOptional(ctx.api.url(`/accounts/${encodeURIComponent(ctx.config.accountId)}/enrollments/${id}`), options);
  if (typeof raw !== 'object' || raw === null) return undefined;
  const enrollment = raw as Record<string, unknown>;
  const courseId = Number(enrollment['course_id']);
  const userId = Number(enrollment['user_id']);
  if (!Number.isSafeInteger(courseId)) return undefined;
  if (ctx.config.courseIds !== undefined && !ctx.config.courseIds.includes(courseId)) return undefined;
  const course = await courseInfo(ctx, courseId, new Map(), options);
  let progress: CanvasProgress | undefined;
  if (Number.isSafeInteger(userId)) {
    try {
      progress = readCanvasProgress(await ctx.api.getOptional(ctx.api.url(`/courses/${courseId}/users/${userId}/progress`), options));
    } catch (err) {
      if (!(err instanceof LmsRequestError && err.code === 'badRequest')) throw err;
    }
  }
  return toCanvasItem(raw, { baseUrl: ctx.config.baseUrl, assignmentType: ctx.config.assignmentType, course, progressOf: () => progress });
}
