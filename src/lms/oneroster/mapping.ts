/**
 * OneRoster → canonical enrollment (pure). OneRoster has no enrollment-level progress: it
 * comes from the Gradebook (lms-source-apis.md §1.6, our convention, not a standard):
 * - the class's active line items are the work; a result `exempt` takes its line item out;
 * - a result `fully graded` or `submitted` is done; `partially graded` or inProgress="true"
 *   is under way; `not submitted` (or no result) is not started;
 * - all done → completed (completedAt = the latest scoreDate); some done or under way →
 *   inProgress with progress = done / line items; else notStarted;
 * - dueAt = the latest line-item dueDate, else the enrollment's endDate; assignedAt = its beginDate;
 * - an enrollment, or its class, `tobedeleted` (or 1.0's `inactive`) is a withdrawal.
 */
import type { AssignmentType, EnrollmentStatus } from '../../mapping/enrollment.js';
import type { OrClass, OrEnrollment, OrLineItem, OrResult, OrUser } from './model.js';

export type RawRecord = Record<string, unknown>;

export interface GradebookState {
  readonly status: EnrollmentStatus;
  readonly progressPercent?: number;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly dueAt?: string;
  /** The latest dateLastModified among the results and line items used. */
  readonly updatedAt?: string;
}

const DONE = new Set(['fully graded', 'submitted']);
const UNDER_WAY = new Set(['partially graded']);

function max(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function min(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/** One student's state in one class from the class's line items and the student's results there. */
export function gradebookState(lineItems: readonly OrLineItem[], results: readonly OrResult[]): GradebookState {
  const activeItems = lineItems.filter((li) => li.status === 'active');
  const activeResults = results.filter((r) => r.status === 'active');
  const known = new Set(activeItems.map((li) => li.sourcedId));
  // The work: the class's line items, plus line items only a result names (when the class's list was not readable).
  const work = new Set(known);
  for (const r of activeResults) if (r.lineItemSourcedId !== undefined) work.add(r.lineItemSourcedId);
  const byItem = new Map<string, OrResult>();
  for (const r of activeResults) {
    if (r.lineItemSourcedId === undefined) continue;
    const previous = byItem.get(r.lineItemSourcedId);
    // Two results for one line item: the later one stands.
    if (previous === undefined || (r.dateLastModified ?? '') >= (previous.dateLastModified ?? '')) byItem.set(r.lineItemSourcedId, r);
  }
  let updatedAt: string | undefined;
  for (const li of activeItems) updatedAt = max(updatedAt, li.dateLastModified);
  for (const r of activeResults) updatedAt = max(updatedAt, r.dateLastModified);

  let total = 0;
  let done = 0;
  let underWay = 0;
  let startedAt: string | undefined;
  let completedAt: string | undefined;
  let dueAt: string | undefined;
  for (const id of work) {
    const result = byItem.get(id);
    if (result?.scoreStatus === 'exempt') continue;
    total += 1;
    dueAt = max(dueAt, activeItems.find((li) => li.sourcedId === id)?.dueDate);
    if (result === undefined) continue;
    if (result.scoreStatus !== undefined && DONE.has(result.scoreStatus)) {
      done += 1;
      completedAt = max(completedAt, result.scoreDate);
      startedAt = min(startedAt, result.scoreDate);
    } else if ((result.scoreStatus !== undefined && UNDER_WAY.has(result.scoreStatus)) || result.inProgress) {
      underWay += 1;
      startedAt = min(startedAt, result.scoreDate);
    }
  }
  const common = { ...(dueAt !== undefined ? { dueAt } : {}), ...(updatedAt !== undefined ? { updatedAt } : {}) };
  if (total === 0) return { status: 'notStarted', ...common };
  if (done === total) return { status: 'completed', progressPercent: 100, ...(startedAt !== undefined ? { startedAt } : {}), ...(completedAt !== undefined ? { completedAt } : {}), ...common };
  if (done > 0 || underWay > 0) return { status: 'inProgress', progressPercent: Math.floor((100 * done) / total), ...(startedAt !== undefined ? { startedAt } : {}), ...common };
  return { status: 'notStarted', progressPercent: 0, ...common };
}

export interface MappingInput {
  readonly enrollment: OrEnrollment;
  readonly user: OrUser | undefined;
  readonly klass: OrClass | undefined;
  /** Undefined when the gradebook is not read: the status is notStarted. */
  readonly gradebook: GradebookState | undefined;
  readonly assignmentType: AssignmentType;
  readonly courseUrl: (classSourcedId: string, courseSourcedId: string | undefined) => string;
  /** When the enrollment has no readable dateLastModified (CSV bulk files): the bundle's time. */
  readonly fallbackUpdatedAt?: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Whether an enrollment is withdrawn: itself or its class flagged `tobedeleted`. */
export function isWithdrawn(enrollment: OrEnrollment, klass: OrClass | undefined): boolean {
  return enrollment.status === 'tobedeleted' || klass?.status === 'tobedeleted';
}

/** The raw canonical record (then checked by parseEnrollment), or a reason it cannot be made. */
export function toRawRecord(input: MappingInput): { ok: true; raw: RawRecord } | { ok: false; reason: string; updatedAt?: string } {
  const { enrollment, user, klass, gradebook } = input;
  const updatedAt = max(enrollment.dateLastModified, gradebook?.updatedAt) ?? input.fallbackUpdatedAt;
  if (updatedAt === undefined) return { ok: false, reason: 'the enrollment has no readable dateLastModified' };
  const enrollmentId = enrollment.sourcedId;
  if (isWithdrawn(enrollment, klass)) return { ok: true, raw: { enrollmentId, updatedAt, deleted: true } };
  if (enrollment.userSourcedId === undefined) return { ok: false, reason: 'the enrollment names no user', updatedAt };
  if (enrollment.classSourcedId === undefined) return { ok: false, reason: 'the enrollment names no class', updatedAt };
  if (user === undefined) return { ok: false, reason: `user ${enrollment.userSourcedId} was not found`, updatedAt };
  if (klass === undefined) return { ok: false, reason: `class ${enrollment.classSourcedId} was not found`, updatedAt };
  const usernameIsEmail = user.username !== undefined && EMAIL.test(user.username);
  const learner = {
    id: user.sourcedId,
    ...(user.email !== undefined ? { email: user.email } : usernameIsEmail ? { email: user.username } : {}),
    ...(usernameIsEmail ? { upn: user.username } : {}),
  };
  const state = gradebook ?? { status: 'notStarted' as const };
  const dueAt = state.dueAt ?? enrollment.endDate;
  return {
    ok: true,
    raw: {
      enrollmentId,
      learner,
      course: {
        id: klass.sourcedId,
        title: klass.title ?? klass.classCode ?? klass.sourcedId,
        url: input.courseUrl(klass.sourcedId, klass.courseSourcedId),
        ...(klass.classCode !== undefined && klass.title !== undefined ? { description: klass.classCode } : {}),
      },
      source: 'assigned',
      assignmentType: input.assignmentType,
      ...(enrollment.beginDate !== undefined ? { assignedAt: enrollment.beginDate } : {}),
      ...(dueAt !== undefined ? { dueAt } : {}),
      ...(state.startedAt !== undefined ? { startedAt: state.startedAt } : {}),
      ...(state.completedAt !== undefined ? { completedAt: state.completedAt } : {}),
      status: state.status,
      ...(state.progressPercent !== undefined ? { progressPercent: state.progressPercent } : {}),
      updatedAt,
    },
  };
}
