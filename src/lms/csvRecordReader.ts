/**
 * A streaming CSV reader that isolates bad records: each record comes with the line it starts
 * on, split into fields, or with the reason it cannot be read. A record is capped in size, so an
 * unclosed quote cannot buffer the rest of the file; and a record spanning several lines that
 * turns out broken (a quote left open, or closed by a quote on a later row) is reported for its
 * first line only, and reading resumes on the next line, so the rows after it still count.
 * Same field rules as the `file` adapter (splitCsvRecord, RFC 4180).
 */
import { open } from 'node:fs/promises';
import { MAX_RECORD_BYTES, splitCsvRecord, throwIfAborted } from './recordScanner.js';

export type CsvRow = { readonly line: number; readonly fields: string[] } | { readonly line: number; readonly error: string };

export interface CsvReadOptions {
  readonly abortSignal?: AbortSignal;
  /** Default MAX_RECORD_BYTES (1 MiB). */
  readonly maxRecordBytes?: number;
  /** For tests: read in chunks of this many bytes. */
  readonly chunkBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** One record's extent: from `start`, ending before `end` (its LF, or the end of the file). */
interface Extent {
  readonly start: number;
  readonly end: number;
  /** Lines it spans. */
  readonly lines: number;
  /** Offset just past its first LF, when it spans lines. */
  readonly afterFirstLine: number | undefined;
  /** Whether it ended with a quote still open (the end of the file, or the size cap, came first). */
  readonly openQuote: boolean;
  /** Whether the size cap ended it. */
  readonly capped: boolean;
}

export async function* readCsvRows(path: string, options: CsvReadOptions = {}): AsyncGenerator<CsvRow> {
  const maxBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  const chunkBytes = Math.max(16, options.chunkBytes ?? 1024 * 1024);
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let chunkAt = -1;
    let chunkLength = 0;
    const load = async (offset: number): Promise<void> => {
      throwIfAborted(options.abortSignal);
      chunkAt = offset;
      chunkLength = (await handle.read(chunk, 0, chunkBytes, offset)).bytesRead;
    };
    const byteAt = async (offset: number): Promise<number> => {
      if (offset < chunkAt || offset >= chunkAt + chunkLength) await load(offset);
      return chunk[offset - chunkAt] ?? 0;
    };
    /** Finds where the record starting at `start` ends: at an LF outside quotes, the size cap, or the end of the file. */
    const extentFrom = async (start: number): Promise<Extent> => {
      // The states of the file adapter's scanner (recordScanner.ts), so both agree on where a record ends.
      let state = FIELD_START;
      let lines = 1;
      let afterFirstLine: number | undefined;
      let at = start;
      while (at < size) {
        if (at < chunkAt || at >= chunkAt + chunkLength) await load(at);
        const limit = Math.min(chunkAt + chunkLength, size);
        for (; at < limit; at++) {
          const b = chunk[at - chunkAt];
          if (b === LF) {
            if (state !== QUOTED) return { start, end: at, lines, afterFirstLine, openQuote: false, capped: false };
            lines += 1;
            afterFirstLine ??= at + 1;
          } else if (b === QUOTE) {
            state = state === FIELD_START ? QUOTED : state === QUOTED ? QUOTE_IN_QUOTED : state === QUOTE_IN_QUOTED ? QUOTED : UNQUOTED;
          } else if (b === COMMA) {
            if (state !== QUOTED) state = FIELD_START;
          } else if (state !== QUOTED) {
            state = UNQUOTED;
          }
          if (at - start >= maxBytes) return { start, end: at, lines, afterFirstLine, openQuote: state === QUOTED, capped: true };
        }
      }
      return { start, end: size, lines, afterFirstLine, openQuote: state === QUOTED, capped: false };
    };
    const textOf = async (start: number, end: number): Promise<string> => {
      const bytes = Buffer.alloc(end - start);
      await handle.read(bytes, 0, bytes.length, start);
      return bytes.toString('utf8', 0, bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length);
    };

    let at = size >= 3 && (await byteAt(0)) === 0xef && (await byteAt(1)) === 0xbb && (await byteAt(2)) === 0xbf ? 3 : 0;
    let line = 1;
    while (at < size) {
      const extent = await extentFrom(at);
      const tooLong = extent.capped;
      const text = tooLong ? undefined : await textOf(extent.start, extent.end);
      const split = text === undefined ? undefined : splitCsvRecord(text);
      if (split?.fields !== undefined && !extent.openQuote) {
        if (text?.trim() !== '') yield { line, fields: split.fields };
      } else if (extent.afterFirstLine !== undefined) {
        // Broken across lines: only its first line is lost; the lines after it are read again as rows.
        yield { line, error: extent.openQuote || split === undefined ? 'a quote opened on this line is never closed' : `${split.error ?? 'unreadable'} (the quoted field runs over several lines)` };
        at = extent.afterFirstLine;
        line += 1;
        continue;
      } else {
        yield { line, error: tooLong ? `the record is longer than ${maxBytes} bytes` : (split?.error ?? 'unreadable') };
        if (tooLong) {
          // One over-long line: skip to its end.
          let end = extent.end;
          while (end < size && (await byteAt(end)) !== LF) end += 1;
          at = end + 1;
          line += 1;
          continue;
        }
      }
      at = extent.end + 1;
      line += extent.lines;
    }
  } finally {
    await handle.close();
  }
}
