import { isWithdrawal, type EnrollmentRecord } from '../mapping/enrollment.js';
import type { LearnerMatch } from '../mapping/learnerRef.js';
import { activityFingerprint, externalActivityId, toActivityDraft } from '../mapping/toActivity.js';
import type { LedgerEntry } from '../state/types.js';
import type { WorkItem } from './types.js';

export interface PlanInput {
  readonly records: readonly EnrollmentRecord[];
  /** Ledger entries by external id, for the records' activities. */
  readonly ledger: ReadonlyMap<string, LedgerEntry>;
  /** The ledger knows every activity this connector ever created (see CursorRecord.ledgerComplete). */
  readonly ledgerComplete: boolean;
  readonly learnerMatch: LearnerMatch;
}

export interface PlanRejection {
  readonly record: EnrollmentRecord;
  readonly reason: string;
}

export interface Plan {
  readonly items: readonly WorkItem[];
  readonly unchanged: readonly EnrollmentRecord[];
  /** Valid in the canonical format, but not mappable with these settings (e.g. no UPN under LEARNER_MATCH=userPrincipalName). */
  readonly rejected: readonly PlanRejection[];
}

/**
 * Decides, without I/O, what each record needs: nothing, a create, a patch, or a delete.
 * When several records of one page name the same enrollment, the latest wins.
 */
export function planChanges(input: PlanInput): Plan {
  const latest = new Map<string, EnrollmentRecord>();
  for (const record of input.records) {
    const previous = latest.get(record.enrollmentId);
    if (previous === undefined || previous.updatedAt <= record.updatedAt) latest.set(record.enrollmentId, record);
  }
  const items: WorkItem[] = [];
  const unchanged: EnrollmentRecord[] = [];
  const rejected: PlanRejection[] = [];
  for (const record of latest.values()) {
    const externalId = externalActivityId(record.enrollmentId);
    const entry = input.ledger.get(externalId);
    const base = { version: 1 as const, externalId, enrollmentId: record.enrollmentId, sourceUpdatedAt: record.updatedAt };
    if (isWithdrawal(record)) {
      if (entry !== undefined && settledStatus(entry) === 'deleted') unchanged.push(record);
      else if (entry?.state === 'synced' && entry.vivaId !== undefined) items.push({ ...base, kind: 'delete', vivaId: entry.vivaId, lookupFirst: false });
      else if (entry === undefined && input.ledgerComplete) unchanged.push(record);
      else items.push({ ...base, kind: 'delete', vivaId: undefined, lookupFirst: true });
      continue;
    }
    const mapped = toActivityDraft(record, input.learnerMatch);
    if (!mapped.ok) {
      rejected.push({ record, reason: mapped.reason });
      continue;
    }
    const fingerprint = activityFingerprint(mapped.draft);
    if (entry?.state === 'synced' && entry.vivaId !== undefined) {
      if (settledStatus(entry) === `synced:${fingerprint}`) unchanged.push(record);
      else items.push({ ...base, kind: 'update', draft: mapped.draft, fingerprint, vivaId: entry.vivaId });
      continue;
    }
    // No row: never attempted, unless the ledger is younger than the provider's data.
    // 'pending': a create may have reached Graph before the run stopped.
    // 'deleted': this connector deleted it, so nothing exists to find.
    const lookupFirst = entry === undefined ? !input.ledgerComplete : entry.state !== 'deleted';
    items.push({ ...base, kind: 'create', draft: mapped.draft, fingerprint, lookupFirst });
  }
  return { items, unchanged, rejected };
}

/**
 * A ledger row's settled status: `synced:<fingerprint>` for a written activity, `deleted` for
 * one this connector deleted, undefined for anything that still needs a look (pending, no id).
 */
export function settledStatus(entry: Pick<LedgerEntry, 'state' | 'vivaId' | 'fingerprint'>): string | undefined {
  if (entry.state === 'deleted') return 'deleted';
  if (entry.state === 'synced' && entry.vivaId !== undefined && entry.fingerprint !== undefined) return `synced:${entry.fingerprint}`;
  return undefined;
}

/**
 * The settled status under which `planChanges` leaves this record unchanged; undefined when the
 * record cannot be mapped (it is planned, and rejected, the usual way).
 */
export function wantedStatus(record: EnrollmentRecord, learnerMatch: LearnerMatch): string | undefined {
  if (isWithdrawal(record)) return 'deleted';
  const mapped = toActivityDraft(record, learnerMatch);
  return mapped.ok ? `synced:${activityFingerprint(mapped.draft)}` : undefined;
}
