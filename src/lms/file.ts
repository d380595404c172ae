/**
 * The `file` adapter: reads a `.jsonl` or `.csv` export in the canonical format (or a vendor
 * export through a column map) and lists its records oldest change first.
 *
 * A listing makes two passes over the file and never holds it in memory:
 * 1. stream the file and index the records to return (updatedAt, byte offset, length,
 *    line: 24 bytes each, see fileIndex.ts), then sort the index by (updatedAt, position)
 *    unless the file is already in that order;
 * 2. read the records back by offset a page at a time (neighbouring records in one read, so
 *    a file in order is read front to back) and validate each with `parseEnrollment`.
 *
 * The cursor is an ISO updatedAt. A listing from a cursor returns the records whose
 * updatedAt >= cursor − lookbackMs: inclusive, so records that share the cursor's time are
 * read again, and looking back so that records that arrive late are not skipped (the
 * engine's ledger makes re-reads cost nothing). Records whose updatedAt cannot be read are
 * returned on every listing, first. Like every adapter it only reads (STYLE.md §8).
 */
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { normalizeDateTime } from '../mapping/enrollment.js';
import { loadColumnMap, type ColumnMap } from './columnMap.js';
import { decodeContinuationToken, encodeContinuationToken } from './continuationToken.js';
import { createDecoder, oversizedItem, type RecordDecoder } from './fileFormat.js';
import { buildFileIndex, type FileIndex, type Selection } from './fileIndex.js';
import { MAX_RECORD_BYTES, scanRecords, throwIfAborted, type FileKind } from './recordScanner.js';
import { checkCatalogFile, listFileCatalog } from './fileCatalog.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, OperationOptions, PageSettings, PagedChanges, SourceItem } from './types.js';

export { AbortError } from './recordScanner.js';

export interface FileAdapterOptions {
  /** The export to read (LMS_FILE_PATH): `.jsonl` or `.csv`. */
  readonly path: string;
  /** A column map for a vendor export (LMS_MAPPING_PATH). */
  readonly mappingPath?: string;
  /** How far before the cursor a listing starts again; default one hour. */
  readonly lookbackMs?: number;
  /** Records per page when `byPage` is not given a `maxPageSize`; default 200. */
  readonly defaultPageSize?: number;
  /** The course catalog export (LMS_CATALOG_PATH), `.jsonl` or `.csv`. */
  readonly catalogPath?: string;
  /**
   * LMS_EXPORT_MODE: `changes` (default; withdrawals carry `deleted: true`) or `snapshot` (the
   * export is every current enrollment: each listing reads it whole, from no cursor, and is complete).
   */
  readonly exportMode?: ExportMode;
  /** The format, when the path does not say (a spooled copy of an export; see exportSource/). */
  readonly kind?: FileKind;
  /** The name positions and messages use instead of the path's file name (the blob's name). */
  readonly displayName?: string;
}

export type ExportMode = 'changes' | 'snapshot';

const DEFAULT_LOOKBACK_MS = 3_600_000;
const DEFAULT_PAGE_SIZE = 200;
/** Neighbouring records are read together while the read stays under this size… */
const READ_GROUP_BYTES = 1024 * 1024;
/** …and the bytes skipped between two of them under this. */
const READ_GAP_BYTES = 16 * 1024;
/** Reads in flight at once in the second pass (an unsorted file is read record by record). */
const PARALLEL_READS = 16;
/** How much of a record that is too long to decode is kept as its `raw`. */
const OVERSIZED_PREVIEW_BYTES = 64 * 1024;

interface Source {
  readonly path: string;
  readonly kind: FileKind;
  readonly fileName: string;
  readonly map: ColumnMap | undefined;
  readonly mappingPath: string | undefined;
  readonly lookbackMs: number;
  readonly defaultPageSize: number;
}

function fileProblem(path: string, problem: string): ConfigError {
  return new ConfigError([{ setting: 'LMS_FILE_PATH', problem: `(${path}): ${problem}` }]);
}

function kindOf(path: string): FileKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw fileProblem(path, `must name a .jsonl or .csv file (got "${ext === '' ? 'no extension' : ext}")`);
}

function accessProblem(path: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  return fileProblem(path, code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? String(err)})`);
}

function pageSizeOf(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${value})`);
  return value;
}

