/**
 * The `file` adapter over an export source (Blob Storage, or a local `.gz`): every export is
 * read in name order, each once per ETag; a run stopped inside an export resumes it. Each
 * export is copied to local disk (spool.ts) and read there by the local file adapter, whose
 * two-pass index needs byte offsets. Like every adapter it only reads; what was read is
 * recorded by the run from the pages' `export` field (src/sync/exportTracking.ts).
 *
 * The cursor is `{"export": name, "etag": …, "at": updatedAt}`: where the listing stopped.
 * No cursor (a first run, `--full`) reads every complete export again, finished or not.
 */
import { createFileAdapter, type ExportMode } from '../file.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, OperationOptions, PageSettings, PagedChanges, SourceItem } from '../types.js';
import { ExportChangedError, ExportContentError, type ExportObject, type ExportPageInfo, type ExportSource } from './types.js';

/** What the state says of an export already seen. */
export interface SeenExport {
  readonly name: string;
  readonly etag: string;
  readonly status: string;
}

export interface ExportsAdapterOptions {
  readonly source: ExportSource;
  /** The exports the state tables record for a source. */
  readonly seen: (root: string, options: OperationOptions) => Promise<readonly SeenExport[]>;
  /** `changes`: every export in order; `snapshot`: only the newest complete one (LMS_EXPORT_MODE). */
  readonly mode: ExportMode;
  readonly mappingPath?: string;
  readonly lookbackMs: number;
  readonly defaultPageSize?: number;
}

interface ExportCursor {
  readonly export: string;
  readonly etag: string;
  readonly at?: string;
}

function parseCursor(cursor: string | undefined): ExportCursor | undefined {
  if (cursor === undefined || !cursor.startsWith('{')) return undefined;
  try {
    const json = JSON.parse(cursor) as Record<string, unknown>;
    if (typeof json['export'] !== 'string' || typeof json['etag'] !== 'string') return undefined;
    return { export: json['export'], etag: json['etag'], ...(typeof json['at'] === 'string' ? { at: json['at'] } : {}) };
  } catch {
    return undefined;
  }
}

function formatCursor(cursor: ExportCursor): string {
  return JSON.stringify(cursor);
}

/** Statuses after which an export with the same ETag is not read again (unless no cursor: a full pass). */
const FINISHED = new Set(['done', 'failed', 'skipped']);

export function createExportsAdapter(options: ExportsAdapterOptions): LmsAdapter {
  return {
    name: 'file',
    listChanges: (listOptions: ListChangesOptions = {}): PagedChanges => {
      // Snapshot mode: possibly complete until the listing finds no new snapshot to read whole.
      const state = { complete: options.mode === 'snapshot' };
      const byPage = (settings: PageSettings = {}): AsyncGenerator<ChangePage> => listPages(options, listOptions, settings, state);
      async function* items(): AsyncGenerator<SourceItem> {
        for await (const page of byPage()) yield* page.items;
      }
      // Snapshot mode: complete (an enrollment it does not name is withdrawn) only when a new snapshot is read whole.
      return Object.defineProperty(Object.assign(items(), { byPage }), 'complete', { get: () => state.complete, enumerable: true });
    },
    getEnrollment: (enrollmentId, getOptions = {}) => getEnrollment(options, enrollmentId, getOptions),
  };
}

type Passed = NonNullable<ExportPageInfo['passed']>[number];

/** Which exports this listing reads, and which it passes over (and why). */
export async function planExports(options: ExportsAdapterOptions, cursor: string | undefined, signal: OperationOptions): Promise<{ read: ExportObject[]; passed: Passed[] }> {
  const { source } = options;
  const objects = await source.list(signal);
  const seen = new Map((await options.seen(source.root, signal)).map((s) => [s.name, s]));
  const full = cursor === undefined;
  const isUnread = (object: ExportObject): boolean => {
    const record = seen.get(object.name);
    return full || record === undefined || record.etag !== object.etag || !FINISHED.has(record.status);
  };
  const read: ExportObject[] = [];
  const passed: Passed[] = [];
  if (options.mode === 'snapshot') {
    // Newest first: the newest complete export is the one that matters; older unread ones are moot.
    let newest: ExportObject | undefined;
    for (const object of [...objects].reverse()) {
      const unread = isUnread(object);
      if (newest !== undefined) {
        if (unread) passed.push({ object, status: 'skipped', reason: `snapshot mode: the newer complete export ${newest.name} replaces it` });
        continue;
      }
      if (!unread) {
        newest = object;
        continue;
      }
      const reason = await source.incomplete(object, signal);
      if (reason !== undefined) passed.push({ object, status: 'waiting', reason });
      else {
        newest = object;
        read.push(object);
      }
    }
    return { read, passed };
  }
  // Changes: in name order, and never past an export that is not complete (its changes come first).
  let blocker: ExportObject | undefined;
  for (const object of objects) {
    if (!isUnread(object)) continue;
    if (blocker !== undefined) {
      passed.push({ object, status: 'waiting', reason: `read after ${blocker.name}, which is not complete yet` });
      continue;
    }
    const reason = await source.incomplete(object, signal);
    if (reason === undefined) read.push(object);
    else {
      blocker = object;
      passed.push({ object, status: 'waiting', reason });
    }
  }
  return { read, passed };
}

