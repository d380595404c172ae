import type { CatalogCourse } from '../mapping/catalogCourse.js';
import type { EnrollmentRecord } from '../mapping/enrollment.js';
import type { ExportPageInfo } from './exportSource/types.js';

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
  /** Exports read from Blob Storage (exportSource/): where this page comes from, for the exports state. */
  readonly export?: ExportPageInfo;
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
  /**
   * True when this listing, read to its end, names every current enrollment of the source (a
   * snapshot export, a full walk): an enrollment the ledger holds that it did not name was
   * withdrawn. Absent or false: the listing holds changes only, and absence means nothing.
   */
  readonly complete?: boolean;
  /**
   * With `complete`: the courses (content external ids) the listing covered, known once it was
   * read to its end; only their enrollments can be withdrawn by absence. Absent: every course.
   */
  readonly coveredCourses?: () => ReadonlySet<string> | undefined;
}

/** One catalog row: a course, or a row that could not be read (dead-lettered with `reason`). */
export type CatalogItem =
  | { readonly kind: 'course'; readonly course: CatalogCourse; readonly position: string }
  | { readonly kind: 'invalid'; readonly key: string; readonly reason: string; readonly position: string; readonly raw: string; readonly id?: string };

export interface CatalogPage {
  readonly items: readonly CatalogItem[];
  /** The catalog cursor that is safe to store once this page is handled. Opaque to the engine. */
  readonly cursor: string | undefined;
  readonly continuationToken: string | undefined;
}

export interface ListCatalogOptions extends OperationOptions {
  /** The stored catalog cursor (its own, not the enrollments'); undefined lists everything. */
  readonly cursor?: string;
}

export interface PagedCatalog extends AsyncIterableIterator<CatalogItem> {
  byPage(settings?: PageSettings): AsyncIterableIterator<CatalogPage>;
  /**
   * True when this listing, read to its end, names every course of the catalog: a course the
   * connector once listed that it does not name is retired. False for a listing of changes.
   */
  readonly complete: boolean;
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
  /** The course catalog, for adapters whose LMS can list courses (SYNC_CATALOG=all). */
  listCatalog?(options?: ListCatalogOptions): PagedCatalog;
}