/** Creates the adapter; checks the file and the column map now, so that a bad setting fails at start. */
export function createFileAdapter(options: FileAdapterOptions): LmsAdapter {
  const { path } = options;
  const kind = options.kind ?? kindOf(path);
  try {
    if (!statSync(path).isFile()) throw fileProblem(path, 'is not a file');
  } catch (err) {
    throw err instanceof ConfigError ? err : accessProblem(path, err);
  }
  const lookbackMs = options.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  if (!Number.isFinite(lookbackMs) || lookbackMs < 0) throw new RangeError(`lookbackMs must be a non-negative number (got ${lookbackMs})`);
  const source: Source = {
    path,
    kind,
    fileName: options.displayName ?? basename(path),
    map: options.mappingPath !== undefined ? loadColumnMap(options.mappingPath) : undefined,
    mappingPath: options.mappingPath,
    lookbackMs,
    defaultPageSize: pageSizeOf(options.defaultPageSize ?? DEFAULT_PAGE_SIZE, 'defaultPageSize'),
  };
  const { catalogPath } = options;
  if (catalogPath !== undefined) checkCatalogFile(catalogPath);
  const snapshot = options.exportMode === 'snapshot';
  return {
    name: 'file',
    // A snapshot is read whole every time: an enrollment is withdrawn by its absence from it.
    listChanges: (listOptions = {}) => listChanges(source, snapshot ? withoutCursor(listOptions) : listOptions, snapshot),
    getEnrollment: (enrollmentId, getOptions = {}) => getEnrollment(source, enrollmentId, getOptions),
    ...(catalogPath !== undefined ? { listCatalog: (catalogOptions = {}) => listFileCatalog(catalogPath, catalogOptions) } : {}),
  };
}

function withoutCursor(options: ListChangesOptions): ListChangesOptions {
  return options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
}

function listChanges(source: Source, options: ListChangesOptions, complete: boolean): PagedChanges {
  const byPage = (settings: PageSettings = {}): AsyncGenerator<ChangePage> => listPages(source, options, settings);
  async function* items(): AsyncGenerator<SourceItem> {
    for await (const page of byPage()) yield* page.items;
  }
  return Object.assign(items(), { byPage, complete });
}

function decoderFor(source: Source): RecordDecoder {
  return createDecoder({
    kind: source.kind,
    path: source.path,
    fileName: source.fileName,
    ...(source.map !== undefined ? { map: source.map } : {}),
    ...(source.mappingPath !== undefined ? { mappingPath: source.mappingPath } : {}),
  });
}

async function openSource(source: Source): Promise<FileHandle> {
  try {
    return await open(source.path, 'r');
  } catch (err) {
    throw accessProblem(source.path, err);
  }
}

function cursorMs(cursor: string): number {
  const normalized = normalizeDateTime(cursor);
  if (normalized === undefined) throw new TypeError(`cursor "${cursor}" is not an ISO 8601 date-time (the file adapter's cursor is a record's updatedAt)`);
  return Date.parse(normalized);
}

async function* listPages(source: Source, options: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const signal = options.abortSignal;
  const token = settings.continuationToken !== undefined ? decodeContinuationToken(settings.continuationToken) : undefined;
  // A resumed listing selects what the listing it resumes selected.
  const cursor = token !== undefined ? token.cursor : options.cursor;
  const pageSize = pageSizeOf(settings.maxPageSize ?? source.defaultPageSize, 'maxPageSize');
  const selection: Selection = {
    fromMs: cursor === undefined ? -Infinity : cursorMs(cursor) - source.lookbackMs,
    ...(token !== undefined ? { after: token.after } : {}),
  };
  throwIfAborted(signal);
  const handle = await openSource(source);
  try {
    const decoder = decoderFor(source);
    const index = await buildFileIndex(handle, source.kind, (span, text) => decoder.updatedAtMs(span, text), selection, signal !== undefined ? { abortSignal: signal } : {});
    if (index.count === 0) {
      yield { items: [], cursor, continuationToken: undefined };
      return;
    }
    // Records with no readable updatedAt sort first, so a page without any updatedAt follows only such pages.
    let pageCursor = cursor;
    for (let from = 0; from < index.count; from += pageSize) {
      throwIfAborted(signal);
      const to = Math.min(from + pageSize, index.count);
      const items = await readItems(handle, index, from, to, decoder, source, signal);
      throwIfAborted(signal);
      const last = index.at(to - 1);
      if (!Number.isNaN(last.updatedAtMs)) pageCursor = new Date(last.updatedAtMs).toISOString();
      yield {
        items,
        cursor: pageCursor,
        continuationToken: to < index.count ? encodeContinuationToken({ cursor, after: { updatedAtMs: last.updatedAtMs, position: last.offset } }) : undefined,
      };
    }
  } finally {
    await handle.close();
  }
}

