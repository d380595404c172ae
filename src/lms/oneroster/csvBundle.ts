/**
 * Listing a OneRoster CSV bundle (the CSV binding, 1.1 or 1.2): a folder with manifest.csv
 * and the files it declares `bulk` or `delta` (an SFTP drop, unzipped).
 *
 * A bundle is re-read whole on every listing: enrollments.csv is streamed, and a student
 * enrollment is returned when it changed since the cursor (dateLastModified ≥ mark −
 * lookbackMs), when it has no readable dateLastModified (bulk files often leave it empty;
 * its updatedAt is then the file's modification time), or when a result or line item of its
 * class changed. Enrollments are handled in chunks: for each chunk the users, classes,
 * line items and results it needs are collected in one pass over each of those files, so
 * memory stays bounded by the chunk, not by the bundle. The cursor only moves on the last
 * page (to the latest dateLastModified read). A delta bundle holds only changed rows: an
 * enrollment whose user or class is not in the same bundle cannot be mapped and is
 * dead-lettered with that reason (withdrawals need neither).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseSync } from 'csv-parse/sync';
import { ConfigError } from '../../config/errors.js';
import { readCsvRows } from '../csvRecordReader.js';
import type { ChangePage, ListChangesOptions, OperationOptions, PageSettings, SourceItem } from '../types.js';
import { decodeToken, encodeToken, formatCursor, minusMs, parseCursor, toItem } from './cursor.js';
import { gradebookState, toRawRecord } from './mapping.js';
import { readClass, readEnrollment, readLineItem, readResult, readUser, type OrClass, type OrEnrollment, type OrLineItem, type OrResult, type OrUser } from './model.js';
import type { CsvOptions } from './settings.js';

export type FileMode = 'bulk' | 'delta' | 'absent';

export interface Manifest {
  readonly oneRosterVersion: string | undefined;
  /** "enrollments" → bulk | delta | absent (from `file.enrollments`). */
  readonly files: ReadonlyMap<string, FileMode>;
  /** Manifest keys not understood (e.g. a typo'd `fiel.demographics`): ignored. */
  readonly ignored: readonly string[];
}

/** Enrollments resolved together (users, classes, gradebook read once per chunk). */
const CHUNK = 5000;
const DEFAULT_PAGE_SIZE = 200;
/** More changed results or line items than this: every enrollment counts as changed. */
const MAX_CHANGED_KEYS = 100_000;

