/**
 * The canonical enrollment: the `file` adapter's format and every adapter's output
 * (see DESIGN.md, "The canonical enrollment"). `parseEnrollment` is the one gate every
 * record passes: it never throws, it returns the record or the reasons it was refused.
 */

export type EnrollmentSource = 'assigned' | 'selfInitiated';
export type AssignmentType = 'required' | 'recommended';
export type EnrollmentStatus = 'notStarted' | 'inProgress' | 'completed';

export interface PersonRef {
  readonly id?: string;
  readonly email?: string;
  readonly upn?: string;
  readonly employeeId?: string;
  readonly entraObjectId?: string;
}

export interface Learner extends PersonRef {
  readonly id: string;
}

export interface Course {
  readonly id: string;
  readonly title: string;
  readonly url: string;
  readonly description?: string;
  readonly language?: string;
  readonly durationMinutes?: number;
  readonly thumbnailUrl?: string;
}

export interface Enrollment {
  readonly enrollmentId: string;
  readonly learner: Learner;
  readonly course: Course;
  readonly source: EnrollmentSource;
  readonly assignmentType?: AssignmentType;
  readonly assigner?: PersonRef;
  readonly assignedAt?: string;
  readonly dueAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly status: EnrollmentStatus;
  readonly progressPercent?: number;
  /** ISO 8601, normalised to `toISOString()` form so that string order is time order. */
  readonly updatedAt: string;
  readonly deleted?: false;
}

/** A withdrawn or unenrolled enrollment: only its id and time are needed to delete the activity. */
export interface Withdrawal {
  readonly enrollmentId: string;
  readonly updatedAt: string;
  readonly deleted: true;
}

/** What an adapter yields: a live enrollment, or a withdrawal (discriminated by `deleted`). */
export type EnrollmentRecord = Enrollment | Withdrawal;

export function isWithdrawal(record: EnrollmentRecord): record is Withdrawal {
  return record.deleted === true;
}

export type ParseResult =
  | { readonly ok: true; readonly enrollment: EnrollmentRecord }
  | { readonly ok: false; readonly reason: string; readonly enrollmentId?: string; readonly updatedAt?: string };

const SOURCES: readonly EnrollmentSource[] = ['assigned', 'selfInitiated'];
const ASSIGNMENT_TYPES: readonly AssignmentType[] = ['required', 'recommended'];
const STATUSES: readonly EnrollmentStatus[] = ['notStarted', 'inProgress', 'completed'];

/** Upper bound on id lengths: keeps keys well inside Table Storage's 1 KiB and Graph's URL limits. */
const MAX_ID_LENGTH = 400;

// A date-time with an explicit offset (or Z); a bare date is accepted as midnight UTC.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2})))?$/;
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export type DateTimeCheck = { readonly ok: true; readonly iso: string } | { readonly ok: false; readonly reason: string };

/**
 * Reads an ISO 8601 date-time exactly: its calendar and clock fields must exist as written.
 * JavaScript's date parsing rolls an impossible day into the next month (2026-02-30 becomes
 * 2 March), which would silently move a learner's due date; such a value is refused instead.
 */
export function checkDateTime(value: string): DateTimeCheck {
  const trimmed = value.trim();
  const m = ISO_DATE_TIME.exec(trimmed);
  if (m === null) return { ok: false, reason: 'is not an ISO 8601 date-time' };
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  if (month === undefined || month < 1 || month > 12) return { ok: false, reason: `is not a date: there is no month ${String(month)}` };
  const daysInMonth = new Date(Date.UTC(year ?? 0, month, 0)).getUTCDate();
  if (day === undefined || day < 1 || day > daysInMonth) return { ok: false, reason: `is not a date: ${MONTH_NAMES[month - 1] ?? ''} ${year} has ${daysInMonth} days` };
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return { ok: false, reason: 'is not a time of day (hours 00-23, minutes and seconds 00-59)' };
  if ((offsetHours ?? 0) > 23 || (offsetMinutes ?? 0) > 59) return { ok: false, reason: 'has an impossible UTC offset' };
  const ms = Date.parse(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed.replace(' ', 'T'));
  if (Number.isNaN(ms)) return { ok: false, reason: 'is not an ISO 8601 date-time' };
  return { ok: true, iso: new Date(ms).toISOString() };
}

/** Parses an ISO 8601 date-time into canonical `toISOString()` form, or undefined (see checkDateTime). */
export function normalizeDateTime(value: string): string | undefined {
  const checked = checkDateTime(value);
  return checked.ok ? checked.iso : undefined;
}

/**
 * Why an id cannot be used as it is, or undefined. Ids are opaque: they are never trimmed or
 * normalised, because " enr-1", "enr-1\t" and "enr-1" are different keys and a trimmed one may be
 * another enrollment's. What no LMS means as part of an id is refused instead: control
 * characters (a tab, a line break), invisible format characters (U+FEFF, the byte order mark an
 * editor or a CSV export glues to the first value; zero-width spaces), line and paragraph
 * separators, and broken UTF-16.
 */
