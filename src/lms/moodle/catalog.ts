/**
 * The Moodle course catalog: core_course_get_courses (every course, or LMS_COURSE_IDS), one
 * call. A course is active when it is visible and has not ended; the site course is left
 * out. The listing is always complete, so a course deleted in Moodle is retired.
 */
import { catalogItemOf, catalogPages, pagedCatalog, plainText } from '../catalogListing.js';
import type { CatalogItem, ListCatalogOptions, PagedCatalog } from '../types.js';
import type { MoodleApi } from './api.js';
import { moodleCourseFields } from './mapping.js';

export interface MoodleCatalogContext {
  readonly api: MoodleApi;
  readonly baseUrl: string;
  readonly courseIds: readonly number[] | undefined;
}

type Obj = Record<string, unknown>;

export function listMoodleCatalog(ctx: MoodleCatalogContext, options: ListCatalogOptions): PagedCatalog {
  let read: Promise<{ items: CatalogItem[]; cursor: string | undefined }> | undefined;
  return pagedCatalog(true, (settings) => {
    read ??= readCatalog(ctx, options);
    return (async function* () {
      const { items, cursor } = await read;
      yield* catalogPages(items, cursor, settings);
    })();
  });
}

async function readCatalog(ctx: MoodleCatalogContext, options: ListCatalogOptions): Promise<{ items: CatalogItem[]; cursor: string | undefined }> {
  const opts = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const ids = ctx.courseIds;
  const batches = ids === undefined ? [undefined] : Array.from({ length: Math.ceil(ids.length / 50) }, (_, i) => ids.slice(i * 50, i * 50 + 50));
  const items: CatalogItem[] = [];
  let cursor: string | undefined;
  const now = Date.now() / 1000;
  for (const batch of batches) {
    const body = await ctx.api.call('core_course_get_courses', batch === undefined ? {} : { options: { ids: batch } }, opts);
    if (!Array.isArray(body)) throw new TypeError('moodle core_course_get_courses did not return an array of courses');
    for (const raw of body as unknown[]) {
      if (typeof raw !== 'object' || raw === null) continue;
      const course = raw as Obj;
      const id = typeof course['id'] === 'number' ? course['id'] : Number(course['id']);
      if (!Number.isSafeInteger(id) || course['format'] === 'site' || Number(course['categoryid']) === 0) continue;
      const enddate = Number(course['enddate'] ?? 0);
      const modified = Number(course['timemodified'] ?? 0);
      const updatedAt = modified > 0 ? new Date(modified * 1000).toISOString() : undefined;
      if (updatedAt !== undefined && (cursor === undefined || updatedAt > cursor)) cursor = updatedAt;
      const fields = moodleCourseFields({ id, fullname: String(course['fullname'] ?? course['displayname'] ?? course['shortname'] ?? ''), ...(typeof course['lang'] === 'string' ? { lang: course['lang'] } : {}) }, { baseUrl: ctx.baseUrl });
      const summary = plainText(typeof course['summary'] === 'string' ? course['summary'] : undefined);
      items.push(
        catalogItemOf(
          {
            ...fields,
            ...(summary !== undefined ? { description: summary } : {}),
            format: 'Course',
            active: Number(course['visible'] ?? 1) !== 0 && !(enddate > 0 && enddate <= now),
            ...(updatedAt !== undefined ? { updatedAt } : {}),
          },
          `moodle course ${id}`,
        ),
      );
    }
  }
  return { items, cursor };
}
