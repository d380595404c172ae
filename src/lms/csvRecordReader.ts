/**
 * Reads a CSV file as rows: each with the line it starts on, split into fields, or with the
 * reason it cannot be read. Built on csvRecords (recordScanner.ts), the reader the `file`
 * adapter shares: records are capped in size, and a record broken across lines is reported for
 * its first line only, so the rows after it still count. Same field rules (splitCsvRecord, RFC 4180).
 */
import { open } from 'node:fs/promises';
import { csvRecords, splitCsvRecord } from './recordScanner.js';

export type CsvRow = { readonly line: number; readonly fields: string[] } | { readonly line: number; readonly error: string };

export interface CsvReadOptions {
  readonly abortSignal?: AbortSignal;
  /** Default MAX_RECORD_BYTES (1 MiB). */
  readonly maxRecordBytes?: number;
  /** For tests: read in chunks of this many bytes. */
  readonly chunkBytes?: number;
}

export async function* readCsvRows(path: string, options: CsvReadOptions = {}): AsyncGenerator<CsvRow> {
  const handle = await open(path, 'r');
  try {
    for await (const batch of csvRecords(handle, options)) {
      for (const { line, text, error } of batch) {
        if (error !== undefined || text === undefined) {
          yield { line, error: error ?? 'unreadable' };
          continue;
        }
        const split = splitCsvRecord(text);
        yield split.fields !== undefined ? { line, fields: split.fields } : { line, error: split.error };
      }
    }
  } finally {
    await handle.close();
  }
}
