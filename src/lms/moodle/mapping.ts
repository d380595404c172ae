/**
 * Moodle web-service records → canonical enrollments (pure; no I/O). Every record passes
 * through `parseEnrollment`.
 *
 * Rules (lms-source-apis.md §2.4, with the choices made where it leaves room):
 * - `moodle:<courseid>:<userid>`; course `moodle:course:<id>`, its full name,
 *   `<site>/course/view.php?id=<id>`, its language when forced;
 * - a user on the course roster whose enrolment is not active (suspended, ended, method
 *   disabled: core_enrol_get_users_courses leaves the course out) → a withdrawal;
 * - status: completed → completed; progress > 0 or any course access → inProgress; else
 *   notStarted; progressPercent = round(progress) (omitted when completion is off; 100 when
 *   completed without a figure);
 * - completedAt = the latest criterion timecompleted (walk) or the report's "Time completed";
 * - dueAt = the course end date; learner: id, email, username as UPN when it is an address,
 *   idnumber as employeeId;
 * - updatedAt (walk) = the later of the course's timemodified and the learner's last course
 *   access: stable while nothing changes, so re-reads are identical, and the same for a live
 *   record and the withdrawal that ends it (a completion changes the record's content, and
 *   the engine's fingerprint sees that).
 * Report rows are formatted text (Moodle's `format_row`): links, dates written by `userdate`.
 */
import { createHash } from 'node:crypto';
import { normalizeDateTime, parseEnrollment, type AssignmentType } from '../../mapping/enrollment.js';
import type { SourceItem } from '../types.js';

type Obj = Record<string, unknown>;

export interface MoodleCourseInfo {
  readonly id: number;
  readonly fullname: string;
  readonly timemodified?: number;
  readonly enddate?: number;
  readonly lang?: string;
  readonly visible?: boolean;
  readonly isSite?: boolean;
}

export interface MoodleRosterUser {
  readonly id: number;
  readonly email?: string;
  readonly username?: string;
  readonly idnumber?: string;
  /** Unix seconds; 0 or absent: never. */
  readonly lastcourseaccess?: number;
}

/** One course of core_enrol_get_users_courses (only active enrolments appear there). */
export interface MoodleUserCourse {
  readonly id: number;
  readonly progress?: number;
  readonly completed?: boolean;
  readonly lastaccess?: number;
}

export interface MoodleMappingContext {
  readonly baseUrl: string;
  readonly assignmentType: AssignmentType;
}

export function moodleEnrollmentId(courseId: number, userId: number): string {
  return `moodle:${courseId}:${userId}`;
}

export function parseMoodleEnrollmentId(enrollmentId: string): { courseId: number; userId: number } | undefined {
  const m = /^moodle:(\d{1,15}):(\d{1,15})$/.exec(enrollmentId);
  return m?.[1] === undefined || m[2] === undefined ? undefined : { courseId: Number(m[1]), userId: Number(m[2]) };
}

