/**
 * The `moodle` adapter: Moodle Web Services over REST (lms-source-apis.md §2), behind the
 * adapter interface. Two ways to read, chosen by LMS_MOODLE_REPORT_ID:
 *
 * - Walk (default). Moodle has no changed-since filter on enrolments, so a listing is a pass
 *   over the courses in scope (LMS_COURSE_IDS, or every visible course that has not ended),
 *   ascending. Per course: the roster of users tracked for completion
 *   (core_enrol_get_enrolled_users, sorted by id, paged by limitfrom/limitnumber), each
 *   user's active enrolments with progress and completion (core_enrol_get_users_courses,
 *   a few at a time, remembered for the pass), and for completed ones the completion time
 *   (core_completion_get_course_completion_status). A rostered user whose enrolment is not
 *   active is a withdrawal. Unchanged enrolments give identical records on every pass.
 * - Report. A Report builder custom report (core_reportbuilder_retrieve_report, paged) whose
 *   time columns drive an incremental pull: rows changed at or after the cursor − lookback
 *   (and every row whose enrolment is not active) are yielded; the cursor moves to the latest
 *   time seen once the whole report was read, so it never passes a row not yet yielded.
 *
 * Like every adapter it only reads (STYLE.md §8); its one retry loop is the LMS-side layer (../http/lmsHttp.ts).
 */
import pLimit from 'p-limit';
import { ConfigError } from '../../config/errors.js';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { ApiAdapterOptions } from '../adapterSettings.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, OperationOptions, PageSettings, PagedChanges, SourceItem } from '../types.js';
import { LmsRequestError } from '../http/errors.js';
import { MoodleApi, type MoodleApiOptions } from './api.js';
import { listMoodleCatalog } from './catalog.js';
import { decodeMoodleToken, encodeMoodleToken, formatMoodleCursor, parseMoodleCursor, type MoodleCursor, type StoredMoodleCursor } from './cursor.js';
import {
  completionTimeOf,
  findReportColumns,
  moodleCourseId,
  parseMoodleEnrollmentId,
  readMoodleCourse,
  readRosterUser,
  readUserCourse,
  toMoodleReportItem,
  toMoodleWalkItem,
  type MoodleCourseInfo,
  type MoodleRosterUser,
  type MoodleUserCourse,
} from './mapping.js';
import { MOODLE_REPORT_SETTING, readMoodleSettings, type MoodleConfig } from './settings.js';

export { LmsRequestError, isLmsRequestError } from '../http/errors.js';
export { MOODLE_SETTINGS } from './settings.js';

/** LMS_ADAPTER is this adapter's name. */
export type MoodleSettings = ApiLmsSettings;

export interface MoodleAdapterOptions extends ApiAdapterOptions<MoodleApiOptions> {
  /** Users whose enrolments are fetched at once (core_enrol_get_users_courses); default 4. */
  readonly concurrency?: number;
}

const MAX_ROSTER_PAGE = 200;
const MAX_REPORT_PAGE = 500;
/** Users whose active enrolments are remembered during one pass. */
const USER_CACHE = 500;
/** The capability that makes a user tracked for course completion (students). */
const TRACKED = 'moodle/course:isincompletionreports';

interface Context {
  readonly config: MoodleConfig;
  readonly api: MoodleApi;
  readonly lookbackMs: number;
  readonly concurrency: number;
}

/** Creates the adapter; validates its settings now, so that a bad one fails at start naming it. */
export function createMoodleAdapter(options: MoodleAdapterOptions): LmsAdapter {
  const config = readMoodleSettings(options.settings);
  const lookbackMs = options.lookbackMs;
  if (!Number.isFinite(lookbackMs) || lookbackMs < 0) throw new RangeError(`lookbackMs must be a non-negative number (got ${lookbackMs})`);
  const ctx: Context = { config, api: new MoodleApi(config.baseUrl, config.token, options.http), lookbackMs, concurrency: options.concurrency ?? 4 };
  return {
    name: 'moodle',
    listChanges: (listOptions = {}) => listChanges(ctx, listOptions),
    getEnrollment: (enrollmentId, getOptions = {}) => getEnrollment(ctx, enrollmentId, getOptions),
    listCatalog: (catalogOptions = {}) => listMoodleCatalog({ api: ctx.api, baseUrl: config.baseUrl, courseIds: config.courseIds }, catalogOptions),
  };
}

