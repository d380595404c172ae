import type { Course } from './enrollment.js';
import { fingerprint } from './fingerprint.js';
import type { LearningContentBody } from './graphTypes.js';

export const DEFAULT_LANGUAGE = 'en-US';

/** The learningContent upsert body for a course: every Nullable="false" property, externalId (the course id) included. */
export function toContentBody(course: Course): LearningContentBody {
  return {
    externalId: course.id,
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

/**
 * Covers what the upsert would change. externalId is left out: it is the content store's own key,
 * and leaving it out keeps the fingerprints recorded before it was sent in the body valid (no
 * re-upsert of every course after an upgrade).
 */
export function contentFingerprint(body: LearningContentBody): string {
  const { externalId: _key, ...rest } = body;
  return fingerprint(rest);
}