export function idProblem(id: string): string | undefined {
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.exec(id);
  if (bad === null) return undefined;
  const code = `U+${(bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CHARACTER_NAMES[code];
  return `contains ${code}${name !== undefined ? ` (${name})` : ''} at position ${bad.index + 1}: ids are used exactly as sent, never trimmed, and an invisible or control character would make it another id than the one the LMS shows`;
}

const CHARACTER_NAMES: Readonly<Record<string, string>> = {
  'U+0009': 'a tab',
  'U+000A': 'a line feed',
  'U+000D': 'a carriage return',
  'U+0000': 'a NUL',
  'U+FEFF': 'a byte order mark',
  'U+200B': 'a zero-width space',
  'U+2028': 'a line separator',
  'U+2029': 'a paragraph separator',
};

class Reasons {
  readonly list: string[] = [];
  add(reason: string): void {
    this.list.push(reason);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Empty strings and nulls mean "absent": CSV exports have no other way to say it. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

function readString(obj: Record<string, unknown>, field: string, reasons: Reasons, required: boolean): string | undefined {
  const value = obj[field.split('.').pop() ?? field];
  if (!present(value)) {
    if (required) reasons.add(`${field} is required`);
    return undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') {
    reasons.add(`${field} must be a string`);
    return undefined;
  }
  return value.trim();
}

/** An id exactly as sent (see idProblem): a number becomes its decimal text; nothing is trimmed. */
function readId(obj: Record<string, unknown>, field: string, reasons: Reasons, required: boolean): string | undefined {
  const value = obj[field.split('.').pop() ?? field];
  if (!present(value)) {
    if (required) reasons.add(`${field} is required`);
    return undefined;
  }
  const id = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof id !== 'string') {
    reasons.add(`${field} must be a string`);
    return undefined;
  }
  const problem = idProblem(id);
  if (problem !== undefined) {
    reasons.add(`${field} ${problem}`);
    return undefined;
  }
  return id;
}

function readEnum<T extends string>(obj: Record<string, unknown>, field: string, allowed: readonly T[], reasons: Reasons, required: boolean): T | undefined {
  const value = readString(obj, field, reasons, required);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    reasons.add(`${field} "${value}" is not one of ${allowed.join(', ')}`);
    return undefined;
  }
  return value as T;
}

function readDate(obj: Record<string, unknown>, field: string, reasons: Reasons, required: boolean): string | undefined {
  const value = readString(obj, field, reasons, required);
  if (value === undefined) return undefined;
  const checked = checkDateTime(value);
  if (!checked.ok) {
    reasons.add(`${field} "${value}" ${checked.reason}`);
    return undefined;
  }
  return checked.iso;
}

function readInteger(obj: Record<string, unknown>, field: string, min: number, max: number, reasons: Reasons): number | undefined {
  const raw = obj[field.split('.').pop() ?? field];
  if (!present(raw)) return undefined;
  const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    reasons.add(`${field} ${JSON.stringify(raw)} is not an integer`);
    return undefined;
  }
  if (value < min || value > max) {
    reasons.add(`${field} ${value} is outside ${min}..${max}`);
    return undefined;
  }
  return value;
}

function readBoolean(obj: Record<string, unknown>, field: string, reasons: Reasons): boolean | undefined {
  const raw = obj[field];
  if (!present(raw)) return undefined;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const lowered = raw.trim().toLowerCase();
    if (lowered === 'true' || lowered === '1' || lowered === 'yes') return true;
    if (lowered === 'false' || lowered === '0' || lowered === 'no') return false;
  }
  reasons.add(`${field} ${JSON.stringify(raw)} is not a boolean`);
  return undefined;
}

function readUrl(obj: Record<string, unknown>, field: string, reasons: Reasons, required: boolean): string | undefined {
  const value = readString(obj, field, reasons, required);
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    reasons.add(`${field} "${value}" is not an http(s) URL`);
    return undefined;
  }
  return value;
}

function readPerson(obj: Record<string, unknown>, prefix: string, reasons: Reasons, idRequired: boolean): PersonRef | undefined {
  const nested = obj[prefix];
  if (!present(nested)) {
    if (idRequired) reasons.add(`${prefix}.id is required`);
    return undefined;
  }
  if (!isRecord(nested)) {
    reasons.add(`${prefix} must be an object`);
    return undefined;
  }
  const person = {
    id: readId(nested, `${prefix}.id`, reasons, idRequired),
    email: readString(nested, `${prefix}.email`, reasons, false),
    upn: readString(nested, `${prefix}.upn`, reasons, false),
    employeeId: readString(nested, `${prefix}.employeeId`, reasons, false),
    entraObjectId: readString(nested, `${prefix}.entraObjectId`, reasons, false),
  };
  return dropUndefined(person);
}

function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Validates one raw record (a parsed JSON line, or a CSV row already unflattened into
 * nested objects) against the canonical format. Every rule broken is named in `reason`.
 */
export function parseEnrollment(raw: unknown): ParseResult {
  if (!isRecord(raw)) return { ok: false, reason: 'record is not a JSON object' };
  const reasons = new Reasons();
  const enrollmentId = readId(raw, 'enrollmentId', reasons, true);
  const updatedAt = readDate(raw, 'updatedAt', reasons, true);
  const deleted = readBoolean(raw, 'deleted', reasons);
  if (deleted === true) {
    // A withdrawal needs nothing else: the rest of a withdrawn row is often blank in exports.
    if (reasons.list.length > 0 || enrollmentId === undefined || updatedAt === undefined) {
      return dropUndefined({ ok: false as const, reason: reasons.list.join('; '), enrollmentId, updatedAt });
    }
    return { ok: true, enrollment: { enrollmentId, updatedAt, deleted: true } };
  }
  const learner = readPerson(raw, 'learner', reasons, true);

  let course: Course | undefined;
  const rawCourse = raw['course'];
  if (!isRecord(rawCourse)) {
    reasons.add(present(rawCourse) ? 'course must be an object' : 'course.id is required');
  } else {
    const id = readId(rawCourse, 'course.id', reasons, true);
    const title = readString(rawCourse, 'course.title', reasons, true);
    const url = readUrl(rawCourse, 'course.url', reasons, true);
    const description = readString(rawCourse, 'course.description', reasons, false);
    const language = readString(rawCourse, 'course.language', reasons, false);
    const durationMinutes = readInteger(rawCourse, 'course.durationMinutes', 0, 100_000, reasons);
    const thumbnailUrl = readUrl(rawCourse, 'course.thumbnailUrl', reasons, false);
    if (language !== undefined && !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) {
      reasons.add(`course.language "${language}" is not a language tag such as en-US`);
    }
    if (id !== undefined && title !== undefined && url !== undefined) {
      course = dropUndefined({ id, title, url, description, language, durationMinutes, thumbnailUrl });
    }
  }

  const source = readEnum(raw, 'source', SOURCES, reasons, true);
  const status = readEnum(raw, 'status', STATUSES, reasons, true);
  const assignmentType = readEnum(raw, 'assignmentType', ASSIGNMENT_TYPES, reasons, false);
  const assigner = readPerson(raw, 'assigner', reasons, false);
  const assignedAt = readDate(raw, 'assignedAt', reasons, false);
  const dueAt = readDate(raw, 'dueAt', reasons, false);
  const startedAt = readDate(raw, 'startedAt', reasons, false);
  const completedAt = readDate(raw, 'completedAt', reasons, false);
  const progressPercent = readInteger(raw, 'progressPercent', 0, 100, reasons);

  if (source === 'selfInitiated' && status === 'notStarted') {
    reasons.add('status "notStarted" is not allowed for a selfInitiated course (Graph accepts only inProgress or completed)');
  }
  if (source === 'assigned' && assignmentType === undefined && present(raw['assignmentType']) === false) {
    reasons.add('assignmentType is required when source is "assigned"');
  }
  if (source === 'selfInitiated' && present(raw['assignmentType'])) {
    reasons.add('assignmentType applies only when source is "assigned"');
  }
  if (reasons.list.length > 0 || enrollmentId === undefined || updatedAt === undefined || learner?.id === undefined || course === undefined || source === undefined || status === undefined) {
    return dropUndefined({ ok: false as const, reason: reasons.list.join('; ') || 'record is incomplete', enrollmentId, updatedAt });
  }

  const enrollment: Enrollment = dropUndefined({
    enrollmentId,
    learner: learner as Learner,
    course,
    source,
    assignmentType,
    assigner: assigner && Object.keys(assigner).length > 0 ? assigner : undefined,
    assignedAt,
    dueAt,
    startedAt,
    completedAt,
    status,
    progressPercent,
    updatedAt,
  });
  return { ok: true, enrollment };
}

/**
 * Turns a flat row whose keys are dotted paths (`learner.email`, `course.id`) into nested
 * objects, as CSV exports name nested fields. Unknown columns are kept, and ignored later.
 */
export function unflattenRow(row: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const path = key.trim().split('.');
    let target: Record<string, unknown> = out;
    for (const segment of path.slice(0, -1)) {
      const next = target[segment];
      if (isRecord(next)) {
        target = next;
      } else {
        const created: Record<string, unknown> = {};
        target[segment] = created;
        target = created;
      }
    }
    const last = path[path.length - 1];
    if (last !== undefined) target[last] = value;
  }
  return out;
}
