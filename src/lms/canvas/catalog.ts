/**
 * The Canvas course catalog: the account's courses (GET /api/v1/accounts/:id/courses, every
 * page), published ones (`available`) active and concluded ones (`completed`, or past their
 * end) retired. Unpublished and deleted courses are not listed, so a complete read retires a
 * course that was unpublished or deleted. Teachers become contributors, the public description
 * the description, the course image the thumbnail. LMS_COURSE_IDS limits it like the walk.
 */
import { catalogItemOf, catalogPages, pagedCatalog, plainText } from '../catalogListing.js';
import type { CatalogItem, ListCatalogOptions, PagedCatalog } from '../types.js';
import type { CanvasApi } from './api.js';
import { canvasCourseId } from './mapping.js';

export interface CanvasCatalogContext {
  readonly api: CanvasApi;
  readonly baseUrl: string;
  readonly accountId: string;
  readonly courseIds: readonly number[] | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function listCanvasCatalog(ctx: CanvasCatalogContext, options: ListCatalogOptions): PagedCatalog {
  let read: Promise<CatalogItem[]> | undefined;
  return pagedCatalog(true, (settings) => {
    read ??= readCatalog(ctx, options);
    return (async function* () {
      yield* catalogPages(await read, undefined, settings);
    })();
  });
}

async function readCatalog(ctx: CanvasCatalogContext, options: ListCatalogOptions): Promise<CatalogItem[]> {
  const opts = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const wanted = ctx.courseIds === undefined ? undefined : new Set(ctx.courseIds);
  const items: CatalogItem[] = [];
  let url: string | undefined = ctx.api.url(`/accounts/${encodeURIComponent(ctx.accountId)}/courses`, {
    state: ['available', 'completed'],
    include: ['term', 'teachers', 'public_description', 'concluded', 'course_image'],
    per_page: 100,
  });
  const now = new Date().toISOString();
  while (url !== undefined) {
    const page = await ctx.api.getPage(url, opts);
    if (!Array.isArray(page.body)) throw new TypeError(`GET /api/v1/accounts/${ctx.accountId}/courses did not return an array of courses`);
    for (const raw of page.body as unknown[]) {
      if (!isObj(raw)) continue;
      const id = Number(raw['id']);
      if (!Number.isSafeInteger(id) || (wanted !== undefined && !wanted.has(id))) continue;
      const term = isObj(raw['term']) ? raw['term'] : undefined;
      const endAt = str(raw['end_at']) ?? str(term?.['end_at']);
      const ended = raw['concluded'] === true || (endAt !== undefined && new Date(endAt).toISOString() <= now);
      const teachers = Array.isArray(raw['teachers']) ? (raw['teachers'] as unknown[]).flatMap((t) => (isObj(t) && str(t['display_name']) !== undefined ? [str(t['display_name']) as string] : [])) : [];
      const locale = str(raw['locale']);
      const description = plainText(str(raw['public_description']));
      const image = str(raw['image_download_url']);
      items.push(
        catalogItemOf(
          {
            id: canvasCourseId(id),
            title: str(raw['name']) ?? str(raw['course_code']) ?? '',
            url: `${ctx.baseUrl}/courses/${id}`,
            ...(locale !== undefined && LANGUAGE_TAG.test(locale) ? { language: locale } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(image !== undefined ? { thumbnailUrl: image } : {}),
            ...(teachers.length > 0 ? { contributors: teachers } : {}),
            ...(str(raw['course_code']) !== undefined ? { additionalTags: [str(raw['course_code'])] } : {}),
            format: 'Course',
            active: raw['workflow_state'] === 'available' && !ended,
          },
          `canvas course ${id}`,
        ),
      );
    }
    url = page.next;
  }
  return items;
}
