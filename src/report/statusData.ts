/**
 * What the operator's status page shows (GET /api/status, `viva-sync report`), as plain data:
 * the JSON answer to `Accept: application/json` is this object as it is, and the HTML page is
 * rendered from it by a pure function (renderStatusPage.ts). Identifiers only, never secrets.
 */
import type { RunCounts, RunStatus } from '../state/types.js';

/** Bumped when a field changes meaning; fields are only ever added. */
export const STATUS_DATA_VERSION = 1;

/** How many runs the chart shows. */
export const CHART_RUNS = 50;

export type Verdict = 'ok' | 'degraded' | 'failing';

export interface GraphTraffic {
  /** Graph requests sent (each request inside a $batch counts as one). */
  readonly requests: number;
  readonly retries: number;
  /** 429 and 503 answers. */
  readonly throttled: number;
}

export interface RunView {
  readonly runId: string;
  readonly trigger: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly counts: RunCounts;
  /** Absent for runs recorded before Graph traffic was kept in the run history. */
  readonly graph: GraphTraffic | null;
  readonly message: string | null;
}

export interface DeadLetterSample {
  readonly key: string;
  readonly enrollmentId: string | null;
  /** The LMS user id from the record, when the record could be read. */
  readonly learner: string | null;
  readonly course: string | null;
  readonly position: string | null;
}

export interface DeadLetterGroup {
  /** The reason with its particulars (ids, addresses, numbers) replaced by `…`: what the letters share. */
  readonly reason: string;
  readonly kind: 'invalid' | 'write';
  /** Graph's error code and HTTP status, when Graph refused the writes. */
  readonly code: string | null;
  readonly statusCode: number | null;
  readonly count: number;
  /** Letters the next runs retry by themselves. */
  readonly retryable: number;
  readonly oldestFailedAt: string;
  readonly samples: readonly DeadLetterSample[];
}

export interface DeadLetterOverview {
  /** Letters counted; equals the total unless the scan stopped at its cap (`complete: false`). */
  readonly scanned: number;
  readonly complete: boolean;
  readonly oldestFailedAt: string | null;
  /** The largest groups first, at most a few dozen; `otherGroups` letters are in groups not shown. */
  readonly groups: readonly DeadLetterGroup[];
  readonly otherGroups: { readonly groups: number; readonly count: number };
  readonly retryCommand: string;
  readonly listCommand: string;
}

export interface QuarantineView {
  readonly active: boolean;
  readonly trigger: string | null;
  readonly reason: string | null;
  readonly since: string | null;
  readonly runId: string | null;
  readonly counts: { readonly attempted: number; readonly failed: number; readonly deletes: number } | null;
  readonly clearCommand: string;
}

export interface QueueView {
  readonly mode: 'inline' | 'queue';
  /** Approximate messages waiting in the work queue and its poison queue (queue mode only). */
  readonly depth: number | null;
  readonly poisonDepth: number | null;
  readonly outstandingPages: number | null;
}

export interface StatusData {
  readonly version: typeof STATUS_DATA_VERSION;
  readonly generatedAt: string;
  readonly health: { readonly verdict: Verdict; readonly reasons: readonly string[] };
  /** Newest first, at most CHART_RUNS. */
  readonly runs: readonly RunView[];
  /** Graph traffic summed over the runs above that recorded it. */
  readonly graph: GraphTraffic & { readonly runs: number };
  readonly deadLetters: DeadLetterOverview;
  readonly quarantine: QuarantineView | null;
  readonly cursor: { readonly value: string | null; readonly savedAt: string | null; readonly ageSeconds: number | null; readonly ledgerComplete: boolean };
  readonly lease: { readonly holder: string; readonly expiresAt: string } | null;
  readonly queue: QueueView;
  /** Course catalog counts, once the connector syncs a catalog; null until then. */
  readonly catalog: { readonly active: number; readonly retired: number } | null;
}
