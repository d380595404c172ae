/**
 * One small interface the export reader goes through, whatever holds the exports: a local
 * file, or Azure Blob Storage (one blob or a folder). A source lists exports and copies one to
 * a local file (the spool) that the file adapter's two-pass reader then reads.
 */
import type { OperationOptions } from '../types.js';
import type { ExportFormat } from './location.js';

/** One export as its source lists it. */
export interface ExportObject {
  /** The blob name (or the file's path); unique within the source, and the order exports are read in. */
  readonly name: string;
  /** Changes whenever the content changes: an export is read once per ETag. */
  readonly etag: string;
  readonly size: number;
  /** ISO 8601. */
  readonly lastModified: string;
  readonly format: ExportFormat;
}

/** An export copied to local disk (decompressed when it was gzip); `dispose` removes the copy. */
export interface SpooledExport {
  readonly path: string;
  readonly bytes: number;
  dispose(): Promise<void>;
}

export interface ExportSource {
  /** Where the exports are, as it may appear in messages and in the state (never a SAS token). */
  readonly root: string;
  /** Every export in name order, complete or not. */
  list(options?: OperationOptions): Promise<ExportObject[]>;
  /** Why `object` must not be read yet (still written, upload in progress, no marker); undefined when it is complete. */
  incomplete(object: ExportObject, options?: OperationOptions): Promise<string | undefined>;
  /** Copies the export, exactly the version listed (`etag`), to local disk. */
  spool(object: ExportObject, options?: OperationOptions): Promise<SpooledExport>;
}

/** A problem with one export's content (not the connection): it is recorded as failed and the others are read. */
export class ExportContentError extends Error {
  override readonly name = 'ExportContentError';
}

/** The export changed (new ETag) while it was being read: it is left for the next run. */
export class ExportChangedError extends Error {
  override readonly name = 'ExportChangedError';
}

/**
 * What a page read from an export source says about the exports, so that the run can record
 * them (src/sync/exportTracking.ts): the adapter only reads.
 */
export interface ExportPageInfo {
  /** The source (ExportSource.root). */
  readonly root: string;
  /** On a listing's first page: exports this listing will not read, and why (not complete yet, or moot in snapshot mode). */
  readonly passed?: readonly { readonly object: ExportObject; readonly status: 'waiting' | 'skipped'; readonly reason: string }[];
  /** The export this page's items come from. */
  readonly object?: ExportObject;
  /** The export's last page: once the run asks for the next page, the export is done. */
  readonly last?: boolean;
  /** The export could not be read (its content); the listing goes on with the next. */
  readonly failed?: string;
}
