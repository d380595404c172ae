import { describe, expect, it } from 'vitest';
import { externalActivityId } from '../../src/mapping/toActivity.js';
import type { EnrollmentRecord } from '../../src/mapping/enrollment.js';
import type { LedgerEntry, LedgerStatusRow, LedgerStore } from '../../src/state/types.js';
import { LedgerSnapshot } from '../../src/sync/ledgerSnapshot.js';
import { planChanges, wantedStatus } from '../../src/sync/plan.js';
import { activityFingerprint, toActivityDraft } from '../../src/mapping/toActivity.js';
import { anEnrollment, aSelfInitiatedEnrollment, aWithdrawal } from '../support/builders.js';

function storeOf(rows: readonly LedgerStatusRow[]): LedgerStore {
  return {
    getMany: () => Promise.reject(new Error('not used')),
    putMany: () => Promise.reject(new Error('not used')),
    list: () => ({ [Symbol.asyncIterator]: () => { throw new Error('not used'); } }),
    listStatus: async function* () {
      yield* rows;
    },
  };
}

function syncedRow(record: EnrollmentRecord, vivaId = 'viva-1'): LedgerEntry {
  const mapped = record.deleted === true ? undefined : toActivityDraft(record, 'userPrincipalName');
  if (mapped === undefined || !mapped.ok) throw new Error('test record must map');
  return { externalId: externalActivityId(record.enrollmentId), enrollmentId: record.enrollmentId, state: 'synced', vivaId, fingerprint: activityFingerprint(mapped.draft) };
}

describe('LedgerSnapshot', () => {
  it('holds settled rows only, and stops vouching for a row once it is forgotten', async () => {
    const same = anEnrollment({ enrollmentId: 'same' });
    const changed = anEnrollment({ enrollmentId: 'changed' });
    const pending: LedgerStatusRow = { externalId: 'pending', state: 'pending' };
    const noVivaId: LedgerStatusRow = { externalId: 'no-id', state: 'synced', fingerprint: 'x' };
    const gone: LedgerStatusRow = { externalId: 'gone', state: 'deleted' };
    const snapshot = await LedgerSnapshot.load(storeOf([syncedRow(same), syncedRow(changed), pending, noVivaId, gone]));

    expect(snapshot.holds('same', wantedStatus(same, 'userPrincipalName'))).toBe(true);
    expect(snapshot.holds('changed', wantedStatus({ ...changed, progressPercent: 99 }, 'userPrincipalName'))).toBe(false);
    expect(snapshot.holds('pending', wantedStatus(anEnrollment({ enrollmentId: 'pending' }), 'userPrincipalName'))).toBe(false);
    expect(snapshot.holds('no-id', 'synced:x')).toBe(false);
    expect(snapshot.holds('gone', wantedStatus(aWithdrawal({ enrollmentId: 'gone' }), 'userPrincipalName'))).toBe(true);
    expect(snapshot.holds('never-seen', 'deleted')).toBe(false);
    expect(snapshot.holds('same', undefined)).toBe(false);

    snapshot.forget('same');
    expect(snapshot.holds('same', wantedStatus(same, 'userPrincipalName'))).toBe(false);
    snapshot.forget('never-seen');
    expect(snapshot.holds('gone', 'deleted')).toBe(true);
  });

  it('keeps every row as it grows far past its first capacity', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i): LedgerStatusRow => ({ externalId: `enr-${i}`, state: 'synced', vivaId: `v${i}`, fingerprint: `fp-${i % 97}` }));
    const snapshot = await LedgerSnapshot.load(storeOf(rows));
    expect(snapshot.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 7) {
      expect(snapshot.holds(`enr-${i}`, `synced:fp-${i % 97}`)).toBe(true);
      expect(snapshot.holds(`enr-${i}`, `synced:fp-${(i + 1) % 97}`)).toBe(false);
    }
  });

  it('vouches for a record only where planChanges would leave it unchanged', async () => {
    const records: EnrollmentRecord[] = [
      anEnrollment({ enrollmentId: 'a' }),
      aSelfInitiatedEnrollment({ enrollmentId: 'b', status: 'completed', progressPercent: 100 }),
      aWithdrawal({ enrollmentId: 'c' }),
      aWithdrawal({ enrollmentId: 'd' }),
      anEnrollment({ enrollmentId: 'e', learner: { id: 'x', upn: undefined, email: undefined } }),
    ];
    const stored = [syncedRow(anEnrollment({ enrollmentId: 'a' })), syncedRow(anEnrollment({ enrollmentId: 'b' })), { externalId: 'c', enrollmentId: 'c', state: 'deleted' as const }, syncedRow(anEnrollment({ enrollmentId: 'd' }))];
    const snapshot = await LedgerSnapshot.load(storeOf(stored));
    const plan = planChanges({ records, ledger: new Map(stored.map((e) => [e.externalId, e])), ledgerComplete: true, learnerMatch: 'userPrincipalName' });
    const vouched = records.filter((r) => snapshot.holds(externalActivityId(r.enrollmentId), wantedStatus(r, 'userPrincipalName'))).map((r) => r.enrollmentId);
    expect(vouched).toEqual(['a', 'c']);
    expect(plan.unchanged.map((r) => r.enrollmentId)).toEqual(expect.arrayContaining(vouched));
  });
});
