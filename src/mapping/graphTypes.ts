/**
 * The Graph bodies this connector writes, shaped exactly as the employee-learning
 * documentation shows them (reference/graph-learning-examples.md). Pure types.
 */

export type CourseStatus = 'notStarted' | 'inProgress' | 'completed';

/** graph.dateTimeTimeZone: dueDateTime is an object, not a DateTimeOffset. */
export interface DateTimeTimeZone {
  readonly dateTime: string;
  readonly timeZone: string;
}

interface ActivityCommon {
  readonly externalCourseActivityId: string;
  readonly learningContentId: string;
  readonly learnerUserId: string;
  readonly learningProviderId: string;
  readonly status: CourseStatus;
  readonly completionPercentage?: number;
  readonly completedDateTime?: string | null;
}

export interface LearningAssignmentBody extends ActivityCommon {
  readonly '@odata.type': '#microsoft.graph.learningAssignment';
  readonly assignmentType: 'required' | 'recommended';
  readonly assignedDateTime?: string;
  readonly assignerUserId?: string;
  readonly dueDateTime?: DateTimeTimeZone;
}

export interface LearningSelfInitiatedCourseBody extends ActivityCommon {
  readonly '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse';
  readonly status: 'inProgress' | 'completed';
  readonly startedDateTime?: string;
}

/** Body of POST and PATCH on learningCourseActivities (the docs resend every field on PATCH). */
export type ActivityBody = LearningAssignmentBody | LearningSelfInitiatedCourseBody;

/**
 * Body of PATCH learningContents(externalId='…'). externalId is sent in the body as well as in the
 * key: the metadata declares it Nullable="false" and the property table says Required (only the
 * documentation's example request leaves it out). The gateway writes it in Graph's form
 * (src/graph/odata.ts toGraphExternalId), the same value as the key.
 */
export interface LearningContentBody {
  readonly externalId: string;
  readonly title: string;
  readonly contentWebUrl: string;
  readonly languageTag: string;
  readonly description?: string;
  readonly duration?: string;
  readonly thumbnailWebUrl?: string;
  readonly isActive?: boolean;
  readonly format?: string;
  readonly contributors?: readonly string[];
  readonly additionalTags?: readonly string[];
  readonly skillTags?: readonly string[];
  readonly level?: 'beginner' | 'intermediate' | 'advanced';
}
