/**
 * Records in the exports table what a run read from an export source, from the `export` field
 * of the pages that pass through (the adapter only reads): an export is `reading` from its
 * first page, and `done` once the run asks for the page after its last one (the engine asks
 * only after the page was written and checkpointed). A run that stops inside an export leaves
 * it `reading`, and the next run resumes it from the cursor.
 */
import type { ExportObject } from '../lms/exportSource/types.js';
import type { ChangePage, LmsAdapter, PageSettings, PagedChanges, SourceItem } from '../lms/types.js';
import type { ExportRecord, ExportStatus, ExportStore } from '../state/exportStore.js';

export function trackExports(adapter: LmsAdapter, store: ExportStore, runId: string): LmsAdapter {
  return {
    name: adapter.name,
    getEnrollment: (id, options) => adapter.getEnrollment(id, options),
    ...(adapter.listCatalog !== undefined ? { listCatalog: adapter.listCatalog.bind(adapter) } : {}),
    listChanges: (options = {}): PagedChanges => {
      const signal = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
      const record = (root: string, object: ExportObject, status: ExportStatus, extra: Partial<ExportRecord> = {}): Promise<void> =>
        store.put({ root, name: object.name, etag: object.etag, size: object.size, lastModified: object.lastModified, status, updatedAt: new Date().toISOString(), runId, ...extra }, signal);

      // Made now: whether the listing is complete is asked before its first page.
      const inner = adapter.listChanges(options);
      async function* byPage(settings: PageSettings = {}): AsyncGenerator<ChangePage> {
        let reading: { name: string; etag: string; read: number; invalid: number } | undefined;
        for await (const page of inner.byPage(settings)) {
          const info = page.export;
          if (info === undefined) {
            yield page;
            continue;
          }
          for (const passed of info.passed ?? []) await record(info.root, passed.object, passed.status, { error: passed.reason });
          const object = info.object;
          if (object !== undefined && info.failed !== undefined) {
            await record(info.root, object, 'failed', { error: info.failed, read: 0, invalid: 0 });
            yield page;
            continue;
          }
          if (object !== undefined && (reading?.name !== object.name || reading.etag !== object.etag)) {
            reading = { name: object.name, etag: object.etag, read: 0, invalid: 0 };
            await record(info.root, object, 'reading');
          }
          if (reading !== undefined) {
            reading.read += page.items.length;
            reading.invalid += page.items.filter((item: SourceItem) => item.kind === 'invalid').length;
          }
          yield page;
          if (object !== undefined && info.last === true && reading !== undefined) {
            await record(info.root, object, 'done', { read: reading.read, invalid: reading.invalid });
            reading = undefined;
          }
        }
      }
      async function* items(): AsyncGenerator<SourceItem> {
        for await (const page of byPage()) yield* page.items;
      }
      const listing = Object.assign(items(), { byPage });
      return Object.defineProperty(listing, 'complete', { get: () => inner.complete, enumerable: true });
    },
  };
}
