import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { tableConnectionOf } from '../../src/state/httpState.js';
import { createTableClient } from '../../src/state/tableClients.js';
import { silentLogger } from '../../src/sync/logger.js';
import { openSync } from '../../src/sync/openSync.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** n enrollments of one learner in one course: every request beyond n is a lookup or a retry. */
function records(n: number, prefix = 'enr'): Enrollment[] {
  return Array.from({ length: n }, (_, i) => anEnrollment({ enrollmentId: `${prefix}-${i}`, updatedAt: `2026-11-01T10:${String(i % 60).padStart(2, '0')}:00.000Z` }));
}

function activityLookups(h: SyncHarness): number {
  return h.standIn.requests().filter((r) => r.method === 'GET' && r.path.includes('externalCourseActivityId=')).length;
}

function duplicated(h: SyncHarness): number {
  return [...h.activitiesByExternalId().values()].filter((list) => list.length > 1).length;
}

/** Deletes these tables of the harness (the state store lost, or the ledger table alone). */
async function deleteTables(h: SyncHarness, suffixes: readonly string[]): Promise<void> {
  const config = loadConfig(h.env, { cwd: h.dir });
  for (const suffix of suffixes) await createTableClient(tableConnectionOf(config.storage), `${config.tablePrefix}${suffix}`).deleteTable();
}

/** A new runner, as a new process would open it (tables created again when missing). */
function reopen(h: SyncHarness): ReturnType<typeof openSync> {
  return openSync(loadConfig(h.env, { cwd: h.dir }), { logger: silentLogger, cwd: h.dir });
}

const ALL_TABLES = ['Cursor', 'Ledger', 'Contents', 'Learners', 'DeadLetters', 'Runs', 'Lease', 'Quarantine'];

describe('lookups before create only where a duplicate is possible', () => {
  it('a provider marked new costs one request per created activity (plus one content upsert and two user lookups)', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport(records(40));
    const marked = await h.cli(['provider', 'mark-new', '--json']);
    expect(marked.code).toBe(0);
    expect(JSON.parse(marked.stdout)).toMatchObject({ providerId: h.tenant.provider.id, decidedBy: 'provider mark-new' });

    const summary = await h.run();
    expect(summary.counts).toMatchObject({ created: 40, failed: 0 });
    expect(activityLookups(h)).toBe(0);
    // 40 POSTs, 1 content PATCH, 2 user lookups (the learner and the assigner).
    expect(h.standIn.requests().filter((r) => r.method === 'POST')).toHaveLength(40);
    expect(h.standIn.stats().total).toBe(43);
    // The epoch row shares the ledger table but is not a ledger row (withdrawals by absence list the ledger).
    const listed = [];
    for await (const entry of (await h.state()).ledger.list()) listed.push(entry.externalId);
    expect(listed).toHaveLength(40);
  });

  it('without the decision, the first sync looks each activity up (2 requests per record)', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport(records(20));
    await h.run();
    expect(activityLookups(h)).toBe(20);
  });

  it('state tables deleted after a sync: the next run looks up again and duplicates nothing', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport(records(30));
    await h.cli(['provider', 'mark-new']);
    await h.run();
    expect(activityLookups(h)).toBe(0);

    await deleteTables(h, ALL_TABLES);
    h.standIn.resetStats();
    const again = await (await reopen(h)).run();
    expect(again.status).toBe('succeeded');
    expect(activityLookups(h)).toBe(30);
    expect(duplicated(h)).toBe(0);
    expect(h.standIn.activities()).toHaveLength(30);
  });

  it('the ledger table alone replaced: the recorded decision no longer applies (its epoch is gone)', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const batch = records(10, 'hook');
    const later = records(5, 'later');
    h.writeExport([...batch, ...later]);
    await h.cli(['provider', 'mark-new']);
    // The single-record path (webhooks) never marks the ledger complete: only the decision can skip lookups.
    const first = await (await reopen(h)).runRecords(batch);
    expect(first.counts.created).toBe(10);
    expect(activityLookups(h)).toBe(0);

    await deleteTables(h, ['Ledger']);
    h.standIn.resetStats();
    const again = await (await reopen(h)).runRecords(batch);
    expect(again.status).toBe('succeeded');
    expect(activityLookups(h)).toBe(10);
    expect(duplicated(h)).toBe(0);

    // Marked again for the new ledger: lookups are skipped for records it has never seen.
    await h.cli(['provider', 'mark-new']);
    h.standIn.resetStats();
    await (await reopen(h)).runRecords(later);
    expect(activityLookups(h)).toBe(0);
  });

  it('the ledger table alone lost after a completed first pass: the cursor no longer vouches for it, and nothing is duplicated', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const first = records(10, 'first');
    h.writeExport(first);
    // No decision: the pass from nothing looks up, then marks the ledger complete for its epoch.
    await h.run();
    expect((await (await h.state()).cursor.get()).ledgerComplete).toBe(true);

    // Records the connector created but the LMS changes after the ledger was lost (the cursor survived).
    await deleteTables(h, ['Ledger']);
    const changed = first.map((r) => ({ ...r, updatedAt: '2026-11-20T10:00:00.000Z', status: 'completed' as const, progressPercent: 100, completedAt: '2026-11-20T10:00:00.000Z' }));
    h.writeExport([...first, ...changed, ...records(3, 'new')]);
    h.standIn.resetStats();
    const again = await (await reopen(h)).run();
    expect(again.status).toBe('succeeded');
    expect(activityLookups(h)).toBe(13);
    expect(duplicated(h)).toBe(0);
    expect(h.standIn.activities()).toHaveLength(13);
    // The claim lapsed with the ledger: it is not saved again by an incremental pass.
    expect((await (await h.state()).cursor.get()).ledgerComplete).toBe(false);
  });

  it('a cursor saved complete before epochs were recorded with it still vouches for a ledger that holds rows', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport(records(5, 'old'));
    await h.run();
    const state = await h.state();
    const cursor = await state.cursor.get();
    // As an earlier version saved it: complete, no epoch.
    await state.cursor.save({ value: cursor.value, ledgerComplete: true, runId: 'old-version' }, cursor.etag);
    h.writeExport([...records(5, 'old'), ...records(4, 'fresh').map((r) => ({ ...r, updatedAt: '2026-11-02T10:00:00.000Z' }))]);
    h.standIn.resetStats();
    await (await reopen(h)).run();
    expect(activityLookups(h)).toBe(0);
    expect((await (await h.state()).cursor.get()).ledgerEpoch).toEqual(expect.any(String));
  });

  it('unmark-new brings the lookups back', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    await h.cli(['provider', 'mark-new']);
    expect((await h.cli(['provider', 'unmark-new', '--json'])).stdout).toContain('"withdrawn":true');
    h.writeExport(records(5));
    await h.run();
    expect(activityLookups(h)).toBe(5);
  });
});
