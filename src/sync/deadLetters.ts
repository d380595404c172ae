import { fingerprint } from '../mapping/fingerprint.js';
import type { DeadLetter, DeadLetterKind, DeadLetterStore } from '../state/types.js';

/** After this many failed attempts across runs, a write dead letter waits for an operator. */
export const MAX_WRITE_ATTEMPTS = 5;

export interface FailureReport {
  readonly key: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  readonly record: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly enrollmentId?: string;
  readonly position?: string;
}

/**
 * Records a failure. Returns false when the same invalid record was already recorded (so a
 * bad line that stays in the export does not count as a new failure on every run).
 */
export async function recordFailure(store: DeadLetterStore, report: FailureReport, now: Date, options?: { abortSignal?: AbortSignal }): Promise<boolean> {
  const recordFingerprint = fingerprint(report.record);
  const existing = await store.get(report.key, options);
  if (existing !== undefined && report.kind === 'invalid' && existing.kind === 'invalid' && existing.recordFingerprint === recordFingerprint && existing.reason === report.reason) {
    return false;
  }
  const sameRecord = existing !== undefined && existing.recordFingerprint === recordFingerprint && existing.kind === report.kind;
  const attempts = sameRecord ? existing.attempts + 1 : 1;
  const letter: DeadLetter = {
    key: report.key,
    kind: report.kind,
    reason: report.reason,
    ...(report.code !== undefined ? { code: report.code } : {}),
    ...(report.statusCode !== undefined ? { statusCode: report.statusCode } : {}),
    ...(report.enrollmentId !== undefined ? { enrollmentId: report.enrollmentId } : {}),
    ...(report.position !== undefined ? { position: report.position } : {}),
    record: report.record,
    recordFingerprint,
    attempts,
    firstFailedAt: sameRecord ? existing.firstFailedAt : now.toISOString(),
    lastFailedAt: now.toISOString(),
    retryable: report.kind === 'write' && attempts < MAX_WRITE_ATTEMPTS,
  };
  await store.put(letter, options);
  return true;
}
