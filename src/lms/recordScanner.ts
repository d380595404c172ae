/**
 * Finds record boundaries in a `.jsonl` or `.csv` file, streaming it a chunk at a time: for
 * each record, its byte offset and length (without the line ending) and the line it starts
 * on. A JSONL record ends at every newline; a CSV record ends at a newline outside a quoted
 * field, so quoted fields may hold newlines. Only the record being read is held in memory.
 */
import type { FileHandle } from 'node:fs/promises';

export type FileKind = 'jsonl' | 'csv';

/** A record longer than this is not decoded: it becomes an invalid item (an open quote can swallow a whole file). */
export const MAX_RECORD_BYTES = 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

export interface RecordSpan {
  /** Byte offset of the record's first byte in the file. */
  readonly offset: number;
  /** Byte length of the record, without its line ending. */
  readonly length: number;
  /** 1-based line the record starts on. */
  readonly line: number;
}

/**
 * Called for every non-blank record in file order, with its text, or undefined when the
 * record is longer than MAX_RECORD_BYTES (it is then not decoded).
 */
export type RecordVisitor = (span: RecordSpan, text: string | undefined) => void;

export interface ScanOptions {
  readonly abortSignal?: AbortSignal;
  /** For tests: read the file in chunks of this many bytes. */
  readonly chunkBytes?: number;
}

/** The error a listing rejects with when its abort signal fires. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted.', options?: ErrorOptions) {
    super(message, options);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
}

// CSV states, the same as splitCsvRecord's, so that both agree on where a record ends.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * Streams the file through `visit`, record by record. Skips a UTF-8 BOM and blank lines. A CSV
 * record broken across lines is visited as its first line only (see csvRecords).
 */
export async function scanRecords(handle: FileHandle, kind: FileKind, visit: RecordVisitor, options: ScanOptions = {}): Promise<void> {
  if (kind === 'csv') {
    // One CSV reader for every adapter, so a bad row is isolated the same way everywhere.
    for await (const batch of csvRecords(handle, options)) {
      for (const record of batch) visit({ offset: record.offset, length: record.length, line: record.line }, record.text);
    }
    return;
  }
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  // Bytes of the current record read in earlier chunks (copied: `chunk` is reused).
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let filePos = 0;
  let recordStart = 0;
  let recordLine = 1;
  let line = 1;

  const emit = (tail: Buffer): void => {
    const totalBytes = carryBytes + tail.length;
    let length = totalBytes;
    let text: string | undefined;
    // Past the limit (plus room for a CR) the record is not decoded, and its bytes were not all kept.
    if (totalBytes <= MAX_RECORD_BYTES + 1) {
      const bytes = carry.length === 0 ? tail : Buffer.concat([...carry, tail], totalBytes);
      if (length > 0 && bytes[length - 1] === CR) length -= 1;
      if (length <= MAX_RECORD_BYTES) text = bytes.toString('utf8', 0, length);
    }
    carry = [];
    carryBytes = 0;
    if (text === undefined || text.trim() !== '') visit({ offset: recordStart, length, line: recordLine }, text);
  };

  // A UTF-8 byte order mark is not part of the first record.
  const bom = Buffer.alloc(3);
  const { bytesRead: bomBytes } = await handle.read(bom, 0, 3, 0);
  if (bomBytes === 3 && bom[0] === 0xef && bom[1] === 0xbb && bom[2] === 0xbf) {
    filePos = 3;
    recordStart = 3;
  }

  for (;;) {
    throwIfAborted(options.abortSignal);
    const { bytesRead } = await handle.read(chunk, 0, chunkBytes, filePos);
    if (bytesRead === 0) break;
    let start = 0;
    for (let nl = chunk.indexOf(LF, start); nl !== -1 && nl < bytesRead; nl = chunk.indexOf(LF, start)) {
      emit(chunk.subarray(start, nl));
      line += 1;
      start = nl + 1;
      recordStart = filePos + start;
      recordLine = line;
    }
    // Keep the unfinished record's bytes (copied: `chunk` is reused), up to the decoding limit.
    const rest = bytesRead - start;
    if (rest > 0) {
      if (carryBytes <= MAX_RECORD_BYTES + 1) carry.push(Buffer.from(chunk.subarray(start, bytesRead)));
      carryBytes += rest;
    }
    filePos += bytesRead;
  }
  // The last record, when the file does not end with a newline.
  if (carryBytes > 0) emit(Buffer.alloc(0));
}

export type CsvSplit = { readonly fields: string[]; readonly error?: undefined } | { readonly fields?: undefined; readonly error: string };

/**
 * Splits one CSV record (RFC 4180: comma-separated, fields optionally in double quotes,
 * `""` for a quote inside quotes, newlines allowed inside quotes). A quote inside an
 * unquoted field is kept as a character. Text after a closing quote, or a quote left
 * open, is an error.
 */