export function moodleCourseId(id: number): string {
  return `moodle:course:${id}`;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Unix seconds → ISO; 0 and negatives mean "none" in Moodle. */
export function unixToIso(seconds: number | undefined): string | undefined {
  return seconds === undefined || seconds <= 0 ? undefined : new Date(seconds * 1000).toISOString();
}

export function readMoodleCourse(raw: unknown): MoodleCourseInfo | undefined {
  if (!isObj(raw)) return undefined;
  const id = int(raw['id']);
  const fullname = str(raw['fullname']) ?? str(raw['displayname']) ?? str(raw['shortname']);
  if (id === undefined || fullname === undefined) return undefined;
  const timemodified = int(raw['timemodified']);
  const enddate = int(raw['enddate']);
  const lang = str(raw['lang']);
  const visible = raw['visible'] === undefined ? undefined : int(raw['visible']) !== 0 && raw['visible'] !== false;
  return {
    id,
    fullname,
    ...(timemodified !== undefined ? { timemodified } : {}),
    ...(enddate !== undefined ? { enddate } : {}),
    ...(lang !== undefined ? { lang } : {}),
    ...(visible !== undefined ? { visible } : {}),
    isSite: raw['format'] === 'site' || int(raw['categoryid']) === 0,
  };
}

export function readRosterUser(raw: unknown): MoodleRosterUser | undefined {
  if (!isObj(raw)) return undefined;
  const id = int(raw['id']);
  if (id === undefined) return undefined;
  const email = str(raw['email']);
  const username = str(raw['username']);
  const idnumber = str(raw['idnumber']);
  const lastcourseaccess = int(raw['lastcourseaccess']);
  return { id, ...(email !== undefined ? { email } : {}), ...(username !== undefined ? { username } : {}), ...(idnumber !== undefined ? { idnumber } : {}), ...(lastcourseaccess !== undefined ? { lastcourseaccess } : {}) };
}

export function readUserCourse(raw: unknown): MoodleUserCourse | undefined {
  if (!isObj(raw)) return undefined;
  const id = int(raw['id']);
  if (id === undefined) return undefined;
  const progress = typeof raw['progress'] === 'number' && Number.isFinite(raw['progress']) ? raw['progress'] : undefined;
  const lastaccess = int(raw['lastaccess']);
  return { id, ...(progress !== undefined ? { progress } : {}), ...(typeof raw['completed'] === 'boolean' ? { completed: raw['completed'] } : {}), ...(lastaccess !== undefined ? { lastaccess } : {}) };
}

/** The latest criterion timecompleted of core_completion_get_course_completion_status, as ISO. */
export function completionTimeOf(raw: unknown): string | undefined {
  if (!isObj(raw) || !isObj(raw['completionstatus'])) return undefined;
  const completions = raw['completionstatus']['completions'];
  if (!Array.isArray(completions)) return undefined;
  let latest: number | undefined;
  for (const c of completions) {
    const t = isObj(c) ? int(c['timecompleted']) : undefined;
    if (t !== undefined && t > 0 && (latest === undefined || t > latest)) latest = t;
  }
  return unixToIso(latest);
}

function maxIso(...values: (string | undefined)[]): string | undefined {
  return values.reduce<string | undefined>((a, b) => (b !== undefined && (a === undefined || b > a) ? b : a), undefined);
}

/** The course fields of an enrollment's course, and the base of a catalog row (./catalog.ts). */
export function moodleCourseFields(course: Pick<MoodleCourseInfo, 'id' | 'fullname' | 'lang'>, ctx: Pick<MoodleMappingContext, 'baseUrl'>): Obj {
  return {
    id: moodleCourseId(course.id),
    title: course.fullname,
    url: `${ctx.baseUrl}/course/view.php?id=${course.id}`,
    // Moodle language packs are named like en, en_us, pt_br; anything else is left out rather than refusing the record.
    ...(course.lang !== undefined && /^[a-z]{2,3}(_[a-z0-9]{2,8})*$/i.test(course.lang) ? { language: course.lang.replace(/_/g, '-') } : {}),
  };
}

function learnerFields(userId: number, email: string | undefined, username: string | undefined, idnumber: string | undefined): Obj {
  return {
    id: String(userId),
    ...(email !== undefined ? { email } : {}),
    ...(username !== undefined && username.includes('@') ? { upn: username } : {}),
    ...(idnumber !== undefined ? { employeeId: idnumber } : {}),
  };
}

function toItem(candidate: Obj, enrollmentId: string, position: string, raw: string): SourceItem {
  const parsed = parseEnrollment(candidate);
  if (parsed.ok) return { kind: 'record', record: parsed.enrollment, position };
  return { kind: 'invalid', key: enrollmentId, enrollmentId, reason: parsed.reason, position, raw, ...(parsed.updatedAt !== undefined ? { updatedAt: parsed.updatedAt } : {}) };
}

export interface WalkInput {
  readonly course: MoodleCourseInfo;
  readonly user: MoodleRosterUser;
  /** The course in the user's active enrolments; undefined: the enrolment is not active. */
  readonly enrolment: MoodleUserCourse | undefined;
  /** From the completion status, when the course is completed. */
  readonly completedAt?: string;
}

/** Walk mode: a roster user of a course, with their active-enrolment data. */
export function toMoodleWalkItem(input: WalkInput, ctx: MoodleMappingContext): SourceItem {
  const { course, user, enrolment } = input;
  const enrollmentId = moodleEnrollmentId(course.id, user.id);
  const position = `moodle course ${course.id} user ${user.id}`;
  const lastAccess = unixToIso(Math.max(user.lastcourseaccess ?? 0, enrolment?.lastaccess ?? 0));
  const completedAt = enrolment?.completed === true ? input.completedAt : undefined;
  // Not the completion time: a withdrawal cannot know it, and must not look older than the live record it ends.
  const updatedAt = maxIso(unixToIso(course.timemodified), lastAccess) ?? new Date(0).toISOString();
  const raw = JSON.stringify(input);
  if (enrolment === undefined) return toItem({ enrollmentId, updatedAt, deleted: true }, enrollmentId, position, raw);
  const completed = enrolment.completed === true;
  const progress = enrolment.progress === undefined ? (completed ? 100 : undefined) : Math.max(0, Math.min(100, Math.round(enrolment.progress)));
  const status = completed ? 'completed' : (progress ?? 0) > 0 || lastAccess !== undefined ? 'inProgress' : 'notStarted';
  const dueAt = unixToIso(course.enddate);
  return toItem(
    {
      enrollmentId,
      learner: learnerFields(user.id, user.email, user.username, user.idnumber),
      course: moodleCourseFields(course, ctx),
      source: 'assigned',
      assignmentType: ctx.assignmentType,
      ...(dueAt !== undefined ? { dueAt } : {}),
      ...(completedAt !== undefined ? { completedAt } : {}),
      status,
      ...(progress !== undefined ? { progressPercent: progress } : {}),
      updatedAt,
    },
    enrollmentId,
    position,
    raw,
  );
}

// ---- Report builder rows --------------------------------------------------------------------

/** Where each field is in a report's columns. */
export interface ReportColumns {
  readonly course: number;
  readonly user: number;
  readonly enrolled: number;
  readonly completed: number;
  readonly started?: number;
  readonly email?: number;
  readonly username?: number;
  readonly idnumber?: number;
  readonly progress?: number;
  readonly status?: number;
}

/** The default English headings of the columns the adapter reads (docs/adapters/moodle.md). */
export const REPORT_HEADINGS: Readonly<Record<keyof ReportColumns, readonly string[]>> = {
  course: ['course full name with link'],
  user: ['full name with link', 'user full name with link'],
  enrolled: ['time enrolled'],
  completed: ['time completed'],
  started: ['time started'],
  email: ['email address', 'email'],
  username: ['username'],
  idnumber: ['id number', 'idnumber'],
  progress: ['progress', 'progress percentage'],
  status: ['status', 'enrolment status'],
};
const REQUIRED: readonly (keyof ReportColumns)[] = ['course', 'user', 'enrolled', 'completed'];

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** Text of formatted HTML: tags dropped, entities decoded, spaces collapsed. */
export function htmlText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#') && name !== '#39') return String.fromCodePoint(Number(name.slice(1)));
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

export function normalizeHeading(heading: string): string {
  return htmlText(heading).toLowerCase();
}

/** Finds the columns by heading; `missing` lists the required headings not found. */
export function findReportColumns(headers: readonly string[]): { ok: true; columns: ReportColumns } | { ok: false; missing: string[] } {
  const normalized = headers.map(normalizeHeading);
  const found: Partial<Record<keyof ReportColumns, number>> = {};
  for (const [field, names] of Object.entries(REPORT_HEADINGS) as [keyof ReportColumns, readonly string[]][]) {
    const index = normalized.findIndex((h) => names.includes(h));
    if (index >= 0) found[field] = index;
  }
  const missing = REQUIRED.filter((f) => found[f] === undefined).map((f) => `"${REPORT_HEADINGS[f][0] ?? f}"`);
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, columns: found as ReportColumns };
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * A date as Moodle's `userdate` writes it in English (default format strftimedaydatetime,
 * "Tuesday, 5 November 2024, 1:38 PM", or strftimedatetime without the weekday), read as
 * UTC; also unix seconds and ISO 8601. '' → null (no date); unreadable → undefined.
 */