/** Reads bytes at `position` until `buffer` is full or the file ends; returns how many were read. */
async function readAt(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** The second pass for one page: records of ranks [from, to), neighbours read together, reads in parallel. */
async function readItems(handle: FileHandle, index: FileIndex, from: number, to: number, decoder: RecordDecoder, source: Source, signal: AbortSignal | undefined): Promise<SourceItem[]> {
  const bytesToRead = (length: number): number => (length > MAX_RECORD_BYTES ? OVERSIZED_PREVIEW_BYTES : length);
  // Ranks [first, end) read as one range [start, end) of the file.
  const groups: { first: number; end: number; start: number; bytes: number }[] = [];
  for (let rank = from; rank < to; ) {
    const first = index.at(rank);
    let groupEnd = first.offset + bytesToRead(first.length);
    let end = rank + 1;
    for (; end < to; end++) {
      const next = index.at(end);
      const nextEnd = next.offset + bytesToRead(next.length);
      if (next.offset < groupEnd || next.offset - groupEnd > READ_GAP_BYTES || nextEnd - first.offset > READ_GROUP_BYTES) break;
      groupEnd = nextEnd;
    }
    groups.push({ first: rank, end, start: first.offset, bytes: groupEnd - first.offset });
    rank = end;
  }
  const items: SourceItem[] = [];
  for (let g = 0; g < groups.length; g += PARALLEL_READS) {
    throwIfAborted(signal);
    const batch = groups.slice(g, g + PARALLEL_READS);
    const buffers = await Promise.all(
      batch.map(async (group) => {
        const buffer = Buffer.allocUnsafe(group.bytes);
        return buffer.subarray(0, await readAt(handle, buffer, group.start));
      }),
    );
    batch.forEach((group, i) => {
      const buffer = buffers[i] ?? Buffer.alloc(0);
      for (let r = group.first; r < group.end; r++) {
        const entry = index.at(r);
        const start = Math.min(entry.offset - group.start, buffer.length);
        const text = buffer.toString('utf8', start, Math.min(start + bytesToRead(entry.length), buffer.length));
        items.push(entry.length > MAX_RECORD_BYTES ? oversizedItem(source.fileName, entry.line, entry.length, text, source.kind) : decoder.toItem(entry.line, text));
      }
    });
  }
  return items;
}

function updatedAtOf(item: SourceItem): string | undefined {
  return item.kind === 'record' ? item.record.updatedAt : item.updatedAt;
}

/** Streams the file once; the item with the greatest updatedAt wins, and among equals the later line. */
async function getEnrollment(source: Source, enrollmentId: string, options: OperationOptions): Promise<SourceItem | undefined> {
  throwIfAborted(options.abortSignal);
  const handle = await openSource(source);
  try {
    const decoder = decoderFor(source);
    let best: SourceItem | undefined;
    await scanRecords(
      handle,
      source.kind,
      (span, text) => {
        if (decoder.ready && (text === undefined || !decoder.mayMention(text, enrollmentId))) return;
        if (decoder.updatedAtMs(span, text) === undefined || text === undefined) return;
        const item = decoder.toItem(span.line, text);
        const id = item.kind === 'record' ? item.record.enrollmentId : item.enrollmentId;
        if (id !== enrollmentId) return;
        const at = updatedAtOf(item);
        const bestAt = best === undefined ? undefined : updatedAtOf(best);
        if (best === undefined || (at !== undefined && (bestAt === undefined || at >= bestAt))) best = item;
        else if (at === undefined && bestAt === undefined) best = item;
      },
      options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {},
    );
    return best;
  } finally {
    await handle.close();
  }
}