export function splitCsvRecord(text: string): CsvSplit {
  const fields: string[] = [];
  let state = FIELD_START;
  let fieldStart = 0;
  let quoted = '';
  let segmentStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (state) {
      case FIELD_START:
        if (c === QUOTE) {
          state = QUOTED;
          quoted = '';
          segmentStart = i + 1;
        } else if (c === COMMA) {
          fields.push('');
          fieldStart = i + 1;
        } else {
          state = UNQUOTED;
        }
        break;
      case UNQUOTED:
        if (c === COMMA) {
          fields.push(text.slice(fieldStart, i));
          fieldStart = i + 1;
          state = FIELD_START;
        }
        break;
      case QUOTED:
        if (c === QUOTE) {
          quoted += text.slice(segmentStart, i);
          state = QUOTE_IN_QUOTED;
        }
        break;
      case QUOTE_IN_QUOTED:
        if (c === QUOTE) {
          quoted += '"';
          segmentStart = i + 1;
          state = QUOTED;
        } else if (c === COMMA) {
          fields.push(quoted);
          fieldStart = i + 1;
          state = FIELD_START;
        } else {
          return { error: `column ${fields.length + 1} has text after its closing quote` };
        }
        break;
    }
  }
  switch (state) {
    case QUOTED:
      return { error: `column ${fields.length + 1} opens a quote that is never closed` };
    case QUOTE_IN_QUOTED:
      fields.push(quoted);
      break;
    default:
      fields.push(text.slice(fieldStart));
  }
  return { fields };
}

/** One CSV record: where it is, its text (undefined when over the size cap), or why it cannot be read. */
export interface CsvRecord extends RecordSpan {
  /** Without the line ending; undefined when the record is longer than the cap. */
  readonly text: string | undefined;
  /** Set when the record cannot be read; `text` is then its first line (or undefined when over the cap). */
  readonly error: string | undefined;
}

export interface CsvRecordOptions extends ScanOptions {
  /** Default MAX_RECORD_BYTES (1 MiB). */
  readonly maxRecordBytes?: number;
}

/** One record's extent: from `start`, ending before `end` (its LF, or the end of the file). */
interface Extent {
  readonly start: number;
  readonly end: number;
  /** Lines it spans. */
  readonly lines: number;
  /** Offset of its first LF, when it spans lines. */
  readonly firstLf: number | undefined;
  /** Whether it ended with a quote still open (the end of the file, or the size cap, came first). */
  readonly openQuote: boolean;
  /** Whether the size cap ended it. */
  readonly capped: boolean;
}

/** Where the search for a record's end has got to. */
interface ExtentScan {
  readonly start: number;
  at: number;
  state: number;
  lines: number;
  firstLf: number | undefined;
}

/** Records handed out together, so that a caller pays for one await per batch, not per record. */
const CSV_BATCH = 256;

/**
 * The CSV reader every adapter shares (the `file` adapter's index and OneRoster bundles): the
 * records of a file in order, in batches. A record is capped in size, so an unclosed quote cannot
 * buffer the rest of the file; and a record spanning several lines that turns out broken (a quote
 * left open, or closed by a quote on a later row) is reported for its first line only, and
 * reading resumes on the next line, so the rows after it still count. Blank records are skipped.
 */