function listChanges(ctx: Context, options: ListChangesOptions): PagedChanges {
  // The courses a walk covered: a walk that starts a new pass names every live enrolment of
  // them, so one it does not name was unenrolled (hard unenrolments leave no record behind).
  const covered = new Set<string>();
  const byPage = (settings: PageSettings = {}): AsyncGenerator<ChangePage> => (ctx.config.reportId !== undefined ? reportPages(ctx, ctx.config.reportId, options, settings) : walkPages(ctx, options, settings, covered));
  async function* items(): AsyncGenerator<SourceItem> {
    for await (const page of byPage()) yield* page.items;
  }
  const start = ctx.config.reportId === undefined ? parseMoodleCursor(options.cursor).kind : 'report';
  const complete = start === 'start' || start === 'done';
  return Object.assign(items(), { byPage, complete, coveredCourses: () => covered });
}

function pageSizeOf(maxPageSize: number | undefined, cap: number): number {
  const size = maxPageSize ?? cap;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`maxPageSize must be a positive integer (got ${size})`);
  return Math.min(size, cap);
}

function opt(signal: AbortSignal | undefined): OperationOptions {
  return signal !== undefined ? { abortSignal: signal } : {};
}

function unexpected(wsfunction: string, what: string): LmsRequestError {
  return new LmsRequestError({ system: 'moodle', statusCode: 200, code: 'unexpectedBody', message: `moodle ${wsfunction} did not return ${what}`, operation: `moodle ${wsfunction}` });
}

function page(items: SourceItem[], cursor: StoredMoodleCursor, last: boolean): ChangePage {
  return { items, cursor: formatMoodleCursor(cursor), continuationToken: last ? undefined : encodeMoodleToken(cursor) };
}

function startOf(options: ListChangesOptions, settings: PageSettings): MoodleCursor {
  return settings.continuationToken !== undefined ? decodeMoodleToken(settings.continuationToken) : parseMoodleCursor(options.cursor);
}

// ---- walk mode ------------------------------------------------------------------------------

async function getCourses(ctx: Context, ids: readonly number[] | undefined, options: OperationOptions): Promise<MoodleCourseInfo[]> {
  const courses: MoodleCourseInfo[] = [];
  // Ask for ids in batches so that one request stays small.
  const batches = ids === undefined ? [undefined] : Array.from({ length: Math.ceil(ids.length / 50) }, (_, i) => ids.slice(i * 50, i * 50 + 50));
  for (const batch of batches) {
    const body = await ctx.api.call('core_course_get_courses', batch === undefined ? {} : { options: { ids: batch } }, options);
    if (!Array.isArray(body)) throw unexpected('core_course_get_courses', 'an array of courses');
    for (const raw of body) {
      const course = readMoodleCourse(raw);
      if (course !== undefined) courses.push(course);
    }
  }
  return courses;
}

/** Courses of this pass, ascending; `missing`: configured ids Moodle did not return. */
async function coursesInScope(ctx: Context, options: OperationOptions): Promise<{ courses: MoodleCourseInfo[]; missing: number[] }> {
  const configured = ctx.config.courseIds;
  if (configured !== undefined) {
    const courses = (await getCourses(ctx, configured, options)).filter((c) => configured.includes(c.id));
    const found = new Set(courses.map((c) => c.id));
    return { courses: courses.sort((a, b) => a.id - b.id), missing: configured.filter((id) => !found.has(id)) };
  }
  const now = Date.now() / 1000;
  const courses = (await getCourses(ctx, undefined, options)).filter((c) => c.isSite !== true && c.visible !== false && (c.enddate === undefined || c.enddate <= 0 || c.enddate > now));
  return { courses: courses.sort((a, b) => a.id - b.id), missing: [] };
}

/** A user's active enrolments, by course id; remembered for the pass (bounded). */
class EnrolmentCache {
  private readonly map = new Map<number, Promise<Map<number, MoodleUserCourse>>>();
  constructor(private readonly ctx: Context) {}

  get(userId: number, options: OperationOptions): Promise<Map<number, MoodleUserCourse>> {
    const cached = this.map.get(userId);
    if (cached !== undefined) {
      this.map.delete(userId);
      this.map.set(userId, cached);
      return cached;
    }
    const loaded = this.load(userId, options);
    this.map.set(userId, loaded);
    loaded.catch(() => this.map.delete(userId));
    while (this.map.size > USER_CACHE) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
    }
    return loaded;
  }

  private async load(userId: number, options: OperationOptions): Promise<Map<number, MoodleUserCourse>> {
    const body = await this.ctx.api.call('core_enrol_get_users_courses', { userid: userId, returnusercount: 0 }, options);
    if (!Array.isArray(body)) throw unexpected('core_enrol_get_users_courses', 'an array of courses');
    const courses = new Map<number, MoodleUserCourse>();
    for (const raw of body) {
      const course = readUserCourse(raw);
      if (course !== undefined) courses.set(course.id, course);
    }
    return courses;
  }
}

