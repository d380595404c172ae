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

/** Streams the file through `visit`, record by record. Skips a UTF-8 BOM and blank lines. */
export async function scanRecords(handle: FileHandle, kind: FileKind, visit: RecordVisitor, options: ScanOptions = {}): Promise<void> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  // Bytes of the current record read in earlier chunks (copied: `chunk` is reused).
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let filePos = 0;
  let recordStart = 0;
  let recordLine = 1;
  let line = 1;
  let state = FIELD_START;

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
    if (kind === 'jsonl') {
      for (let nl = chunk.indexOf(LF, start); nl !== -1 && nl < bytesRead; nl = chunk.indexOf(LF, start)) {
        emit(chunk.subarray(start, nl));
        line += 1;
        start = nl + 1;
        recordStart = filePos + start;
        recordLine = line;
      }
    } else {
      for (let i = start; i < bytesRead; i++) {
        const b = chunk[i];
        if (b === LF) {
          line += 1;
          if (state !== QUOTED) {
            emit(chunk.subarray(start, i));
            start = i + 1;
            recordStart = filePos + start;
            recordLine = line;
            state = FIELD_START;
          }
        } else if (b === QUOTE) {
          state = state === FIELD_START ? QUOTED : state === QUOTED ? QUOTE_IN_QUOTED : state === QUOTE_IN_QUOTED ? QUOTED : UNQUOTED;
        } else if (b === COMMA) {
          if (state !== QUOTED) state = FIELD_START;
        } else if (state !== QUOTED) {
          state = UNQUOTED;
        }
      }
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
