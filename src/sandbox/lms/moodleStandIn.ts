/**
 * MoodleStandIn: a real node:http server on 127.0.0.1 that answers Moodle's Web Services
 * REST protocol the way Moodle publishes it (lms-source-apis.md §2): one endpoint,
 * `/webservice/rest/server.php`, reading `wstoken`, `wsfunction` and `moodlewsrestformat`
 * and the function's PHP-style arguments from the query or a form body. Errors are
 * `{"exception","errorcode","message"[,"debuginfo"]}` with HTTP 200 (older Moodle; the
 * default) or 400 (`errorStatus`). Without `moodlewsrestformat=json` it answers XML, as
 * Moodle does. Functions: core_webservice_get_site_info, core_course_get_courses,
 * core_enrol_get_enrolled_users, core_enrol_get_users_courses,
 * core_completion_get_course_completion_status, core_user_get_users_by_field,
 * core_reportbuilder_retrieve_report (rows formatted like Moodle's: links and English
 * `userdate` text in UTC).
 * Seeded from the real logstore rows in shared/reference/data/moodle (`loadMoodleReference`);
 * Moodle publishes no response samples, so the response shapes follow the functions' return
 * descriptions. Faults (expired token, injected statuses, malformed bodies) are for tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalServer } from './standInHttp.js';

type Json = Record<string, unknown>;

export interface MoodleStandInCourse {
  readonly id: number;
  readonly fullname: string;
  readonly shortname?: string;
  readonly idnumber?: string;
  readonly format?: string;
  readonly categoryid?: number;
  readonly visible?: number;
  readonly startdate?: number;
  readonly enddate?: number;
  readonly timecreated?: number;
  timemodified?: number;
  readonly enablecompletion?: number;
  readonly lang?: string;
}

export interface MoodleStandInUser {
  readonly id: number;
  readonly username: string;
  readonly firstname: string;
  readonly lastname: string;
  readonly email: string;
  readonly idnumber?: string;
}

/** One user_enrolments row with the completion and access data Moodle keeps elsewhere. */
export interface MoodleStandInEnrolment {
  /** 0 active, 1 suspended (user_enrolments.status). */
  status: number;
  timecreated: number;
  timestart?: number;
  timeend?: number;
  /** Role shortnames in the course context. */
  roles: string[];
  enrol?: string;
  lastaccess?: number;
  /** Course progress percentage (\core_completion\progress), null when completion is off. */
  progress?: number | null;
  timestarted?: number;
  timecompleted?: number;
}

export interface MoodleStandInOptions {
  readonly token?: string;
  /** HTTP status of exception bodies: 200 (older Moodle, default) or 400 (newer). */
  readonly errorStatus?: 200 | 400;
}

export interface MoodleRecordedRequest {
  readonly method: string;
  readonly wsfunction: string;
  readonly status: number;
  /** The function's arguments (never the token). */
  readonly params: Readonly<Record<string, string>>;
}