export function parseMoodleDate(text: string): string | null | undefined {
  const value = htmlText(text);
  if (value === '' || value === '-' || /^never$/i.test(value)) return null;
  if (/^\d{9,11}$/.test(value)) return unixToIso(Number(value)) ?? null;
  const iso = normalizeDateTime(value);
  if (iso !== undefined) return iso;
  const m = /^(?:[A-Za-z]+,\s*)?(\d{1,2})\s+([A-Za-z]+)\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$/.exec(value);
  if (m === null) return undefined;
  const month = MONTHS.indexOf((m[2] ?? '').toLowerCase());
  if (month < 0) return undefined;
  let hour = Number(m[4]);
  const ampm = m[7]?.toLowerCase();
  if (ampm !== undefined && (hour < 1 || hour > 12)) return undefined;
  if (ampm === 'pm' && hour < 12) hour += 12;
  if (ampm === 'am' && hour === 12) hour = 0;
  const ms = Date.UTC(Number(m[3]), month, Number(m[1]), hour, Number(m[5]), Number(m[6] ?? 0));
  const date = new Date(ms);
  return date.getUTCDate() === Number(m[1]) && hour < 24 && Number(m[5]) < 60 ? date.toISOString() : undefined;
}

/** The id in a link such as `<a href="…/course/view.php?id=5">Name</a>`, and the link's text. */
export function parseMoodleLink(html: string, page: 'course/view.php' | 'user'): { id: number; text: string } | undefined {
  const pattern = page === 'course/view.php' ? /href="[^"]*\/course\/view\.php\?(?:[^"]*&(?:amp;)?)?id=(\d+)/i : /href="[^"]*\/user\/(?:profile|view)\.php\?(?:[^"]*&(?:amp;)?)?id=(\d+)/i;
  const m = pattern.exec(html);
  return m?.[1] === undefined ? undefined : { id: Number(m[1]), text: htmlText(html) };
}

