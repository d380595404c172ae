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
