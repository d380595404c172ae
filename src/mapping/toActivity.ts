import type { Course, Enrollment } from './enrollment.js';
import { fingerprint } from './fingerprint.js';
import type { ActivityBody, CourseStatus, DateTimeTimeZone } from './graphTypes.js';
import { learnerRefFor, type LearnerMatch, type LearnerRef } from './learnerRef.js';

/** The fields of an activity that come from the enrollment alone. */
export type ActivityFields =
  | {
      readonly kind: 'assignment';
      readonly status: CourseStatus;
      readonly assignmentType: 'required' | 'recommended';
      readonly assignedDateTime?: string;
      readonly dueDateTime?: DateTimeTimeZone;
      readonly completionPercentage?: number;
      readonly completedDateTime?: string;
    }
  | {
      readonly kind: 'selfInitiated';
      readonly status: 'inProgress' | 'completed';
      readonly startedDateTime?: string;
      readonly completionPercentage?: number;
      readonly completedDateTime?: string;
    };

/**
 * An activity before the ids only Graph knows (learner object id, content id) are filled
 * in. It is plain JSON, so it can travel in a work item, and it is what the fingerprint
 * covers: an unchanged record is recognised without any lookup.
 */
export interface ActivityDraft {
  readonly externalId: string;
  readonly enrollmentId: string;
  readonly learner: LearnerRef;
  readonly assigner?: LearnerRef;
  readonly course: Course;
  readonly fields: ActivityFields;
}

export type DraftResult = { readonly ok: true; readonly draft: ActivityDraft } | { readonly ok: false; readonly reason: string };

/** The activity's externalCourseActivityId. Kept equal to the LMS enrollment id, so an operator can find one from the other. */
export function externalActivityId(enrollmentId: string): string {
  return enrollmentId;
}

export function toActivityDraft(enrollment: Enrollment, learnerMatch: LearnerMatch): DraftResult {
  const learner = learnerRefFor(enrollment.learner, learnerMatch, 'learner');
  if (!learner.ok) return learner;
  let assigner: LearnerRef | undefined;
  if (enrollment.source === 'assigned' && enrollment.assigner !== undefined) {
    const result = learnerRefFor(enrollment.assigner, learnerMatch, 'assigner');
    // An assigner the match cannot name is left out: it is decoration, not the learner's record.
    if (result.ok) assigner = result.ref;
  }
  const fields = toFields(enrollment);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  return {
    ok: true,
    draft: {
      externalId: externalActivityId(enrollment.enrollmentId),
      enrollmentId: enrollment.enrollmentId,
      learner: learner.ref,
      ...(assigner !== undefined ? { assigner } : {}),
      course: enrollment.course,
      fields,
    },
  };
}

function toFields(e: Enrollment): ActivityFields | string {
  // Viva shows a completion date; an LMS that omits it gets the time the completion was recorded.
  const completedDateTime = e.status === 'completed' ? (e.completedAt ?? e.updatedAt) : undefined;
  const completionPercentage = e.progressPercent ?? (e.status === 'completed' ? 100 : undefined);
  const common = {
    ...(completionPercentage !== undefined ? { completionPercentage } : {}),
    ...(completedDateTime !== undefined ? { completedDateTime } : {}),
  };
  if (e.source === 'selfInitiated') {
    if (e.status === 'notStarted') return 'status "notStarted" is not allowed for a selfInitiated course';
    const startedDateTime = e.startedAt ?? e.assignedAt;
    return { kind: 'selfInitiated', status: e.status, ...(startedDateTime !== undefined ? { startedDateTime } : {}), ...common };
  }
  if (e.assignmentType === undefined) return 'assignmentType is required when source is "assigned"';
  return {
    kind: 'assignment',
    status: e.status,
    assignmentType: e.assignmentType,
    ...(e.assignedAt !== undefined ? { assignedDateTime: e.assignedAt } : {}),
    ...(e.dueAt !== undefined ? { dueDateTime: toDateTimeTimeZone(e.dueAt) } : {}),
    ...common,
  };
}

/** "2026-03-01T17:00:00.000Z" → { dateTime: "2026-03-01T17:00:00.0000000", timeZone: "UTC" }, as the docs show it. */
export function toDateTimeTimeZone(iso: string): DateTimeTimeZone {
  const date = new Date(iso);
  const base = date.toISOString().slice(0, 19);
  const fraction = String(date.getUTCMilliseconds()).padStart(3, '0').padEnd(7, '0');
  return { dateTime: `${base}.${fraction}`, timeZone: 'UTC' };
}

/** Covers everything that would change the Graph body. */
export function activityFingerprint(draft: ActivityDraft): string {
  return fingerprint({
    learner: draft.learner,
    assigner: draft.assigner,
    contentExternalId: draft.course.id,
    fields: draft.fields,
  });
}

export interface ResolvedIds {
  readonly learnerUserId: string;
  readonly learningContentId: string;
  readonly assignerUserId?: string;
}

/** The POST/PATCH body, once the learner and content ids are known. */
export function toActivityBody(draft: ActivityDraft, ids: ResolvedIds, providerId: string): ActivityBody {
  const common = {
    externalCourseActivityId: draft.externalId,
    learningContentId: ids.learningContentId,
    learnerUserId: ids.learnerUserId,
    learningProviderId: providerId,
  };
  const f = draft.fields;
  const progress = {
    ...(f.completionPercentage !== undefined ? { completionPercentage: f.completionPercentage } : {}),
    completedDateTime: f.completedDateTime ?? null,
  };
  if (f.kind === 'selfInitiated') {
    return {
      '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse',
      ...common,
      status: f.status,
      ...(f.startedDateTime !== undefined ? { startedDateTime: f.startedDateTime } : {}),
      ...progress,
    };
  }
  return {
    '@odata.type': '#microsoft.graph.learningAssignment',
    ...common,
    status: f.status,
    assignmentType: f.assignmentType,
    ...(f.assignedDateTime !== undefined ? { assignedDateTime: f.assignedDateTime } : {}),
    ...(ids.assignerUserId !== undefined ? { assignerUserId: ids.assignerUserId } : {}),
    ...(f.dueDateTime !== undefined ? { dueDateTime: f.dueDateTime } : {}),
    ...progress,
  };
}
