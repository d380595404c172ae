/**
 * Turns one record's text (a JSONL line or a CSV row) into a SourceItem, through the column
 * map when there is one, and reads its updatedAt cheaply for the first pass. Never throws
 * for bad data: a record that cannot be read becomes an invalid item whose reason names
 * its line. Only setting problems throw (a CSV header that lacks a mapped column).
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors.js';
import { normalizeDateTime, parseEnrollment, unflattenRow, type ParseResult } from '../mapping/enrollment.js';
import { applyColumnMap, missingColumns, nestDottedKeys, sourceColumn, type ColumnMap } from './columnMap.js';
import { MAX_RECORD_BYTES, splitCsvRecord, type FileKind, type RecordSpan } from './recordScanner.js';
import type { SourceItem } from './types.js';

export interface DecoderOptions {
  readonly kind: FileKind;
  /** The file's path, for setting errors. */
  readonly path: string;
  /** The name items' positions use: "<fileName> line N". */
  readonly fileName: string;
  readonly map?: ColumnMap;
  /** For setting errors about the map. */
  readonly mappingPath?: string;
}

export interface RecordDecoder {
  /** False until a CSV decoder has seen its header. */
  readonly ready: boolean;
  /**
   * First pass: the record's updatedAt in ms, NaN when it cannot be read, or undefined when
   * the row is not a record (the CSV header, which this call reads, or a row of empty fields).
   */
  updatedAtMs(span: RecordSpan, text: string | undefined): number | undefined;
  /** Second pass: the record as an item. */
  toItem(line: number, text: string): SourceItem;
  /** A cheap test that a record's text may hold this enrollmentId (false means it certainly does not). */
  mayMention(text: string, enrollmentId: string): boolean;
}

export function createDecoder(options: DecoderOptions): RecordDecoder {
  return options.kind === 'csv' ? new CsvDecoder(options) : new JsonlDecoder(options);
}

export function positionOf(fileName: string, line: number): string {
  return `${fileName} line ${line}`;
}

