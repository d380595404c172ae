/**
 * The course catalog from an export source (LMS_CATALOG_PATH as a Blob Storage URL or a `.gz`):
 * a catalog export is the whole catalog, so only the newest complete one matters. It is copied
 * to local disk and read by the local catalog reader. The listing is complete (courses it
 * does not name are retired) only when such an export was found and read.
 */
import { listFileCatalog } from '../fileCatalog.js';
import type { CatalogItem, CatalogPage, ListCatalogOptions, PageSettings, PagedCatalog } from '../types.js';
import type { ExportSource } from './types.js';

export function listSourceCatalog(source: ExportSource, options: ListCatalogOptions = {}): PagedCatalog {
  const signal = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  let found = false;
  async function* byPage(settings: PageSettings = {}): AsyncGenerator<CatalogPage> {
    const objects = await source.list(signal);
    for (const object of objects.reverse()) {
      if ((await source.incomplete(object, signal)) !== undefined) continue;
      const spooled = await source.spool(object, signal);
      try {
        const pages = listFileCatalog(spooled.path, options).byPage(settings);
        found = true;
        yield* pages;
        return;
      } finally {
        await spooled.dispose();
      }
    }
    // No complete catalog export: nothing is listed, and nothing may be retired for its absence.
    yield { items: [], cursor: options.cursor, continuationToken: undefined };
  }
  async function* items(): AsyncGenerator<CatalogItem> {
    for await (const page of byPage()) yield* page.items;
  }
  const listing = Object.assign(items(), { byPage });
  return Object.defineProperty(listing, 'complete', { get: () => found, enumerable: true }) as typeof listing & { readonly complete: boolean };
}
