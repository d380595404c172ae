/**
 * Canvas API records → canonical enrollments (pure; no I/O). Every record passes through
 * `parseEnrollment`, so an adapter never yields what the file adapter would refuse.
 *
 * Rules (lms-source-apis.md §3.5, with the choices made where it leaves room):
 * - `canvas:<enrollment id>`; only StudentEnrollment rows become activities.
 * - enrollment_state deleted, rejected or inactive → a withdrawal; every other state (active,
 *   invited, creation_pending, completed = course concluded) → a live assignment.
 * - status: progress.completed_at → completed; completed requirements or any activity
 *   (last_activity_at) → inProgress; else notStarted. progressPercent = floor(100 ×
 *   completed / count), omitted when the course has no requirements.
 * - updatedAt = the later of the enrollment's updated_at and progress.completed_at, so that
 *   re-reading an unchanged enrollment gives an identical record.
 * - learner: id = user_id; email = the login id when it is an address; employeeId = sis_user_id.
 * - course: `canvas:course:<id>`, its name, `<base>/courses/<id>`, locale when set.
 * - assignedAt = created_at; dueAt = enrollment end_at, else course end_at, else term end_at.
 */
import { createHash } from 'node:crypto';
import { normalizeDateTime, parseEnrollment, type AssignmentType } from '../../mapping/enrollment.js';
import type { SourceItem } from '../types.js';

export interface CanvasCourseInfo {
  readonly id: number;
  readonly name: string;
  readonly endAt?: string;
  readonly termEndAt?: string;
  readonly locale?: string;
}

export interface CanvasProgress {
  readonly requirementCount: number;
  readonly requirementCompletedCount: number;
  readonly completedAt: string | undefined;
}

export interface CanvasMappingContext {
  readonly baseUrl: string;
  readonly assignmentType: AssignmentType;
  /** The enrollment's course; undefined when Canvas does not know it. */
  readonly course: CanvasCourseInfo | undefined;
  /** Module progress of a user in this course; undefined when the course is not module-based. */
  readonly progressOf: (userId: string) => CanvasProgress | undefined;
}

const WITHDRAWN_STATES = new Set(['deleted', 'rejected', 'inactive']);
export const CANVAS_ENROLLMENT_STATES = ['active', 'invited', 'creation_pending', 'completed', 'inactive', 'deleted', 'rejected'] as const;

export function canvasEnrollmentId(id: number | string): string {
  return `canvas:${id}`;
}

