import type { Course } from './enrollment.js';
import { fingerprint } from './fingerprint.js';
import type { LearningContentBody } from './graphTypes.js';

export const DEFAULT_LANGUAGE = 'en-US';

/** The learningContent upsert body for a course (the externalId is the course id, sent in the key). */
export function toContentBody(course: Course): LearningContentBody {
  return {
    title: course.title,
    contentWebUrl: course.url,
    languageTag: course.language ?? DEFAULT_LANGUAGE,
    ...(course.description !== undefined ? { description: course.description } : {}),
    ...(course.durationMinutes !== undefined ? { duration: isoDuration(course.durationMinutes) } : {}),
    ...(course.thumbnailUrl !== undefined ? { thumbnailWebUrl: course.thumbnailUrl } : {}),
    format: 'Course',
    isActive: true,
  };
}

/** Minutes as an ISO 8601 duration, e.g. 90 → "PT1H30M". */
export function isoDuration(minutes: number): string {
  if (minutes === 0) return 'PT0M';
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `PT${hours > 0 ? `${hours}H` : ''}${rest > 0 ? `${rest}M` : ''}`;
}

export function contentFingerprint(body: LearningContentBody): string {
  return fingerprint(body);
}
