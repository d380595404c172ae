import { parseCatalogCourse } from '../mapping/catalogCourse.js';
import type { CatalogItem, CatalogPage, PageSettings, PagedCatalog } from './types.js';

/** A catalog listing in the Azure SDK's paged shape, from a page generator (the adapters share it). */
export function pagedCatalog(complete: boolean, byPage: (settings?: PageSettings) => AsyncIterableIterator<CatalogPage>): PagedCatalog {
  async function* items(): AsyncGenerator<CatalogItem> {
    for await (const page of byPage()) yield* page.items;
  }
  return Object.assign(items(), { byPage, complete });
}

/** Splits a complete in-memory listing into pages (APIs that answer with the whole catalog at once). */
export async function* catalogPages(items: readonly CatalogItem[], cursor: string | undefined, settings: PageSettings = {}, defaultPageSize = 200): AsyncGenerator<CatalogPage> {
  const size = settings.maxPageSize ?? defaultPageSize;
  const start = settings.continuationToken !== undefined ? Number(settings.continuationToken) : 0;
  if (items.length === 0) yield { items: [], cursor, continuationToken: undefined };
  for (let from = start; from < items.length; from += size) {
    const to = Math.min(from + size, items.length);
    yield { items: items.slice(from, to), cursor: to < items.length ? undefined : cursor, continuationToken: to < items.length ? String(to) : undefined };
  }
}

/**
 * An API adapter's course, in the catalog format's field names, through the same gate as a
 * catalog file's row (parseCatalogCourse): a course the LMS describes badly is a dead letter.
 */
export function catalogItemOf(fields: Readonly<Record<string, unknown>>, position: string): CatalogItem {
  const parsed = parseCatalogCourse(fields);
  if (parsed.ok) return { kind: 'course', course: parsed.course, position };
  const id = parsed.id;
  return { kind: 'invalid', key: `catalog:${id ?? position}`, reason: parsed.reason, position, raw: JSON.stringify(fields).slice(0, 64 * 1024), ...(id !== undefined ? { id } : {}) };
}

/** Plain text of an LMS's HTML description (course summaries): tags dropped, entities of markup decoded, blanks collapsed. */
export function plainText(html: string | undefined): string | undefined {
  if (html === undefined) return undefined;
  const text = html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? undefined : text;
}