/** The numeric Canvas id in `canvas:<id>`, or undefined. */
export function parseCanvasEnrollmentId(enrollmentId: string): number | undefined {
  const match = /^canvas:(\d{1,15})$/.exec(enrollmentId);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function canvasCourseId(id: number): string {
  return `canvas:course:${id}`;
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function date(value: unknown): string | undefined {
  const s = str(value);
  return s === undefined ? undefined : normalizeDateTime(s);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** A Course object (GET /courses/:id, /accounts/:id/courses) → what the mapping needs. */
export function readCanvasCourse(raw: unknown): CanvasCourseInfo | undefined {
  if (!isObj(raw)) return undefined;
  const id = idOf(raw['id']);
  const name = str(raw['name']) ?? str(raw['course_code']);
  if (id === undefined || name === undefined) return undefined;
  const term = isObj(raw['term']) ? raw['term'] : undefined;
  const endAt = date(raw['end_at']);
  const termEndAt = term === undefined ? undefined : date(term['end_at']);
  const locale = str(raw['locale']);
  return { id, name, ...(endAt !== undefined ? { endAt } : {}), ...(termEndAt !== undefined ? { termEndAt } : {}), ...(locale !== undefined ? { locale } : {}) };
}

/** A CourseProgress object → progress; undefined when it is not one. */
export function readCanvasProgress(raw: unknown): CanvasProgress | undefined {
  if (!isObj(raw)) return undefined;
  const requirementCount = count(raw['requirement_count']);
  const requirementCompletedCount = count(raw['requirement_completed_count']);
  if (requirementCount === undefined || requirementCompletedCount === undefined) return undefined;
  return { requirementCount, requirementCompletedCount, completedAt: date(raw['completed_at']) };
}

/** One row of bulk_user_progress (`{ id, display_name, progress }`) → [user id, progress]. */
export function readBulkProgressRow(raw: unknown): [string, CanvasProgress] | undefined {
  if (!isObj(raw)) return undefined;
  const id = idOf(raw['id']);
  const progress = readCanvasProgress(raw['progress']);
  return id === undefined || progress === undefined ? undefined : [String(id), progress];
}

function laterOf(a: string, b: string | undefined): string {
  return b !== undefined && b > a ? b : a;
}

function hashKey(text: string): string {
  return `canvas:invalid:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/**
 * One Enrollment object → a source item; undefined for rows that are not a student's
 * (teachers, TAs, observers: not learners of the course).
 */
export function toCanvasItem(raw: unknown, ctx: CanvasMappingContext): SourceItem | undefined {
  const text = JSON.stringify(raw) ?? 'undefined';
  const id = isObj(raw) ? idOf(raw['id']) : undefined;
  const courseId = isObj(raw) ? idOf(raw['course_id']) : undefined;
  const position = `canvas course ${courseId ?? ctx.course?.id ?? '?'} enrollment ${id ?? '?'}`;
  const invalid = (reason: string, updatedAt?: string): SourceItem => ({
    kind: 'invalid',
    key: id !== undefined ? canvasEnrollmentId(id) : hashKey(text),
    reason,
    position,
    raw: text,
    ...(id !== undefined ? { enrollmentId: canvasEnrollmentId(id) } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
  });
  if (!isObj(raw)) return invalid('the enrollment is not a JSON object');
  const type = str(raw['type']);
  if (type !== undefined && type !== 'StudentEnrollment') return undefined;
  if (id === undefined) return invalid('the enrollment has no numeric id');
  const updatedAtRaw = date(raw['updated_at']);
  if (updatedAtRaw === undefined) return invalid(`updated_at ${JSON.stringify(raw['updated_at'])} is not an ISO 8601 date-time`);
  const state = str(raw['enrollment_state']) ?? str(raw['workflow_state']);
  if (state === undefined) return invalid('the enrollment has no enrollment_state', updatedAtRaw);

  const enrollmentId = canvasEnrollmentId(id);
  let candidate: unknown;
  if (WITHDRAWN_STATES.has(state)) {
    candidate = { enrollmentId, updatedAt: updatedAtRaw, deleted: true };
  } else {
    const course = ctx.course;
    if (course === undefined) return invalid(`course ${courseId ?? '?'} is not known to Canvas`, updatedAtRaw);
    const userId = idOf(raw['user_id']) ?? (isObj(raw['user']) ? idOf(raw['user']['id']) : undefined);
    const user = isObj(raw['user']) ? raw['user'] : {};
    const login = str(user['login_id']);
    const sisUserId = str(raw['sis_user_id']) ?? str(user['sis_user_id']);
    const progress = userId === undefined ? undefined : ctx.progressOf(String(userId));
    const lastActivity = date(raw['last_activity_at']);
    const completedAt = progress?.completedAt;
    const status = completedAt !== undefined ? 'completed' : (progress?.requirementCompletedCount ?? 0) > 0 || lastActivity !== undefined ? 'inProgress' : 'notStarted';
    const percent = progress !== undefined && progress.requirementCount > 0 ? Math.min(100, Math.floor((100 * progress.requirementCompletedCount) / progress.requirementCount)) : undefined;
    const dueAt = date(raw['end_at']) ?? course.endAt ?? course.termEndAt;
    candidate = {
      enrollmentId,
      learner: {
        id: userId === undefined ? undefined : String(userId),
        ...(login !== undefined && login.includes('@') ? { email: login } : {}),
        ...(sisUserId !== undefined ? { employeeId: sisUserId } : {}),
      },
      course: {
        id: canvasCourseId(course.id),
        title: course.name,
        url: `${ctx.baseUrl}/courses/${course.id}`,
        // Canvas locales are language tags; an unusual one (e.g. a custom "-x-" locale) is left out rather than refusing the record.
        ...(course.locale !== undefined && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(course.locale) ? { language: course.locale } : {}),
      },
      source: 'assigned',
      assignmentType: ctx.assignmentType,
      ...(date(raw['created_at']) !== undefined ? { assignedAt: date(raw['created_at']) } : {}),
      ...(dueAt !== undefined ? { dueAt } : {}),
      ...(completedAt !== undefined ? { completedAt } : {}),
      status,
      ...(percent !== undefined ? { progressPercent: percent } : {}),
      updatedAt: laterOf(updatedAtRaw, completedAt),
    };
  }
  const parsed = parseEnrollment(candidate);
  return parsed.ok ? { kind: 'record', record: parsed.enrollment, position } : invalid(parsed.reason, updatedAtRaw);
}