async function* listPages(options: ExportsAdapterOptions, listOptions: ListChangesOptions, settings: PageSettings, state: { complete: boolean }): AsyncGenerator<ChangePage> {
  if (settings.continuationToken !== undefined) throw new TypeError('continuationToken: an export source resumes from its cursor, not from a continuation token');
  const signal = listOptions.abortSignal !== undefined ? { abortSignal: listOptions.abortSignal } : {};
  const root = options.source.root;
  const { read, passed } = await planExports(options, listOptions.cursor, signal);
  const resume = parseCursor(listOptions.cursor);
  if (read.length === 0) state.complete = false;
  let cursor = listOptions.cursor;
  let plan: Pick<ExportPageInfo, 'passed'> = passed.length > 0 ? { passed } : {};
  const page = (items: readonly SourceItem[], info: Omit<ExportPageInfo, 'root'>): ChangePage => {
    const result = { items, cursor, continuationToken: undefined, export: { root, ...plan, ...info } };
    plan = {};
    return result;
  };
  for (const object of read) {
    let spooled;
    try {
      spooled = await options.source.spool(object, signal);
    } catch (err) {
      state.complete = false;
      if (err instanceof ExportContentError) {
        yield page([], { object, last: true, failed: err.message });
        continue;
      }
      if (err instanceof ExportChangedError) {
        // Changed since it was listed: the next run sees the new version (and, in order, what follows it).
        yield page([], { passed: [{ object, status: 'waiting', reason: err.message }] });
        return;
      }
      throw err;
    }
    try {
      const inner = createFileAdapter({
        path: spooled.path,
        kind: object.format.kind,
        displayName: object.name,
        lookbackMs: options.lookbackMs,
        ...(options.mappingPath !== undefined ? { mappingPath: options.mappingPath } : {}),
        ...(options.defaultPageSize !== undefined ? { defaultPageSize: options.defaultPageSize } : {}),
      });
      // A run that stopped inside this very version resumes it; any other export is read whole.
      const at = resume !== undefined && resume.export === object.name && resume.etag === object.etag ? resume.at : undefined;
      if (at !== undefined) state.complete = false;
      const pages = inner.listChanges({ ...(at !== undefined ? { cursor: at } : {}), ...signal }).byPage(settings.maxPageSize !== undefined ? { maxPageSize: settings.maxPageSize } : {});
      for await (const innerPage of pages) {
        cursor = formatCursor({ export: object.name, etag: object.etag, ...(innerPage.cursor !== undefined ? { at: innerPage.cursor } : {}) });
        const last = innerPage.continuationToken === undefined;
        yield page(innerPage.items, { object, last });
      }
    } finally {
      await spooled.dispose();
    }
  }
  // Nothing to read (or everything failed): one empty page still reports what was passed over.
  if (plan.passed !== undefined || read.length === 0) yield page([], {});
}

/** The newest complete export that mentions the enrollment decides (each is copied to disk in turn). */
async function getEnrollment(options: ExportsAdapterOptions, enrollmentId: string, getOptions: OperationOptions): Promise<SourceItem | undefined> {
  const signal = getOptions.abortSignal !== undefined ? { abortSignal: getOptions.abortSignal } : {};
  const objects = await options.source.list(signal);
  for (const object of objects.reverse()) {
    if ((await options.source.incomplete(object, signal)) !== undefined) continue;
    const spooled = await options.source.spool(object, signal);
    try {
      const inner = createFileAdapter({ path: spooled.path, kind: object.format.kind, displayName: object.name, lookbackMs: options.lookbackMs, ...(options.mappingPath !== undefined ? { mappingPath: options.mappingPath } : {}) });
      const found = await inner.getEnrollment(enrollmentId, signal);
      if (found !== undefined) return found;
    } finally {
      await spooled.dispose();
    }
  }
  return undefined;
}
