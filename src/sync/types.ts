import type { ActivityDraft } from '../mapping/toActivity.js';
import type { RunCounts, RunStatus } from '../state/types.js';
import type { CatalogSummary } from './catalog/catalogPass.js';

/**
 * A planned write, as plain versioned JSON (STYLE.md §11): the planner emits it, the writer
 * consumes it, and a queue message can carry it unchanged.
 */
export type WorkItem =
  | {
      readonly version: 1;
      readonly kind: 'create';
      readonly externalId: string;
      readonly enrollmentId: string;
      readonly sourceUpdatedAt: string;
      readonly draft: ActivityDraft;
      readonly fingerprint: string;
      /** The activity may already exist (an earlier run stopped mid-write): look it up first. */
      readonly lookupFirst: boolean;
    }
  | {
      readonly version: 1;
      readonly kind: 'update';
      readonly externalId: string;
      readonly enrollmentId: string;
      readonly sourceUpdatedAt: string;
      readonly draft: ActivityDraft;
      readonly fingerprint: string;
      readonly vivaId: string;
    }
  | {
      readonly version: 1;
      readonly kind: 'delete';
      readonly externalId: string;
      readonly enrollmentId: string;
      readonly sourceUpdatedAt: string;
      readonly vivaId: string | undefined;
      readonly lookupFirst: boolean;
    };

export type FinalRunStatus = Exclude<RunStatus, 'running' | 'abandoned'>;

/** The run summary: the JSON line of `viva-sync sync --json` (DESIGN.md, "The command line"). */
export interface RunSummary {
  readonly runId: string;
  readonly status: FinalRunStatus;
  readonly counts: RunCounts;
  readonly cursor: { readonly before: string | null; readonly after: string | null };
  readonly durationMs: number;
  readonly dryRun: boolean;
  /** Why the run stopped early or failed, when it did. */
  readonly message?: string;
  readonly graph?: { readonly requests: number; readonly retries: number; readonly throttled: number };
  /** Planned Graph calls, for `--dry-run`. */
  readonly plannedCalls?: readonly PlannedCall[];
  /** The catalog pass (SYNC_CATALOG=all), when the adapter lists courses: content created, updated, retired… and capacity. */
  readonly catalog?: CatalogSummary;
}

export interface PlannedCall {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly operation: string;
  readonly target: string;
  readonly body?: unknown;
}

export function emptyCounts(): RunCounts {
  return { read: 0, created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
}