interface Fault {
  readonly match: RegExp;
  remaining: number;
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Report columns the stand-in can show, with Moodle's default English headings. */
export const MOODLE_REPORT_COLUMNS = {
  course: 'Course full name with link',
  user: 'Full name with link',
  email: 'Email address',
  username: 'Username',
  status: 'Status',
  timeenrolled: 'Time enrolled',
  timestarted: 'Time started',
  timecompleted: 'Time completed',
  progress: 'Progress',
} as const;
export type MoodleReportColumn = keyof typeof MOODLE_REPORT_COLUMNS;

class MoodleException extends Error {
  constructor(readonly exception: string, readonly errorcode: string, message: string, readonly debuginfo?: string) {
    super(message);
  }
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Moodle's `userdate($t)` in English, UTC: strftimedaydatetime "%A, %d %B %Y, %I:%M %p" with fixday/fixhour. */
export function moodleUserdate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  return `${DAYS[d.getUTCDay()] ?? ''}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()}, ${hour12}:${String(d.getUTCMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export class MoodleStandIn {
  readonly token: string;
  private readonly courses = new Map<number, MoodleStandInCourse>();
  private readonly users = new Map<number, MoodleStandInUser>();
  private readonly enrolments = new Map<string, MoodleStandInEnrolment>();
  private readonly reports = new Map<number, { readonly columns: readonly MoodleReportColumn[]; readonly role: string | undefined }>();
  private readonly log: MoodleRecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private expired = false;
  private readonly http = new LocalServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => this.reply(res, req, '?', {}, 500, JSON.stringify({ exception: 'coding_exception', errorcode: 'codingerror', message: err instanceof Error ? err.message : String(err) })));
  });
  /** The stand-in's clock (unix seconds), for "active now" checks. */
  now = (): number => Math.floor(Date.now() / 1000);

  constructor(private readonly options: MoodleStandInOptions = {}) {
    this.token = options.token ?? randomBytes(16).toString('hex');
  }

  start(port = 0): Promise<string> {
    return this.http.start(port);
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** The root URL once started ("http://127.0.0.1:PORT"), empty before. */
  get baseUrl(): string {
    return this.http.origin ?? '';
  }

  // ---- data ---------------------------------------------------------------------------------

  addCourse(course: MoodleStandInCourse): void {
    this.courses.set(course.id, { shortname: `c${course.id}`, idnumber: '', format: 'topics', categoryid: 1, visible: 1, startdate: 0, enddate: 0, timecreated: 0, timemodified: 0, enablecompletion: 1, ...course });
  }

  addUser(user: MoodleStandInUser): void {
    this.users.set(user.id, user);
  }

  enrol(courseId: number, userId: number, enrolment: Partial<MoodleStandInEnrolment> = {}): void {
    this.enrolments.set(`${courseId}:${userId}`, { status: 0, timecreated: this.now(), roles: ['student'], enrol: 'manual', progress: 0, ...enrolment });
  }

  /** Changes an enrolment or its completion data (what a learner or teacher did in Moodle). */
  updateEnrolment(courseId: number, userId: number, patch: Partial<MoodleStandInEnrolment>): void {
    const current = this.enrolments.get(`${courseId}:${userId}`);
    if (current === undefined) throw new Error(`user ${userId} is not enrolled in course ${courseId}`);
    Object.assign(current, patch);
  }

  unenrol(courseId: number, userId: number): void {
    this.enrolments.delete(`${courseId}:${userId}`);
  }

  /**
   * A Report builder custom report with these columns (Course participants datasource), and
   * optionally the condition "Role is <role>" an administrator adds (e.g. student).
   */
  addReport(id: number, columns: readonly MoodleReportColumn[], condition: { readonly role?: string } = {}): void {
    this.reports.set(id, { columns, role: condition.role });
  }

  // ---- faults and observation -----------------------------------------------------------------

  expireToken(expired = true): void {
    this.expired = expired;
  }

  /** The next `count` calls of a function matching `match` get this answer instead. */
  failNext(match: RegExp, count: number, status: number, body: string, headers: Record<string, string> = {}): void {
    this.faults.push({ match, remaining: count, status, body, headers });
  }

  malformNext(match: RegExp, count: number): void {
    this.failNext(match, count, 200, '[{"id": 3, "username": ', { 'content-type': 'application/json' });
  }

  requests(): readonly MoodleRecordedRequest[] {
    return [...this.log];
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  private reply(res: ServerResponse, req: IncomingMessage, wsfunction: string, params: Record<string, string>, status: number, body: string, headers: Record<string, string> = {}): void {
    this.log.push({ method: req.method ?? 'GET', wsfunction, status, params });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname !== '/webservice/rest/server.php') {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not found</body></html>');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const all = new Map<string, string>();
    for (const [k, v] of url.searchParams) all.set(k, v);
    for (const [k, v] of form) all.set(k, v);
    const token = all.get('wstoken') ?? '';
    const wsfunction = all.get('wsfunction') ?? '';
    const json = all.get('moodlewsrestformat') === 'json';
    const params = Object.fromEntries([...all].filter(([k]) => k !== 'wstoken' && k !== 'wsfunction' && k !== 'moodlewsrestformat'));
    const fault = this.faults.find((f) => f.remaining > 0 && f.match.test(wsfunction));
    if (fault !== undefined) {
      fault.remaining -= 1;
      return this.reply(res, req, wsfunction, params, fault.status, fault.body, fault.headers);
    }
    try {
      if (token !== this.token) throw new MoodleException('moodle_exception', 'invalidtoken', 'Invalid token - token not found');
      if (this.expired) throw new MoodleException('webservice_access_exception', 'accessexception', 'Access control exception', 'Invalid token - token expired - check validuntil time for the token');
      const result = this.dispatch(wsfunction, params);
      if (!json) {
        res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
        res.end(`<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<VALUE>${escapeHtml(JSON.stringify(result))}</VALUE>\n</RESPONSE>\n`);
        this.log.push({ method: req.method ?? 'GET', wsfunction, status: 200, params });
        return;
      }
      this.reply(res, req, wsfunction, params, 200, JSON.stringify(result));
    } catch (err) {
      if (!(err instanceof MoodleException)) throw err;
      const body = { exception: err.exception, errorcode: err.errorcode, message: err.message, ...(err.debuginfo !== undefined ? { debuginfo: err.debuginfo } : {}) };
      this.reply(res, req, wsfunction, params, this.options.errorStatus ?? 200, JSON.stringify(body));
    }
  }

  private dispatch(fn: string, p: Record<string, string>): unknown {
    switch (fn) {
      case 'core_webservice_get_site_info':
        return { sitename: 'Stand-in Moodle', username: 'wsuser', userid: 2, siteurl: this.baseUrl, release: '4.1 (stand-in)', version: '2022112800', functions: [] };
      case 'core_course_get_courses':
        return this.getCourses(p);
      case 'core_enrol_get_enrolled_users':
        return this.enrolledUsers(p);
      case 'core_enrol_get_users_courses':
        return this.usersCourses(intParam(p, 'userid'));
      case 'core_completion_get_course_completion_status':
        return this.completionStatus(intParam(p, 'courseid'), intParam(p, 'userid'));
      case 'core_user_get_users_by_field':
        return this.usersByField(p);
      case 'core_reportbuilder_retrieve_report':
        return this.retrieveReport(intParam(p, 'reportid'), Number(p['page'] ?? 0), Number(p['perpage'] ?? 10));
      default:
        throw new MoodleException('dml_missing_record_exception', 'invalidrecord', "Can't find data record in database table external_functions.");
    }
  }

  private courseJson(c: MoodleStandInCourse): Json {
    return {
      id: c.id,
      shortname: c.shortname,
      categoryid: c.categoryid,
      fullname: c.fullname,
      displayname: c.fullname,
      idnumber: c.idnumber,
      summary: '',
      summaryformat: 1,
      format: c.format,
      startdate: c.startdate,
      enddate: c.enddate,
      visible: c.visible,
      timecreated: c.timecreated,
      timemodified: c.timemodified,
      enablecompletion: c.enablecompletion,
      ...(c.lang !== undefined ? { lang: c.lang } : {}),
    };
  }

  private getCourses(p: Record<string, string>): Json[] {
    const ids = Object.entries(p).filter(([k]) => /^options\[ids\]\[\d+\]$/.test(k)).map(([, v]) => Number(v));
    const list = ids.length > 0 ? ids.map((id) => this.courses.get(id)).filter((c): c is MoodleStandInCourse => c !== undefined) : [...this.courses.values()];
    return list.map((c) => this.courseJson(c));
  }

  private requireCourse(id: number): MoodleStandInCourse {
    const course = this.courses.get(id);
    if (course === undefined) throw new MoodleException('dml_missing_record_exception', 'invalidrecord', "Can't find data record in database table course.");
    return course;
  }

  private active(e: MoodleStandInEnrolment): boolean {
    const now = this.now();
    return e.status === 0 && (e.timestart ?? 0) <= now && ((e.timeend ?? 0) === 0 || (e.timeend ?? 0) > now);
  }

  private enrolledUsers(p: Record<string, string>): Json[] {
    const course = this.requireCourse(intParam(p, 'courseid'));
    const options = new Map<string, string>();
    for (let i = 0; p[`options[${i}][name]`] !== undefined; i += 1) options.set(p[`options[${i}][name]`] ?? '', p[`options[${i}][value]`] ?? '');
    const capability = options.get('withcapability');
    const onlyActive = options.get('onlyactive') === '1';
    const from = Number(options.get('limitfrom') ?? 0);
    const count = Number(options.get('limitnumber') ?? 0);
    const rows = [...this.enrolments.entries()]
      .filter(([key]) => key.startsWith(`${course.id}:`))
      .map(([key, e]) => ({ userId: Number(key.split(':')[1]), e }))
      .filter(({ e }) => (capability === 'moodle/course:isincompletionreports' ? e.roles.includes('student') : true) && (!onlyActive || this.active(e)))
      .sort((a, b) => a.userId - b.userId);
    const slice = count > 0 ? rows.slice(from, from + count) : rows.slice(from);
    return slice.flatMap(({ userId, e }) => {
      const u = this.users.get(userId);
      if (u === undefined) return [];
      return [{ id: u.id, username: u.username, fullname: `${u.firstname} ${u.lastname}`, email: u.email, idnumber: u.idnumber ?? '', lastcourseaccess: e.lastaccess ?? 0, roles: e.roles.map((r, i) => ({ roleid: 5 + i, name: '', shortname: r, sortorder: 0 })) }];
    });
  }

  private usersCourses(userId: number): Json[] {
    if (!this.users.has(userId)) throw new MoodleException('dml_missing_record_exception', 'invaliduser', 'Invalid user');
    return [...this.enrolments.entries()]
      .filter(([key, e]) => Number(key.split(':')[1]) === userId && this.active(e))
      .map(([key, e]) => {
        const c = this.requireCourse(Number(key.split(':')[0]));
        const tracked = c.enablecompletion === 1;
        return {
          id: c.id,
          shortname: c.shortname,
          fullname: c.fullname,
          displayname: c.fullname,
          idnumber: c.idnumber,
          visible: c.visible,
          format: c.format,
          enablecompletion: tracked,
          completionhascriteria: tracked,
          completionusertracked: tracked,
          category: c.categoryid,
          progress: tracked ? (e.progress ?? 0) : null,
          completed: tracked ? (e.timecompleted ?? 0) > 0 : null,
          startdate: c.startdate,
          enddate: c.enddate,
          marker: 0,
          lastaccess: e.lastaccess ?? null,
          isfavourite: false,
          hidden: false,
          showactivitydates: false,
          showcompletionconditions: tracked,
          timemodified: c.timemodified,
          ...(c.lang !== undefined ? { lang: c.lang } : {}),
        };
      })
      .sort((a, b) => a.id - b.id);
  }

  private completionStatus(courseId: number, userId: number): Json {
    const course = this.requireCourse(courseId);
    const e = this.enrolments.get(`${courseId}:${userId}`);
    if (e === undefined) throw new MoodleException('moodle_exception', 'usernotenroled', 'User is not enrolled in this course');
    if (course.enablecompletion !== 1) throw new MoodleException('moodle_exception', 'nocriteriaset', 'No completion criteria set for this course');
    const done = (e.timecompleted ?? 0) > 0;
    return {
      completionstatus: {
        completed: done,
        aggregation: 1,
        completions: [
          {
            type: 4,
            title: 'Activity completion',
            status: done ? 'Yes' : 'No',
            complete: done,
            timecompleted: done ? (e.timecompleted ?? null) : null,
            details: { type: 'Activity completion', criteria: 'Activity', requirement: 'Marking yourself complete', status: done ? 'Yes' : 'No' },
          },
        ],
      },
      warnings: [],
    };
  }

  private usersByField(p: Record<string, string>): Json[] {
    const field = p['field'];
    const values = Object.entries(p).filter(([k]) => /^values\[\d+\]$/.test(k)).map(([, v]) => v);
    return [...this.users.values()]
      .filter((u) => values.includes(field === 'id' ? String(u.id) : field === 'email' ? u.email : field === 'username' ? u.username : ''))
      .map((u) => ({ id: u.id, username: u.username, firstname: u.firstname, lastname: u.lastname, fullname: `${u.firstname} ${u.lastname}`, email: u.email, idnumber: u.idnumber ?? '' }));
  }

  private retrieveReport(reportId: number, page: number, perpage: number): Json {
    const report = this.reports.get(reportId);
    if (report === undefined) throw new MoodleException('invalid_parameter_exception', 'invalidrecord', "Can't find data record in database table reportbuilder_report.");
    const columns = report.columns;
    const rows = [...this.enrolments.entries()]
      .map(([key, e]) => ({ courseId: Number(key.split(':')[0]), userId: Number(key.split(':')[1]), e }))
      .filter((r) => report.role === undefined || r.e.roles.includes(report.role))
      .sort((a, b) => a.courseId - b.courseId || a.userId - b.userId);
    const slice = rows.slice(page * perpage, page * perpage + perpage);
    const date = (t: number | undefined): string => ((t ?? 0) > 0 ? moodleUserdate(t ?? 0) : '');
    const cell = (column: MoodleReportColumn, r: (typeof rows)[number]): string => {
      const c = this.courses.get(r.courseId);
      const u = this.users.get(r.userId);
      switch (column) {
        case 'course':
          return `<a href="${this.baseUrl}/course/view.php?id=${r.courseId}">${escapeHtml(c?.fullname ?? '')}</a>`;
        case 'user':
          return `<a href="${this.baseUrl}/user/profile.php?id=${r.userId}">${escapeHtml(`${u?.firstname ?? ''} ${u?.lastname ?? ''}`)}</a>`;
        case 'email':
          return u?.email ?? '';
        case 'username':
          return u?.username ?? '';
        case 'status':
          return r.e.status !== 0 ? 'Suspended' : this.active(r.e) ? 'Active' : 'Not current';
        case 'timeenrolled':
          return date(r.e.timestart !== undefined && r.e.timestart > 0 ? r.e.timestart : r.e.timecreated);
        case 'timestarted':
          return date(r.e.timestarted);
        case 'timecompleted':
          return date(r.e.timecompleted);
        case 'progress':
          return r.e.progress === null || r.e.progress === undefined ? '' : `${r.e.progress.toFixed(1)}%`;
      }
    };
    return {
      details: { id: reportId, name: `Report ${reportId}`, source: 'core_course\\reportbuilder\\datasource\\participants', type: 0, uniquerows: false, conditiondata: '{}', settingsdata: null },
      data: { headers: columns.map((c) => MOODLE_REPORT_COLUMNS[c]), rows: slice.map((r) => ({ columns: columns.map((c) => cell(c, r)) })), totalrowcount: rows.length },
      warnings: [],
    };
  }
}

function intParam(p: Record<string, string>, name: string): number {
  const value = p[name];
  if (value === undefined || !/^\d+$/.test(value)) throw new MoodleException('invalid_parameter_exception', 'invalidparameter', `Invalid parameter value detected (Missing required key in single structure: ${name})`);
  return Number(value);
}

// ---- the real reference data ----------------------------------------------------------------

export interface MoodleReference {
  /** logstore common/data.json: the site course, course 2 "test_name", user 1. */
  readonly common: Json;
  /** user_enrolment_updated user_resumed_course data.json: users 1 and 2, user_enrolments status 0. */
  readonly resumed: Json;
  /** user_enrolment_updated user_suspended_course data.json: status 1. */
  readonly suspended: Json;
  /** \core\event\user_enrolment_created: user 2 enrolled in course 2 (manual). */
  readonly enrolmentCreated: Json;
  /** \core\event\course_completed: user 1 completed course 2. */
  readonly courseCompleted: Json;
}

/** Reads shared/reference/data/moodle/logstore-events (see its README for the source). */
export function loadMoodleReference(dataDir: string): MoodleReference {
  const read = (name: string): Json => JSON.parse(readFileSync(join(dataDir, 'moodle', 'logstore-events', name), 'utf8')) as Json;
  return {
    common: read('moodle-common-data.json'),
    resumed: read('moodle-user-enrolment-updated-resumed-data.json'),
    suspended: read('moodle-user-enrolment-updated-suspended-data.json'),
    enrolmentCreated: read('moodle-user-enrolment-created-event.json'),
    courseCompleted: read('moodle-course-completed-event.json'),
  };
}

/**
 * Seeds the stand-in with the logstore rows: the site course (1, format "site") and course 2,
 * users 1 and 2, user 2 enrolled (manual) at the enrolment event's time with the resumed
 * (active) status, and user 1 enrolled and completed at the completion event's time. Where
 * the rows say nothing (usernames, course times, progress), the values are synthetic and
 * derived from them: username = the first name, course times = the event time.
 */
export function seedMoodleReference(standIn: MoodleStandIn, ref: MoodleReference): { readonly courseId: number; readonly completedUser: number; readonly enrolledUser: number; readonly time: number } {
  const time = Number(ref.courseCompleted['timecreated']);
  const courses = (ref.common['course'] ?? []) as Json[];
  for (const c of courses) {
    const id = Number(c['id']);
    standIn.addCourse({ id, fullname: String(c['fullname']), shortname: `course${id}`, lang: String(c['lang'] ?? 'en'), format: id === 1 ? 'site' : 'topics', categoryid: id === 1 ? 0 : 1, timecreated: time, timemodified: time });
  }
  for (const u of (ref.resumed['user'] ?? []) as Json[]) {
    const first = String(u['firstname']);
    standIn.addUser({ id: Number(u['id']), username: first, firstname: first, lastname: 'User', email: String(u['email']) });
  }
  const courseId = Number(ref.enrolmentCreated['courseid']);
  const enrolledUser = Number(ref.enrolmentCreated['relateduserid']);
  const status = Number((((ref.resumed['user_enrolments'] ?? []) as Json[])[0] ?? {})['status'] ?? 0);
  standIn.enrol(courseId, enrolledUser, { status, timecreated: Number(ref.enrolmentCreated['timecreated']), progress: 0 });
  const completedUser = Number(ref.courseCompleted['relateduserid']);
  standIn.enrol(Number(ref.courseCompleted['courseid']), completedUser, { timecreated: time, timestarted: time, timecompleted: time, progress: 100, lastaccess: time });
  return { courseId, completedUser, enrolledUser, time };
}

/** The suspended row's status (1), as the reference's user_enrolment_updated data gives it. */
export function suspendedStatus(ref: MoodleReference): number {
  return Number((((ref.suspended['user_enrolments'] ?? []) as Json[])[0] ?? {})['status'] ?? 1);
}

/** `node dist/src/sandbox/lms/moodleStandIn.js [port] [reference data dir]`: serves the seeded site, prints the settings to use. */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? '0');
  const dataDir = resolve(process.argv[3] ?? '../shared/reference/data');
  const standIn = new MoodleStandIn();
  // From a clone, with no reference data beside it: the generated demo data (./demoData.ts).
  if (existsSync(join(dataDir, 'moodle'))) seedMoodleReference(standIn, loadMoodleReference(dataDir));
  else (await import('./demoData.js')).seedMoodleDemo(standIn);
  standIn.addReport(1, ['course', 'user', 'email', 'username', 'status', 'timeenrolled', 'timestarted', 'timecompleted', 'progress'], { role: 'student' });
  const baseUrl = await standIn.start(port);
  process.stdout.write(`Moodle stand-in on ${baseUrl}\n  LMS_ADAPTER=moodle\n  LMS_BASE_URL=${baseUrl}\n  LMS_TOKEN=${standIn.token}\n  (report mode: LMS_MOODLE_REPORT_ID=1)\n`);
  process.once('SIGINT', () => void standIn.stop());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