/** The completion time of a completed course; undefined when Moodle has none (no criteria). */
async function completionTime(ctx: Context, courseId: number, userId: number, options: OperationOptions): Promise<string | undefined> {
  try {
    return completionTimeOf(await ctx.api.call('core_completion_get_course_completion_status', { courseid: courseId, userid: userId }, options));
  } catch (err) {
    if (err instanceof LmsRequestError && (err.code === 'nocriteriaset' || err.code === 'usernotenroled')) return undefined;
    throw err;
  }
}

async function walkItem(ctx: Context, course: MoodleCourseInfo, user: MoodleRosterUser, cache: EnrolmentCache, options: OperationOptions): Promise<SourceItem> {
  const enrolment = (await cache.get(user.id, options)).get(course.id);
  const completedAt = enrolment?.completed === true ? await completionTime(ctx, course.id, user.id, options) : undefined;
  return toMoodleWalkItem({ course, user, enrolment, ...(completedAt !== undefined ? { completedAt } : {}) }, { baseUrl: ctx.config.baseUrl, assignmentType: ctx.config.assignmentType });
}

async function* walkPages(ctx: Context, options: ListChangesOptions, settings: PageSettings, covered: Set<string>): AsyncGenerator<ChangePage> {
  const signal = options.abortSignal;
  const opts = opt(signal);
  const size = pageSizeOf(settings.maxPageSize, MAX_ROSTER_PAGE);
  const start = startOf(options, settings);
  const pass = start.kind === 'after' || start.kind === 'within' ? start.pass : new Date().toISOString();
  const { courses, missing } = await coursesInScope(ctx, opts);
  for (const course of courses) covered.add(moodleCourseId(course.id));
  const todo = courses.filter((c) => (start.kind === 'after' ? c.id > start.course : start.kind === 'within' ? c.id >= start.course : true));
  const missingItems: SourceItem[] = missing.map((id) => ({ kind: 'invalid', key: moodleCourseId(id), reason: `LMS_COURSE_IDS names course ${id}, which Moodle did not return (missing, or not visible to the LMS_TOKEN user)`, position: `moodle course ${id}`, raw: JSON.stringify({ courseId: id }) }));
  if (todo.length === 0) {
    yield page(missingItems, { kind: 'done', pass }, true);
    return;
  }
  const cache = new EnrolmentCache(ctx);
  const limit = pLimit(ctx.concurrency);
  let pending = missingItems;
  for (const [index, course] of todo.entries()) {
    const lastCourse = index === todo.length - 1;
    const afterCourse: StoredMoodleCursor = lastCourse ? { kind: 'done', pass } : { kind: 'after', pass, course: course.id };
    const resume = start.kind === 'within' && start.course === course.id ? start : undefined;
    // Offsets move when the roster shrinks: read a page early and drop users already yielded.
    let from = resume === undefined ? 0 : Math.max(0, resume.from - size);
    let lastUser = resume?.last ?? 0;
    for (;;) {
      signal?.throwIfAborted();
      const body = await ctx.api.call(
        'core_enrol_get_enrolled_users',
        {
          courseid: course.id,
          options: [
            { name: 'withcapability', value: TRACKED },
            { name: 'sortby', value: 'id' },
            { name: 'sortdirection', value: 'ASC' },
            { name: 'limitfrom', value: from },
            { name: 'limitnumber', value: size },
          ],
        },
        opts,
      );
      if (!Array.isArray(body)) throw unexpected('core_enrol_get_enrolled_users', 'an array of users');
      const users = body.map(readRosterUser).filter((u): u is MoodleRosterUser => u !== undefined && u.id > lastUser);
      const items = await Promise.all(users.map((user) => limit(() => walkItem(ctx, course, user, cache, opts))));
      const full = body.length >= size;
      const maxId = users.reduce((m, u) => Math.max(m, u.id), lastUser);
      const cursor: StoredMoodleCursor = full ? { kind: 'within', pass, course: course.id, from: from + body.length, last: maxId } : afterCourse;
      yield page([...pending, ...items], cursor, !full && lastCourse);
      pending = [];
      if (!full) break;
      from += body.length;
      lastUser = maxId;
    }
  }
}

// ---- report mode ----------------------------------------------------------------------------

