import type { CatalogCourse } from './catalogCourse.js';
import type { LearningContentBody } from './graphTypes.js';
import { toContentBody } from './toContent.js';

/**
 * The learningContent upsert body for a catalog course: the enrollment's content body plus
 * every piece of metadata the catalog has, and its active state (retirement is
 * `isActive: false`, never a DELETE).
 */
export function toCatalogContentBody(course: CatalogCourse): LearningContentBody {
  return {
    ...toContentBody(course),
    ...(course.contributors !== undefined ? { contributors: course.contributors } : {}),
    ...(course.additionalTags !== undefined ? { additionalTags: course.additionalTags } : {}),
    ...(course.skillTags !== undefined ? { skillTags: course.skillTags } : {}),
    ...(course.format !== undefined ? { format: course.format } : {}),
    ...(course.level !== undefined ? { level: course.level } : {}),
    isActive: course.active,
  };
}

/** The same body, retired: what a complete catalog read that no longer lists the course sends. */
export function retiredContentBody(body: LearningContentBody): LearningContentBody {
  return { ...body, isActive: false };
}
