/**
 * The `file` adapter's course catalog (LMS_CATALOG_PATH): a `.jsonl` or `.csv` export in the
 * format of DESIGN.md, "The course catalog". The export is the whole catalog, so a listing
 * is always complete: a course it no longer names is retired. The cursor is the greatest
 * `updatedAt` read (for the run summary and status); every row is read on every pass, and
 * the content ledger's fingerprints make unchanged courses cost nothing.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors.js';
import { parseCatalogCourse } from '../mapping/catalogCourse.js';
import { catalogPages, pagedCatalog } from './catalogListing.js';
import { MAX_RECORD_BYTES, scanRecords, splitCsvRecord, throwIfAborted, type FileKind } from './recordScanner.js';
import type { CatalogItem, ListCatalogOptions, PagedCatalog } from './types.js';

export const CATALOG_PATH_SETTING = 'LMS_CATALOG_PATH';

function catalogProblem(path: string, problem: string): ConfigError {
  return new ConfigError([{ setting: CATALOG_PATH_SETTING, problem: `(${path}): ${problem}` }]);
}

/** Checks the catalog file now, so that a bad setting fails at start. */
export function checkCatalogFile(path: string): FileKind {
  const ext = extname(path).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.csv') throw catalogProblem(path, `must name a .jsonl or .csv file (got "${ext === '' ? 'no extension' : ext}")`);
  try {
    if (!statSync(path).isFile()) throw catalogProblem(path, 'is not a file');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw catalogProblem(path, code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? String(err)})`);
  }
  return ext === '.csv' ? 'csv' : 'jsonl';
}

export function listFileCatalog(path: string, options: ListCatalogOptions = {}): PagedCatalog {
  const kind = checkCatalogFile(path);
  let read: Promise<{ items: CatalogItem[]; cursor: string | undefined }> | undefined;
  return pagedCatalog(true, (settings) => {
    read ??= readCatalog(path, kind, options);
    return (async function* () {
      const { items, cursor } = await read;
      yield* catalogPages(items, cursor, settings);
    })();
  });
}

async function readCatalog(path: string, kind: FileKind, options: ListCatalogOptions): Promise<{ items: CatalogItem[]; cursor: string | undefined }> {
  throwIfAborted(options.abortSignal);
  const fileName = basename(path);
  const items: CatalogItem[] = [];
  let header: string[] | undefined;
  let cursor: string | undefined;
  const handle = await open(path, 'r');
  try {
    await scanRecords(
      handle,
      kind,
      (span, text) => {
        const position = `${fileName} line ${span.line}`;
        const invalid = (reason: string, id?: string): CatalogItem => ({
          kind: 'invalid',
          key: `catalog:${id ?? createHash('sha256').update(text ?? position).digest('hex').slice(0, 16)}`,
          reason: `line ${span.line}: ${reason}`,
          position,
          raw: (text ?? '').slice(0, 64 * 1024),
          ...(id !== undefined ? { id } : {}),
        });
        if (text === undefined) {
          items.push(invalid(`the record is ${span.length} bytes long, more than the limit of ${MAX_RECORD_BYTES}`));
          return;
        }
        let raw: unknown;
        if (kind === 'csv') {
          const split = splitCsvRecord(text);
          if (header === undefined) {
            if (split.fields === undefined) throw catalogProblem(path, `the header is not valid CSV: ${split.error}`);
            header = split.fields.map((name) => name.trim());
            for (const field of ['id', 'title', 'url']) if (!header.includes(field)) throw catalogProblem(path, `the header has no "${field}" column (columns: ${header.join(', ')})`);
            return;
          }
          if (split.fields === undefined) return void items.push(invalid(split.error));
          if (split.fields.every((f) => f.trim() === '')) return;
          if (split.fields.length !== header.length) return void items.push(invalid(`${split.fields.length} fields, but the header has ${header.length} columns`));
          raw = Object.fromEntries(header.map((name, i) => [name, split.fields[i] ?? '']));
        } else {
          try {
            raw = JSON.parse(text);
          } catch (err) {
            return void items.push(invalid(`malformed JSON (${(err as Error).message})`));
          }
        }
        const parsed = parseCatalogCourse(raw);
        if (!parsed.ok) return void items.push(invalid(parsed.reason, parsed.id));
        if (parsed.course.updatedAt !== undefined && (cursor === undefined || parsed.course.updatedAt > cursor)) cursor = parsed.course.updatedAt;
        items.push({ kind: 'course', course: parsed.course, position });
      },
      options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {},
    );
  } finally {
    await handle.close();
  }
  return { items, cursor };
}