/** Reads manifest.csv; throws a ConfigError naming LMS_FILE_PATH when the bundle cannot be used. */
export function readManifest(folder: string): Manifest {
  const path = join(folder, 'manifest.csv');
  let rows: string[][];
  try {
    rows = parseSync(readFileSync(path), { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    throw new ConfigError([{ setting: 'LMS_FILE_PATH', problem: `(${path}) cannot be read as CSV (${err instanceof Error ? err.message : String(err)})` }]);
  }
  const files = new Map<string, FileMode>();
  const ignored: string[] = [];
  let oneRosterVersion: string | undefined;
  for (const [index, row] of rows.entries()) {
    const name = row[0]?.trim() ?? '';
    const value = row[1]?.trim() ?? '';
    if (index === 0 && name === 'propertyName') continue;
    if (name === 'oneroster.version') oneRosterVersion = value;
    else if (name.startsWith('file.')) {
      const mode = value.toLowerCase();
      files.set(name.slice(5), mode === 'bulk' || mode === 'delta' ? mode : 'absent');
    } else if (!['manifest.version', 'source.systemName', 'source.systemCode'].includes(name)) ignored.push(name);
  }
  const enrollments = files.get('enrollments');
  if (enrollments === undefined || enrollments === 'absent') throw new ConfigError([{ setting: 'LMS_FILE_PATH', problem: `(${path}) declares no enrollments file (file.enrollments must be bulk or delta)` }]);
  try {
    statSync(join(folder, 'enrollments.csv'));
  } catch {
    throw new ConfigError([{ setting: 'LMS_FILE_PATH', problem: `(${folder}) has no enrollments.csv, which manifest.csv declares` }]);
  }
  return { oneRosterVersion, files, ignored };
}

interface Row {
  readonly row: Record<string, string>;
  readonly line: number;
}

/** A row, or a line that could not be read as one (an unclosed quote, an over-long record). */
type RowOrError = Row | { readonly error: string; readonly line: number };

/**
 * The rows of one bundle file, with the line each starts on, and the lines that are not rows
 * (a bad row is isolated: the rows after it are still read; see readCsvRows). Header names are
 * trimmed; empty ones get a placeholder. Only a file that cannot be read at all throws.
 */
export async function* csvRowsAndErrors(path: string, signal: AbortSignal | undefined): AsyncGenerator<RowOrError> {
  let header: string[] | undefined;
  try {
    for await (const record of readCsvRows(path, signal !== undefined ? { abortSignal: signal } : {})) {
      signal?.throwIfAborted();
      if ('error' in record) {
        if (header === undefined) throw new Error(`the header line ${record.line} cannot be read: ${record.error}`);
        yield record;
        continue;
      }
      if (header === undefined) {
        header = record.fields.map((h, i) => (h.trim() === '' ? `__column${i}` : h.trim()));
        continue;
      }
      const names = header;
      yield { row: Object.fromEntries(record.fields.map((value, i) => [names[i] ?? `__column${i}`, value])), line: record.line };
    }
  } catch (err) {
    if (signal?.aborted === true) throw err;
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The readable rows of one bundle file (a broken line of users, classes or results only leaves its row out). */
export async function* csvRows(path: string, signal: AbortSignal | undefined): AsyncGenerator<Row> {
  for await (const entry of csvRowsAndErrors(path, signal)) if ('row' in entry) yield entry;
}

interface Bundle {
  readonly folder: string;
  readonly manifest: Manifest;
  /** The bundle's time, for rows without a readable dateLastModified. */
  readonly fileTime: string;
}

function has(bundle: Bundle, name: string): boolean {
  const mode = bundle.manifest.files.get(name);
  if (mode === undefined || mode === 'absent') return false;
  try {
    return statSync(join(bundle.folder, `${name}.csv`)).isFile();
  } catch {
    return false;
  }
}

function openBundle(folder: string): Bundle {
  const manifest = readManifest(folder);
  return { folder, manifest, fileTime: statSync(join(folder, 'enrollments.csv')).mtime.toISOString() };
}

/** What changed in the gradebook since `since`: (class, student) pairs and classes; `all` when too many to hold. */
interface GradebookChanges {
  readonly pairs: Set<string>;
  readonly classes: Set<string>;
  all: boolean;
}

const pairKey = (classId: string, userId: string): string => `${classId}\u0000${userId}`;

/** Line item → class, for CSV results that name only their line item. Bounded: past the bound, unknown. */
async function lineItemClasses(bundle: Bundle, signal: AbortSignal | undefined, wanted?: ReadonlySet<string>): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  if (!has(bundle, 'lineItems')) return map;
  for await (const { row } of csvRows(join(bundle.folder, 'lineItems.csv'), signal)) {
    const lineItem = readLineItem(row);
    if (lineItem?.classSourcedId === undefined || (wanted !== undefined && !wanted.has(lineItem.classSourcedId))) continue;
    map.set(lineItem.sourcedId, lineItem.classSourcedId);
    if (map.size > MAX_CHANGED_KEYS) break;
  }
  return map;
}

function classOfResult(result: OrResult, lineItems: ReadonlyMap<string, string>): string | undefined {
  return result.classSourcedId ?? (result.lineItemSourcedId === undefined ? undefined : lineItems.get(result.lineItemSourcedId));
}

async function gradebookChanges(bundle: Bundle, since: string | undefined, signal: AbortSignal | undefined): Promise<GradebookChanges> {
  const changes: GradebookChanges = { pairs: new Set(), classes: new Set(), all: false };
  if (since === undefined) return changes;
  const changed = (date: string | undefined): boolean => date === undefined || date >= since;
  if (has(bundle, 'lineItems')) {
    for await (const { row } of csvRows(join(bundle.folder, 'lineItems.csv'), signal)) {
      const lineItem = readLineItem(row);
      if (lineItem?.classSourcedId === undefined || !changed(lineItem.dateLastModified)) continue;
      changes.classes.add(lineItem.classSourcedId);
      if (changes.classes.size > MAX_CHANGED_KEYS) return { ...changes, all: true };
    }
  }
  if (has(bundle, 'results')) {
    const lineItems = await lineItemClasses(bundle, signal);
    for await (const { row } of csvRows(join(bundle.folder, 'results.csv'), signal)) {
      const result = readResult(row);
      if (result === undefined || !changed(result.dateLastModified)) continue;
      const classId = classOfResult(result, lineItems);
      // A changed result whose class cannot be told: every enrollment may have changed.
      if (classId === undefined || result.studentSourcedId === undefined) return { ...changes, all: true };
      changes.pairs.add(pairKey(classId, result.studentSourcedId));
      if (changes.pairs.size > MAX_CHANGED_KEYS) return { ...changes, all: true };
    }
  }
  return changes;
}

interface Pending {
  readonly enrollment: OrEnrollment;
  readonly line: number;
}

/** A row of the chunk: an enrollment to resolve, or a row already known to be invalid (kept in line order). */
type ChunkRow = Pending | { readonly invalid: SourceItem; readonly line: number };

/** One pass over each needed file for a chunk of enrollments; items in the chunk's (line) order. */
async function resolveChunk(bundle: Bundle, options: CsvOptions, rows: readonly ChunkRow[], signal: AbortSignal | undefined): Promise<{ item: SourceItem; line: number }[]> {
  const chunk = rows.filter((r): r is Pending => 'enrollment' in r);
  const userIds = new Set<string>();
  const classIds = new Set<string>();
  for (const { enrollment } of chunk) {
    if (enrollment.status === 'tobedeleted') continue;
    if (enrollment.userSourcedId !== undefined) userIds.add(enrollment.userSourcedId);
    if (enrollment.classSourcedId !== undefined) classIds.add(enrollment.classSourcedId);
  }
  const users = new Map<string, OrUser>();
  const classes = new Map<string, OrClass>();
  const lineItems = new Map<string, OrLineItem[]>();
  const results = new Map<string, OrResult[]>();
  if (has(bundle, 'users') && userIds.size > 0) {
    for await (const { row } of csvRows(join(bundle.folder, 'users.csv'), signal)) {
      const user = readUser(row);
      if (user !== undefined && userIds.has(user.sourcedId)) users.set(user.sourcedId, user);
    }
  }
  if (has(bundle, 'classes') && classIds.size > 0) {
    for await (const { row } of csvRows(join(bundle.folder, 'classes.csv'), signal)) {
      const klass = readClass(row);
      if (klass !== undefined && classIds.has(klass.sourcedId)) classes.set(klass.sourcedId, klass);
    }
  }
  const gradebook = has(bundle, 'lineItems') || has(bundle, 'results');
  const lineItemClass = new Map<string, string>();
  if (has(bundle, 'lineItems') && classIds.size > 0) {
    for await (const { row } of csvRows(join(bundle.folder, 'lineItems.csv'), signal)) {
      const lineItem = readLineItem(row);
      if (lineItem?.classSourcedId === undefined || !classIds.has(lineItem.classSourcedId)) continue;
      lineItems.set(lineItem.classSourcedId, [...(lineItems.get(lineItem.classSourcedId) ?? []), lineItem]);
      lineItemClass.set(lineItem.sourcedId, lineItem.classSourcedId);
    }
  }
  if (has(bundle, 'results') && classIds.size > 0) {
    for await (const { row } of csvRows(join(bundle.folder, 'results.csv'), signal)) {
      const result = readResult(row);
      if (result?.studentSourcedId === undefined || !userIds.has(result.studentSourcedId)) continue;
      // CSV results name their line item; the class comes from it.
      const classId = classOfResult(result, lineItemClass);
      if (classId === undefined || !classIds.has(classId)) continue;
      const key = pairKey(classId, result.studentSourcedId);
      results.set(key, [...(results.get(key) ?? []), result]);
    }
  }
  return rows.map((row) => {
    if (!('enrollment' in row)) return { item: row.invalid, line: row.line };
    const { enrollment, line } = row;
    const klass = enrollment.classSourcedId === undefined ? undefined : classes.get(enrollment.classSourcedId);
    const user = enrollment.userSourcedId === undefined ? undefined : users.get(enrollment.userSourcedId);
    const state =
      gradebook && enrollment.classSourcedId !== undefined && enrollment.userSourcedId !== undefined
        ? gradebookState(lineItems.get(enrollment.classSourcedId) ?? [], results.get(pairKey(enrollment.classSourcedId, enrollment.userSourcedId)) ?? [])
        : undefined;
    const mapped = toRawRecord({ enrollment, user, klass, gradebook: state, assignmentType: options.assignmentType, courseUrl: options.courseUrl, fallbackUpdatedAt: bundle.fileTime });
    return { item: toItem(mapped, enrollment.sourcedId, `enrollments.csv line ${line}`), line };
  });
}

function invalidRow(row: Row, reason: string): SourceItem {
  const raw = JSON.stringify(row.row);
  return { kind: 'invalid', key: `enrollments.csv:${Buffer.from(raw).toString('base64url').slice(0, 40)}`, reason: `line ${row.line}: ${reason}`, position: `enrollments.csv line ${row.line}`, raw };
}

function unreadableRow(line: number, reason: string): SourceItem {
  return { kind: 'invalid', key: `enrollments.csv:line:${line}`, reason: `enrollments.csv line ${line}: ${reason}`, position: `enrollments.csv line ${line}`, raw: '' };
}

export async function* listCsvPages(options: CsvOptions, lookbackMs: number, listOptions: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const signal = listOptions.abortSignal;
  const token = settings.continuationToken === undefined ? undefined : decodeToken(settings.continuationToken, 'oneroster-csv');
  const from = token !== undefined ? (typeof token['from'] === 'string' ? token['from'] : undefined) : listOptions.cursor;
  const after = token !== undefined && typeof token['line'] === 'number' ? token['line'] : 0;
  let maxSeen = token !== undefined && typeof token['maxSeen'] === 'string' ? token['maxSeen'] : undefined;
  const start = parseCursor(from);
  const since = minusMs(start.enrollments, lookbackMs);
  const pageSize = settings.maxPageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`maxPageSize must be a positive integer (got ${pageSize})`);
  const bundle = openBundle(options.folder);
  const changes = await gradebookChanges(bundle, since, signal);
  const startCursor = formatCursor({ ...(start.enrollments !== undefined ? { enrollments: start.enrollments } : {}) });

  const wanted = (e: OrEnrollment): boolean => {
    if (e.role !== 'student') return false;
    if (options.classIds !== undefined && (e.classSourcedId === undefined || !options.classIds.has(e.classSourcedId))) return false;
    if (since === undefined || e.dateLastModified === undefined || e.dateLastModified >= since || changes.all) return true;
    return e.classSourcedId !== undefined && (changes.classes.has(e.classSourcedId) || (e.userSourcedId !== undefined && changes.pairs.has(pairKey(e.classSourcedId, e.userSourcedId))));
  };

  // Items ready to return, with the line each came from (the continuation resumes after it).
  let ready: { item: SourceItem; line: number }[] = [];
  let chunk: ChunkRow[] = [];
  let lastLine = after;
  const page = (final: boolean): ChangePage => {
    const taken = ready.splice(0, pageSize);
    const line = final && ready.length === 0 ? lastLine : (taken[taken.length - 1]?.line ?? after);
    const done = final && ready.length === 0;
    const end = maxSeen !== undefined && (start.enrollments === undefined || maxSeen > start.enrollments) ? maxSeen : start.enrollments;
    return {
      items: taken.map((t) => t.item),
      cursor: done ? formatCursor(end !== undefined ? { enrollments: end } : {}) : startCursor,
      continuationToken: done ? undefined : encodeToken('oneroster-csv', { ...(from !== undefined ? { from } : {}), line, ...(maxSeen !== undefined ? { maxSeen } : {}) }),
    };
  };

  for await (const row of csvRowsAndErrors(join(bundle.folder, 'enrollments.csv'), signal)) {
    if (row.line <= after) continue;
    lastLine = row.line;
    if ('error' in row) {
      // One bad row never blocks the bundle: it is a dead letter naming its file and line.
      chunk.push({ invalid: unreadableRow(row.line, row.error), line: row.line });
      if (chunk.length >= CHUNK) {
        ready = [...ready, ...(await resolveChunk(bundle, options, chunk, signal))];
        chunk = [];
      }
      while (ready.length >= pageSize) yield page(false);
      continue;
    }
    const enrollment = readEnrollment(row.row);
    if (enrollment === undefined) {
      chunk.push({ invalid: invalidRow(row, 'the row has no sourcedId'), line: row.line });
    } else {
      if (enrollment.dateLastModified !== undefined && (maxSeen === undefined || enrollment.dateLastModified > maxSeen)) maxSeen = enrollment.dateLastModified;
      if (wanted(enrollment)) chunk.push({ enrollment, line: row.line });
    }
    if (chunk.length >= CHUNK) {
      ready = [...ready, ...(await resolveChunk(bundle, options, chunk, signal))];
      chunk = [];
    }
    while (ready.length >= pageSize) yield page(false);
  }
  if (chunk.length > 0) ready = [...ready, ...(await resolveChunk(bundle, options, chunk, signal))];
  while (ready.length > pageSize) yield page(false);
  yield page(true);
}

/** One enrollment by sourcedId, read from the bundle; undefined when absent or not a student's. */
export async function getCsvEnrollment(options: CsvOptions, enrollmentId: string, getOptions: OperationOptions): Promise<SourceItem | undefined> {
  const bundle = openBundle(options.folder);
  let found: Pending | undefined;
  for await (const row of csvRows(join(bundle.folder, 'enrollments.csv'), getOptions.abortSignal)) {
    const enrollment = readEnrollment(row.row);
    // In a bundle the last row for an id stands.
    if (enrollment?.sourcedId === enrollmentId) found = { enrollment, line: row.line };
  }
  if (found === undefined || found.enrollment.role !== 'student') return undefined;
  const [resolved] = await resolveChunk(bundle, options, [found], getOptions.abortSignal);
  return resolved?.item;
}
