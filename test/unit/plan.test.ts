import { describe, expect, it } from 'vitest';
import { parseEnrollment, type EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { activityFingerprint, toActivityDraft } from '../../src/mapping/toActivity.js';
import type { LedgerEntry } from '../../src/state/types.js';
import { planChanges } from '../../src/sync/plan.js';

function rec(id: string, patch: Record<string, unknown> = {}): EnrollmentRecord {
  const result = parseEnrollment({
    enrollmentId: id,
    learner: { id: 'u', upn: 'u@x.example' },
    course: { id: 'c', title: 'T', url: 'https://x.example' },
    source: 'assigned',
    assignmentType: 'required',
    status: 'inProgress',
    updatedAt: '2026-01-01T00:00:00Z',
    ...patch,
  });
  if (!result.ok) throw new Error(result.reason);
  return result.enrollment;
}

function fp(r: EnrollmentRecord): string {
  if (r.deleted === true) throw new Error('withdrawal');
  const d = toActivityDraft(r, 'userPrincipalName');
  if (!d.ok) throw new Error(d.reason);
  return activityFingerprint(d.draft);
}

const synced = (r: EnrollmentRecord, patch: Partial<LedgerEntry> = {}): [string, LedgerEntry] => [r.enrollmentId, { externalId: r.enrollmentId, enrollmentId: r.enrollmentId, state: 'synced', vivaId: `v-${r.enrollmentId}`, fingerprint: fp(r), ...patch }];

describe('planChanges', () => {
  it('skips unchanged, patches changed, creates new', () => {
    const a = rec('a');
    const b = rec('b');
    const c = rec('c');
    const plan = planChanges({ records: [a, { ...b, status: 'completed' } as EnrollmentRecord, c], ledger: new Map([synced(a), synced(b)]), ledgerComplete: true, learnerMatch: 'userPrincipalName' });
    expect(plan.unchanged.map((r) => r.enrollmentId)).toEqual(['a']);
    expect(plan.items.map((i) => [i.kind, i.externalId])).toEqual([
      ['update', 'b'],
      ['create', 'c'],
    ]);
    expect(plan.items[1]).toMatchObject({ lookupFirst: false });
  });

  it('looks up before creating when the ledger may not know the activity', () => {
    const a = rec('a');
    expect(planChanges({ records: [a], ledger: new Map(), ledgerComplete: false, learnerMatch: 'userPrincipalName' }).items[0]).toMatchObject({ kind: 'create', lookupFirst: true });
    const pending = new Map<string, LedgerEntry>([['a', { externalId: 'a', enrollmentId: 'a', state: 'pending' }]]);
    expect(planChanges({ records: [a], ledger: pending, ledgerComplete: true, learnerMatch: 'userPrincipalName' }).items[0]).toMatchObject({ kind: 'create', lookupFirst: true });
  });

  it('deletes withdrawals it knows, looks up ones it may not, and ignores ones it never created', () => {
    const w = rec('a', { deleted: true });
    expect(planChanges({ records: [w], ledger: new Map([synced(rec('a'))]), ledgerComplete: true, learnerMatch: 'userPrincipalName' }).items[0]).toMatchObject({ kind: 'delete', vivaId: 'v-a', lookupFirst: false });
    expect(planChanges({ records: [w], ledger: new Map(), ledgerComplete: false, learnerMatch: 'userPrincipalName' }).items[0]).toMatchObject({ kind: 'delete', vivaId: undefined, lookupFirst: true });
    expect(planChanges({ records: [w], ledger: new Map(), ledgerComplete: true, learnerMatch: 'userPrincipalName' }).unchanged).toHaveLength(1);
    const deleted = new Map<string, LedgerEntry>([['a', { externalId: 'a', enrollmentId: 'a', state: 'deleted' }]]);
    expect(planChanges({ records: [w], ledger: deleted, ledgerComplete: false, learnerMatch: 'userPrincipalName' }).items).toHaveLength(0);
  });

  it('keeps the latest of several records for one enrollment', () => {
    const older = rec('a', { status: 'notStarted', updatedAt: '2026-01-01T00:00:00Z' });
    const newer = rec('a', { status: 'completed', updatedAt: '2026-01-02T00:00:00Z' });
    const plan = planChanges({ records: [newer, older], ledger: new Map(), ledgerComplete: true, learnerMatch: 'userPrincipalName' });
    expect(plan.items).toHaveLength(1);
    expect(plan.items[0]?.kind === 'create' && plan.items[0].draft.fields.status).toBe('completed');
  });

  it('rejects records the learner match cannot resolve', () => {
    const plan = planChanges({ records: [rec('a')], ledger: new Map(), ledgerComplete: true, learnerMatch: 'employeeId' });
    expect(plan.rejected[0]?.reason).toContain('employeeId');
  });
});
