/**
 * The parts of the operator's status report (src/sync/status.ts) that the status page adds:
 * dead letters grouped by reason with samples, Graph traffic, the work queue. Plain data: the
 * JSON answer of GET /api/status carries them as they are, and the HTML page is rendered from
 * that same report by a pure function (renderStatusPage.ts). Identifiers only, never secrets.
 */

/** How many runs the report carries and the chart shows. */
export const CHART_RUNS = 50;

export interface GraphTraffic {
  /** Graph requests sent (each request inside a $batch counts as one). */
  readonly requests: number;
  readonly retries: number;
  /** 429 and 503 answers. */
  readonly throttled: number;
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

export interface QueueView {
  readonly mode: 'inline' | 'queue';
  /** Approximate messages waiting in the work queue and its poison queue (queue mode only). */
  readonly depth: number | null;
  readonly poisonDepth: number | null;
  /** Planned pages whose work batches are not all done yet. */
  readonly outstandingPages: number | null;
}