function textKey(text: string): string {
  return `line:${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

export function invalidItem(fileName: string, line: number, text: string, reason: string, enrollmentId?: string, updatedAt?: string): SourceItem {
  return {
    kind: 'invalid',
    key: enrollmentId ?? textKey(text),
    reason: `line ${line}: ${reason}`,
    position: positionOf(fileName, line),
    raw: text,
    ...(enrollmentId !== undefined ? { enrollmentId } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
  };
}

/** A record longer than MAX_RECORD_BYTES: `preview` is its beginning. */
export function oversizedItem(fileName: string, line: number, length: number, preview: string, kind: FileKind): SourceItem {
  const hint = kind === 'csv' ? ' (is a quote left open?)' : '';
  return invalidItem(fileName, line, preview, `the record is ${length} bytes long, more than the limit of ${MAX_RECORD_BYTES}${hint}`);
}

function fromParse(fileName: string, line: number, text: string, result: ParseResult): SourceItem {
  if (result.ok) return { kind: 'record', record: result.enrollment, position: positionOf(fileName, line) };
  return invalidItem(fileName, line, text, result.reason, result.enrollmentId, result.updatedAt);
}

function msOf(value: unknown): number {
  if (typeof value !== 'string') return NaN;
  const normalized = normalizeDateTime(value);
  return normalized === undefined ? NaN : Date.parse(normalized);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class JsonlDecoder implements RecordDecoder {
  readonly ready = true;
  readonly #fileName: string;
  readonly #map: ColumnMap | undefined;
  readonly #updatedAtKey: string;

  constructor(options: DecoderOptions) {
    this.#fileName = options.fileName;
    this.#map = options.map;
    this.#updatedAtKey = sourceColumn(options.map, 'updatedAt');
  }

  updatedAtMs(_span: RecordSpan, text: string | undefined): number {
    if (text === undefined) return NaN;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return NaN;
    }
    return isPlainObject(value) ? msOf(value[this.#updatedAtKey]) : NaN;
  }

  toItem(line: number, text: string): SourceItem {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return invalidItem(this.#fileName, line, text, `malformed JSON (${(err as Error).message})`);
    }
    if (isPlainObject(value)) {
      if (this.#map !== undefined) value = nestDottedKeys(applyColumnMap(this.#map, value));
      else if (Object.keys(value).some((key) => key.includes('.'))) value = nestDottedKeys(value);
    }
    return fromParse(this.#fileName, line, text, parseEnrollment(value));
  }

  mayMention(text: string, enrollmentId: string): boolean {
    // A backslash may escape the id's characters.
    return text.includes(enrollmentId) || text.includes('\\');
  }
}

class CsvDecoder implements RecordDecoder {
  readonly #options: DecoderOptions;
  #header: string[] | undefined;
  #updatedAtIndex = -1;

  constructor(options: DecoderOptions) {
    this.#options = options;
  }

  get ready(): boolean {
    return this.#header !== undefined;
  }

  updatedAtMs(span: RecordSpan, text: string | undefined): number | undefined {
    if (this.#header === undefined) {
      this.#readHeader(span, text);
      return undefined;
    }
    if (text === undefined) return NaN;
    const split = splitCsvRecord(text);
    if (split.fields === undefined) return NaN;
    if (split.fields.every((field) => field.trim() === '')) return undefined;
    if (split.fields.length !== this.#header.length) return NaN;
    return msOf(split.fields[this.#updatedAtIndex]);
  }

  toItem(line: number, text: string): SourceItem {
    const { fileName, map } = this.#options;
    const header = this.#header;
    if (header === undefined) throw new Error('CsvDecoder.toItem before the header was read');
    const split = splitCsvRecord(text);
    if (split.fields === undefined) return invalidItem(fileName, line, text, split.error);
    if (split.fields.length !== header.length) {
      return invalidItem(fileName, line, text, `${split.fields.length} fields, but the header has ${header.length} columns`);
    }
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      row[name] = split.fields[i] ?? '';
    });
    return fromParse(fileName, line, text, parseEnrollment(unflattenRow(map !== undefined ? applyColumnMap(map, row) : row)));
  }

  mayMention(text: string, enrollmentId: string): boolean {
    // A quote in the id is doubled in the file.
    return text.includes(enrollmentId) || enrollmentId.includes('"');
  }

  #readHeader(span: RecordSpan, text: string | undefined): void {
    const { path, fileName, map, mappingPath } = this.#options;
    const fileProblem = (problem: string): ConfigError => new ConfigError([{ setting: 'LMS_FILE_PATH', problem: `(${path}): ${problem}` }]);
    if (text === undefined) throw fileProblem(`the header (line ${span.line}) is longer than ${MAX_RECORD_BYTES} bytes`);
    const split = splitCsvRecord(text);
    if (split.fields === undefined) throw fileProblem(`the header (line ${span.line}) is not valid CSV: ${split.error}`);
    const header = split.fields.map((name) => name.trim());
    if (map !== undefined) {
      const missing = missingColumns(map, header);
      if (missing.length > 0) {
        throw new ConfigError([{ setting: 'LMS_MAPPING_PATH', problem: `(${mappingPath ?? 'column map'}): ${missing.join(', ')} not in the header of ${fileName} (its columns: ${header.join(', ')})` }]);
      }
    }
    const used = new Set<string>(map !== undefined ? [...map.columns.values()] : header);
    const seen = new Set<string>();
    for (const name of header) {
      if (seen.has(name) && used.has(name)) throw fileProblem(`the header names column "${name}" more than once`);
      seen.add(name);
    }
    for (const field of ['enrollmentId', 'updatedAt'] as const) {
      const column = sourceColumn(map, field);
      if (!header.includes(column)) {
        throw map !== undefined
          ? new ConfigError([{ setting: 'LMS_MAPPING_PATH', problem: `(${mappingPath ?? 'column map'}): maps no column to ${field}, and the header of ${fileName} has no "${field}" column` }])
          : fileProblem(`the header has no "${field}" column (columns: ${header.join(', ')}); a vendor export needs LMS_MAPPING_PATH`);
      }
    }
    this.#updatedAtIndex = header.indexOf(sourceColumn(map, 'updatedAt'));
    this.#header = header;
  }
}
