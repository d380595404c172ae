import type { ActivityBody, LearningContentBody } from '../mapping/graphTypes.js';
import { toGraphExternalId } from './odata.js';

/**
 * The bodies exactly as the gateway sends them: the mapping's bodies with LMS ids in the form
 * Graph stores them (odata.ts toGraphExternalId). Pure; unit-tested against the metadata.
 */

/** PATCH learningContents(externalId=…): the body's externalId is the key's value. */
export function contentUpsertBody(externalId: string, body: LearningContentBody): LearningContentBody {
  return { ...body, externalId: toGraphExternalId(externalId) };
}

/** POST learningCourseActivities. */
export function activityCreateBody(body: ActivityBody): ActivityBody {
  return { ...body, externalCourseActivityId: toGraphExternalId(body.externalCourseActivityId) };
}

export type ActivityUpdateBody = ActivityBody | Omit<ActivityBody, 'externalCourseActivityId'>;

/**
 * PATCH learningCourseActivities/{id}. externalCourseActivityId is not updatable [A-UPD]; it is
 * resent as the documented examples do, except for an id Graph stores escaped (one with '/'): an
 * activity created before ids were escaped holds the raw form, and sending the escaped form would
 * ask Graph to change it. Leaving it out is valid: the metadata declares it nullable and the
 * update page does not require it.
 */
export function activityUpdateBody(body: ActivityBody): ActivityUpdateBody {
  if (toGraphExternalId(body.externalCourseActivityId) === body.externalCourseActivityId) return body;
  const { externalCourseActivityId: _omitted, ...rest } = body;
  return rest;
}
