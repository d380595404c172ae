import type { EnrollmentRecord } from '../mapping/enrollment.js';

/** Every async call takes a final options bag that extends this (Azure SDK style). */
export interface OperationOptions {
  readonly abortSignal?: AbortSignal;
}

/**
 * One item read from the LMS: a record in the canonical format, or a record that could
 * not be read or failed validation. Invalid items are not thrown: the engine dead-letters
 * them with `reason` and goes on.
 */
export type SourceItem =
  | {
      readonly kind: 'record';
      readonly record: EnrollmentRecord;
      /** Where the record came from, for dead letters and logs: "examples/a.csv line 12". */
      readonly position: string;
    }
  | {
      readonly kind: 'invalid';
      /** Stable identity of the bad record: its enrollmentId when it has one, else a hash of its text. */
      readonly key: string;
      readonly reason: string;
      readonly position: string;
      /** The record's text as read (truncated by the dead-letter store if huge). */
      readonly raw: string;
      readonly enrollmentId?: string;
      readonly updatedAt?: string;
    };

export interface ChangePage {
  readonly items: readonly SourceItem[];
  /**
   * The cursor value that is safe to store once every item of this page (and of every
   * earlier page) has been written or dead-lettered. Opaque to the engine.
   */
  readonly cursor: string | undefined;
  /** Resumes the listing after this page (base64 JSON); undefined on the last page. */
  readonly continuationToken: string | undefined;
}

export interface ListChangesOptions extends OperationOptions {
  /** The stored cursor; undefined reads everything (first run, or `--full`). */
  readonly cursor?: string;
}

export interface PageSettings {
  readonly continuationToken?: string;
  readonly maxPageSize?: number;
}

/** Paged async iterator, shaped like the Azure SDK's `PagedAsyncIterableIterator`. */
export interface PagedChanges extends AsyncIterableIterator<SourceItem> {
  byPage(settings?: PageSettings): AsyncIterableIterator<ChangePage>;
}

/**
 * An LMS adapter only reads (STYLE.md §8): it never retries, saves, checkpoints or fans
 * out. It yields changed records oldest change first, a page at a time.
 */
export interface LmsAdapter {
  readonly name: string;
  listChanges(options?: ListChangesOptions): PagedChanges;
  /** The current state of one enrollment, or undefined when the LMS does not know it. */
  getEnrollment(enrollmentId: string, options?: OperationOptions): Promise<SourceItem | undefined>;
}
