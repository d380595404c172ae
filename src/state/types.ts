/**
 * What the engine needs from durable state. Implemented on Azure Table Storage by the
 * stores in this folder, and by a recording stand-in for `--dry-run`.
 */

export interface StateOperationOptions {
  readonly abortSignal?: AbortSignal;
}

/** The sync cursor: one small versioned record, written with its ETag (STYLE.md §10). */
export interface CursorRecord {
  readonly version: 1;
  /** Adapter-specific opaque cursor; undefined before the first completed page. */
  readonly value: string | undefined;
  /**
   * True once a pass that started from nothing reached the end of the source: from then on
   * the ledger knows every activity this connector created, so a record the ledger has
   * never seen can be created without first asking Graph whether it exists.
   */
  readonly ledgerComplete: boolean;
  /**
   * The ledger epoch (src/state/providerDecisionStore.ts) that `ledgerComplete` vouches for: a
   * ledger table lost or replaced since has another epoch or none, and the claim lapses.
   * Undefined in cursors saved before the epoch was recorded with them.
   */
  readonly ledgerEpoch?: string | undefined;
  readonly runId: string | undefined;
  readonly savedAt: string | undefined;
  /** ETag of the stored entity; undefined when none is stored yet. */
  readonly etag: string | undefined;
}

export type CursorUpdate = Pick<CursorRecord, 'value' | 'ledgerComplete' | 'ledgerEpoch' | 'runId'>;

/** Thrown when the cursor changed since it was read: another run advanced it. */
export class CursorConflictError extends Error {
  override readonly name = 'CursorConflictError';
  constructor() {
    super('The sync cursor was changed by another run since this run read it.');
  }
}

export interface CursorStore {
  get(options?: StateOperationOptions): Promise<CursorRecord>;
  /** Saves when `expectedEtag` still matches (undefined: only if none exists); returns the new ETag. */
  save(update: CursorUpdate, expectedEtag: string | undefined, options?: StateOperationOptions): Promise<string>;
}

/**
 * `pending`: a create was about to be sent and its outcome is unknown (look up before
 * creating again). `synced`: Graph holds the body whose fingerprint is recorded.
 * `deleted`: the activity was deleted (or never existed) for a withdrawal.
 */
export type LedgerState = 'pending' | 'synced' | 'deleted';

export interface LedgerEntry {
  /** The activity's externalCourseActivityId (derived from the enrollment id). */
  readonly externalId: string;
  readonly enrollmentId: string;
  readonly state: LedgerState;
  /** Viva Learning's id of the activity; opaque, may contain ':'. */
  readonly vivaId?: string;
  /** Fingerprint of the activity body last written. */
  readonly fingerprint?: string;
  readonly contentExternalId?: string;
  readonly learnerObjectId?: string;
  /** The source record's updatedAt last handled. */
  readonly sourceUpdatedAt?: string;
  readonly updatedAt?: string;
}

export interface LedgerStore {
  /** Batched read of the entries for these external ids (no full scan); missing ids are absent. */
  getMany(externalIds: readonly string[], options?: StateOperationOptions): Promise<Map<string, LedgerEntry>>;
  /** Writes entries as same-partition transactions of at most 100 operations (Replace). */
  putMany(entries: readonly LedgerEntry[], options?: StateOperationOptions): Promise<void>;
  /** Every entry, paged under the hood; for `status`, `--full` reconciliation and tests. */
  list(options?: StateOperationOptions): AsyncIterable<LedgerEntry>;
  /** Every row with only what decides "unchanged": the start of a full pass (src/sync/ledgerSnapshot.ts). */
  listStatus(options?: StateOperationOptions): AsyncIterable<LedgerStatusRow>;
}

export type LedgerStatusRow = Pick<LedgerEntry, 'externalId' | 'state' | 'vivaId' | 'fingerprint'>;

export interface ContentEntry {
  readonly externalId: string;
  readonly vivaId: string;
  readonly fingerprint: string;
  readonly updatedAt?: string;
  /**
   * `catalog`: written by the catalog pass, which then owns the content's metadata and active
   * state (the enrollment pass only reads its id). Absent: written from an enrollment record.
   */
  readonly origin?: 'catalog';
  /** The isActive last written; absent means true. */
  readonly active?: boolean;
  /** The body last written (JSON), kept for catalog content so that a retirement resends it with isActive false. */
  readonly body?: string;
}

/** What the catalog pass reads of every content row at its start (no bodies). */
export type ContentStatusRow = Omit<ContentEntry, 'body'>;

export interface ContentStore {
  getMany(externalIds: readonly string[], options?: StateOperationOptions): Promise<Map<string, ContentEntry>>;
  put(entry: ContentEntry, options?: StateOperationOptions): Promise<void>;
  /** Writes entries as same-partition transactions (Replace): the catalog pass, a page at a time. */
  putMany(entries: readonly ContentEntry[], options?: StateOperationOptions): Promise<void>;
  /** Every row without its body, paged under the hood: the catalog pass's start, and capacity counts. */
  listStatus(options?: StateOperationOptions): AsyncIterable<ContentStatusRow>;
}