export async function* csvRecords(handle: FileHandle, options: CsvRecordOptions = {}): AsyncGenerator<CsvRecord[]> {
  const maxBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  const chunkBytes = Math.max(16, options.chunkBytes ?? CHUNK_BYTES);
  const size = (await handle.stat()).size;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  let chunkAt = -1;
  let chunkLength = 0;
  const load = async (offset: number): Promise<void> => {
    throwIfAborted(options.abortSignal);
    chunkAt = offset;
    chunkLength = (await handle.read(chunk, 0, chunkBytes, offset)).bytesRead;
    if (chunkLength === 0) throw new Error(`the file ended at byte ${offset} while being read (it is ${size} bytes long)`);
  };
  const loaded = (offset: number): boolean => offset >= chunkAt && offset < chunkAt + chunkLength;
  /** Scans on from `scan.at` through the loaded chunk; the extent once the record ends there, else undefined. */
  const step = (scan: ExtentScan): Extent | undefined => {
    const { start } = scan;
    const limit = Math.min(chunkAt + chunkLength, size);
    let { state, at } = scan;
    for (; at < limit; at++) {
      const b = chunk[at - chunkAt];
      if (b === LF) {
        if (state !== QUOTED) return { start, end: at, lines: scan.lines, firstLf: scan.firstLf, openQuote: false, capped: false };
        scan.lines += 1;
        scan.firstLf ??= at;
      } else if (b === QUOTE) {
        state = state === FIELD_START ? QUOTED : state === QUOTED ? QUOTE_IN_QUOTED : state === QUOTE_IN_QUOTED ? QUOTED : UNQUOTED;
      } else if (b === COMMA) {
        if (state !== QUOTED) state = FIELD_START;
      } else if (state !== QUOTED) {
        state = UNQUOTED;
      }
      if (at - start >= maxBytes) return { start, end: at, lines: scan.lines, firstLf: scan.firstLf, openQuote: state === QUOTED, capped: true };
    }
    scan.state = state;
    scan.at = at;
    return at >= size ? { start, end: size, lines: scan.lines, firstLf: scan.firstLf, openQuote: state === QUOTED, capped: false } : undefined;
  };
  /** Finds where the record starting at `start` ends: at an LF outside quotes, the size cap, or the end of the file. */
  const extentFrom = async (scan: ExtentScan): Promise<Extent> => {
    for (;;) {
      if (!loaded(scan.at)) await load(scan.at);
      const extent = step(scan);
      if (extent !== undefined) return extent;
    }
  };
  /** The offset of the LF that ends the line holding `from`, or the end of the file. */
  const lineEnd = async (from: number): Promise<number> => {
    for (let at = from; at < size; ) {
      if (!loaded(at)) await load(at);
      const limit = Math.min(chunkAt + chunkLength, size);
      const lf = chunk.subarray(at - chunkAt, limit - chunkAt).indexOf(LF);
      if (lf !== -1) return at + lf;
      at = limit;
    }
    return size;
  };
  const byteBefore = async (end: number): Promise<number | undefined> => {
    if (end <= 0) return undefined;
    if (!loaded(end - 1)) await load(end - 1);
    return chunk[end - 1 - chunkAt];
  };
  /** The record's length without a CR before its LF. */
  const lengthOf = async (start: number, end: number): Promise<number> => (end > start && (loaded(end - 1) ? chunk[end - 1 - chunkAt] : await byteBefore(end)) === CR ? end - start - 1 : end - start);
  const inChunk = (start: number, length: number): boolean => length === 0 || (loaded(start) && loaded(start + length - 1));
  const textOf = async (start: number, length: number): Promise<string> => {
    const bytes = Buffer.alloc(length);
    await handle.read(bytes, 0, length, start);
    return bytes.toString('utf8');
  };

  let batch: CsvRecord[] = [];
  let at = 0;
  if (size >= 3) {
    await load(0);
    // A UTF-8 byte order mark is not part of the first record.
    if (chunkLength >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) at = 3;
  }
  let line = 1;
  while (at < size) {
    if (batch.length >= CSV_BATCH) {
      yield batch;
      batch = [];
    }
    // The common case, a record within the loaded chunk, takes no await.
    const scan: ExtentScan = { start: at, at, state: FIELD_START, lines: 1, firstLf: undefined };
    const extent = (loaded(at) ? step(scan) : undefined) ?? (await extentFrom(scan));
    if (extent.capped && extent.firstLf === undefined) {
      // One over-long line: not decoded; skip to its end.
      const end = await lineEnd(extent.end);
      batch.push({ offset: at, length: await lengthOf(at, end), line, text: undefined, error: `the record is longer than ${maxBytes} bytes` });
      at = end + 1;
      line += 1;
      continue;
    }
    const length = extent.end > at && loaded(extent.end - 1) ? (chunk[extent.end - 1 - chunkAt] === CR ? extent.end - at - 1 : extent.end - at) : await lengthOf(at, extent.end);
    const text = extent.capped ? undefined : inChunk(at, length) ? chunk.toString('utf8', at - chunkAt, at - chunkAt + length) : await textOf(at, length);
    // A record on one line is judged by its reader; one over several lines must split here, or it is not a record.
    const split = text !== undefined && extent.lines > 1 && !extent.openQuote ? splitCsvRecord(text) : undefined;
    if (extent.firstLf !== undefined && (text === undefined || extent.openQuote || split?.error !== undefined)) {
      // Broken across lines: only its first line is lost; the lines after it are read again as rows.
      const firstLength = await lengthOf(at, extent.firstLf);
      const error = split?.error !== undefined ? `${split.error} (the quoted field runs over several lines)` : 'a quote opened on this line is never closed';
      batch.push({ offset: at, length: firstLength, line, text: await textOf(at, firstLength), error });
      at = extent.firstLf + 1;
      line += 1;
      continue;
    }
    if (text !== undefined && text.trim() !== '') batch.push({ offset: at, length, line, text, error: undefined });
    at = extent.end + 1;
    line += extent.lines;
  }
  if (batch.length > 0) yield batch;
}
