/**
 * When an export is complete enough to read (README, "Exports in Blob Storage"): never while
 * an upload is in progress or the blob is still growing; with a marker convention, only once
 * `<name><suffix>` exists. Pure: the source gathers the facts, this decides.
 */
import type { ExportObject } from './types.js';

export interface CompletenessRules {
  /** A blob must be unchanged for this long before it is read (LMS_EXPORT_SETTLE_SECONDS). */
  readonly settleMs: number;
  /** LMS_EXPORT_DONE_SUFFIX: when set, an export is read only once `<name><suffix>` exists. */
  readonly doneSuffix?: string;
}

export interface CompletenessFacts {
  readonly rules: CompletenessRules;
  readonly now: number;
  /** Blocks staged and not committed: an upload or a replacement is in progress. */
  readonly uncommitted: boolean;
  readonly appendBlob: boolean;
  readonly markerExists: boolean;
}

export function incompleteReason(object: ExportObject, facts: CompletenessFacts): string | undefined {
  if (facts.uncommitted) return 'an upload is in progress (uncommitted blocks)';
  if (!facts.markerExists) return `waiting for its marker ${object.name}${facts.rules.doneSuffix ?? ''}`;
  if (object.size === 0) return 'empty (still being created?)';
  // The writer's marker says the export is complete: no need to wait for it to settle.
  if (facts.rules.doneSuffix !== undefined) return undefined;
  const age = facts.now - Date.parse(object.lastModified);
  if (age < facts.rules.settleMs) return `changed ${Math.max(0, Math.round(age / 1000))} s ago; read once unchanged for ${Math.round(facts.rules.settleMs / 1000)} s${facts.appendBlob ? ' (an append blob that may still grow)' : ''}`;
  return undefined;
}