export interface ReportRowResult {
  readonly item: SourceItem;
  /** The row's updatedAt (undefined when unreadable). */
  readonly updatedAt: string | undefined;
  /** The row says the enrolment is not active. */
  readonly withdrawn: boolean;
}

/** One report row (its `columns`) → a source item. */
export function toMoodleReportItem(cells: readonly unknown[], columns: ReportColumns, ctx: MoodleMappingContext, position: string): ReportRowResult {
  const cell = (i: number | undefined): string => (i === undefined ? '' : typeof cells[i] === 'string' ? (cells[i] as string) : cells[i] === null || cells[i] === undefined ? '' : String(cells[i] as number));
  const raw = JSON.stringify(cells);
  const course = parseMoodleLink(cell(columns.course), 'course/view.php');
  const user = parseMoodleLink(cell(columns.user), 'user');
  const invalid = (reason: string, enrollmentId?: string): ReportRowResult => ({
    item: { kind: 'invalid', key: enrollmentId ?? `moodle:invalid:${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`, reason, position, raw, ...(enrollmentId !== undefined ? { enrollmentId } : {}) },
    updatedAt: undefined,
    withdrawn: false,
  });
  if (course === undefined) return invalid('the "Course full name with link" cell has no course/view.php?id= link');
  if (user === undefined) return invalid('the "Full name with link" cell has no user/profile.php?id= link');
  const enrollmentId = moodleEnrollmentId(course.id, user.id);
  const dates: Record<'enrolled' | 'started' | 'completed', string | undefined> = { enrolled: undefined, started: undefined, completed: undefined };
  for (const field of ['enrolled', 'started', 'completed'] as const) {
    const text = cell(columns[field]);
    const parsed = parseMoodleDate(text);
    if (parsed === undefined) return invalid(`the "${REPORT_HEADINGS[field][0] ?? field}" cell "${htmlText(text)}" is not a date this adapter reads (give the web-service user English and the UTC timezone)`, enrollmentId);
    dates[field] = parsed ?? undefined;
  }
  const updatedAt = maxIso(dates.enrolled, dates.started, dates.completed);
  if (updatedAt === undefined) return invalid('the row has no time enrolled, started or completed', enrollmentId);
  const statusText = htmlText(cell(columns.status)).toLowerCase();
  const withdrawn = statusText !== '' && statusText !== 'active';
  if (withdrawn) {
    const item = toItem({ enrollmentId, updatedAt, deleted: true }, enrollmentId, position, raw);
    return { item, updatedAt, withdrawn };
  }
  const percentMatch = /(\d+(?:\.\d+)?)\s*%/.exec(htmlText(cell(columns.progress)));
  const completed = dates.completed !== undefined;
  const progress = percentMatch?.[1] !== undefined ? Math.max(0, Math.min(100, Math.round(Number(percentMatch[1])))) : completed ? 100 : undefined;
  const status = completed ? 'completed' : dates.started !== undefined || (progress ?? 0) > 0 ? 'inProgress' : 'notStarted';
  const email = htmlText(cell(columns.email));
  const username = htmlText(cell(columns.username));
  const idnumber = htmlText(cell(columns.idnumber));
  const item = toItem(
    {
      enrollmentId,
      learner: learnerFields(user.id, email || undefined, username || undefined, idnumber || undefined),
      course: moodleCourseFields({ id: course.id, fullname: course.text }, ctx),
      source: 'assigned',
      assignmentType: ctx.assignmentType,
      ...(dates.enrolled !== undefined ? { assignedAt: dates.enrolled } : {}),
      ...(dates.started !== undefined ? { startedAt: dates.started } : {}),
      ...(dates.completed !== undefined ? { completedAt: dates.completed } : {}),
      status,
      ...(progress !== undefined ? { progressPercent: progress } : {}),
      updatedAt,
    },
    enrollmentId,
    position,
    raw,
  );
  return { item, updatedAt, withdrawn };
}