async function* reportPages(ctx: Context, reportId: number, options: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const signal = options.abortSignal;
  const opts = opt(signal);
  const perpage = pageSizeOf(settings.maxPageSize, MAX_REPORT_PAGE);
  const start = startOf(options, settings);
  const since = start.kind === 'report' && start.report === reportId ? start.since : undefined;
  const fromMs = since === undefined ? -Infinity : Date.parse(since) - ctx.lookbackMs;
  let latest = since;
  let stored: StoredMoodleCursor | undefined = since === undefined ? undefined : { kind: 'report', report: reportId, since };
  for (let pageNo = 0; ; pageNo += 1) {
    signal?.throwIfAborted();
    const body = await ctx.api.call('core_reportbuilder_retrieve_report', { reportid: reportId, page: pageNo, perpage }, opts);
    const data = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['data'] : undefined;
    const headers = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['headers'] : undefined;
    const rows = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['rows'] : undefined;
    if (!Array.isArray(headers) || !Array.isArray(rows)) throw unexpected('core_reportbuilder_retrieve_report', 'data.headers and data.rows');
    const found = findReportColumns(headers.map(String));
    if (!found.ok) {
      throw new ConfigError([{ setting: MOODLE_REPORT_SETTING, problem: `(report ${reportId}) lacks the columns ${found.missing.join(', ')}; see docs/adapters/moodle.md for the report to build` }]);
    }
    const items: SourceItem[] = [];
    rows.forEach((row, i) => {
      const cells = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)['columns'] : undefined;
      const position = `moodle report ${reportId} page ${pageNo} row ${i + 1}`;
      if (!Array.isArray(cells)) {
        items.push({ kind: 'invalid', key: `moodle:report:${reportId}:${pageNo}:${i}`, reason: 'the row has no columns', position, raw: JSON.stringify(row) });
        return;
      }
      const result = toMoodleReportItem(cells, found.columns, { baseUrl: ctx.config.baseUrl, assignmentType: ctx.config.assignmentType }, position);
      if (result.updatedAt !== undefined && (latest === undefined || result.updatedAt > latest)) latest = result.updatedAt;
      // Rows with no readable time, withdrawals (no time says when they happened), and recent changes.
      if (result.updatedAt === undefined || result.withdrawn || Date.parse(result.updatedAt) >= fromMs) items.push(result.item);
    });
    const total = typeof (data as Record<string, unknown>)['totalrowcount'] === 'number' ? ((data as Record<string, unknown>)['totalrowcount'] as number) : undefined;
    const last = rows.length < perpage || (total !== undefined && (pageNo + 1) * perpage >= total);
    // The cursor moves only once the whole report was read: rows are not in time order.
    if (last && latest !== undefined) stored = { kind: 'report', report: reportId, since: latest };
    yield stored === undefined ? { items, cursor: undefined, continuationToken: undefined } : { items, cursor: formatMoodleCursor(stored), continuationToken: undefined };
    if (last) return;
  }
}

// ---- one enrollment -------------------------------------------------------------------------

/** `moodle:<course>:<user>`: the learner's current enrolment, a withdrawal when it is no longer active. */
async function getEnrollment(ctx: Context, enrollmentId: string, options: OperationOptions): Promise<SourceItem | undefined> {
  const ids = parseMoodleEnrollmentId(enrollmentId);
  if (ids === undefined) return undefined;
  if (ctx.config.courseIds !== undefined && !ctx.config.courseIds.includes(ids.courseId)) return undefined;
  const [course] = await getCourses(ctx, [ids.courseId], options);
  if (course === undefined || course.id !== ids.courseId) return undefined;
  const users = await ctx.api.call('core_user_get_users_by_field', { field: 'id', values: [ids.userId] }, options);
  const user = Array.isArray(users) ? readRosterUser(users[0]) : undefined;
  if (user === undefined) return undefined;
  const enrolment = (await new EnrolmentCache(ctx).get(ids.userId, options)).get(ids.courseId);
  if (enrolment === undefined) return { kind: 'record', record: { enrollmentId, updatedAt: new Date().toISOString(), deleted: true }, position: `moodle course ${ids.courseId} user ${ids.userId}` };
  const completedAt = enrolment.completed === true ? await completionTime(ctx, ids.courseId, ids.userId, options) : undefined;
  return toMoodleWalkItem({ course, user, enrolment, ...(completedAt !== undefined ? { completedAt } : {}) }, { baseUrl: ctx.config.baseUrl, assignmentType: ctx.config.assignmentType });
}