/** A learner lookup result: the Entra object id, or a remembered miss. */
export type LearnerCacheEntry =
  | { readonly kind: 'found'; readonly objectId: string; readonly resolvedAt: string }
  | { readonly kind: 'notFound'; readonly resolvedAt: string };

export interface LearnerCache {
  /** `matchKey` is e.g. "userPrincipalName:ada@contoso.com". Entries older than `maxAgeMs` are ignored. */
  get(matchKey: string, maxAgeMs: number, options?: StateOperationOptions): Promise<LearnerCacheEntry | undefined>;
  put(matchKey: string, entry: LearnerCacheEntry, options?: StateOperationOptions): Promise<void>;
}

export type DeadLetterKind =
  /** The record breaks the canonical format: retried only when the record itself changes. */
  | 'invalid'
  /** Graph or a lookup refused it (400, 403, unknown learner, retries exhausted): retried on later runs. */
  | 'write';

export interface DeadLetter {
  /** Stable key: the activity external id, or "line:<hash>" for an unreadable record. */
  readonly key: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  /** Graph's error code and status when Graph refused it. */
  readonly code?: string;
  readonly statusCode?: number;
  readonly enrollmentId?: string;
  readonly position?: string;
  /** The record as JSON (canonical form when valid, raw text otherwise), truncated to fit. */
  readonly record: string;
  /** Fingerprint of `record`, to tell a changed record from the same one again. */
  readonly recordFingerprint: string;
  readonly attempts: number;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  /** Whether later runs should retry it automatically. */
  readonly retryable: boolean;
}

export type DeadLetterBrief = Omit<DeadLetter, 'record' | 'recordFingerprint'>;

export interface DeadLetterStore {
  get(key: string, options?: StateOperationOptions): Promise<DeadLetter | undefined>;
  put(letter: DeadLetter, options?: StateOperationOptions): Promise<void>;
  delete(key: string, options?: StateOperationOptions): Promise<void>;
  /** Which of these keys have a dead letter (batched keyed queries, not a scan). */
  existing(keys: readonly string[], options?: StateOperationOptions): Promise<Set<string>>;
  list(options?: StateOperationOptions & { readonly retryableOnly?: boolean }): AsyncIterable<DeadLetter>;
  /** Every letter without its record (the bulk of the entity): for overviews of many letters. */
  listBrief(options?: StateOperationOptions): AsyncIterable<DeadLetterBrief>;
  count(options?: StateOperationOptions): Promise<number>;
}

/**
 * `abandoned` is never written by a run: it is how a `running` row is shown once no live run
 * lease is held for it (its process died), see src/sync/runStatus.ts.
 */
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'abandoned';

export interface RunCounts {
  read: number;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly trigger: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly counts: RunCounts;
  readonly cursorBefore?: string;
  readonly cursorAfter?: string;
  readonly message?: string;
  /** Graph traffic of the run (absent in runs recorded before it was kept, and in dry runs). */
  readonly graph?: { readonly requests: number; readonly retries: number; readonly throttled: number };
}

export interface RunHistory {
  put(run: RunRecord, options?: StateOperationOptions): Promise<void>;
  get(runId: string, options?: StateOperationOptions): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRecent(limit: number, options?: StateOperationOptions): Promise<RunRecord[]>;
}

export interface Lease {
  readonly owner: string;
  readonly expiresAt: string;
  /** Who holds it, for people: the trigger, host and process id. */
  readonly holder?: string;
  /** Extends the lease; throws LeaseLostError if another owner took it. */
  renew(options?: StateOperationOptions): Promise<void>;
  release(options?: StateOperationOptions): Promise<void>;
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(owner: string) {
    super(`The run lease held by ${owner} was taken by another run.`);
  }
}

export interface LeaseHolder {
  readonly owner: string;
  readonly expiresAt: string;
  readonly holder?: string;
}

export interface RunLease {
  /** Takes the lease if it is free or expired; undefined when another live run holds it. */
  tryAcquire(owner: string, ttlMs: number, options?: StateOperationOptions & { readonly holder?: string }): Promise<Lease | undefined>;
  /** Who holds it now, if anyone (for status output). */
  current(options?: StateOperationOptions): Promise<LeaseHolder | undefined>;
}

/** Everything durable, as one bundle the engine receives. */
export interface SyncState {
  readonly cursor: CursorStore;
  readonly ledger: LedgerStore;
  readonly contents: ContentStore;
  readonly learners: LearnerCache;
  readonly deadLetters: DeadLetterStore;
  readonly runs: RunHistory;
  readonly lease: RunLease;
}
