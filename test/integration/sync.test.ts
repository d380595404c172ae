import { afterEach, describe, expect, it } from 'vitest';
import type { Enrollment, EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { gatewayFor, schedulerFor } from '../../src/graph/fromConfig.js';
import { createAdapter } from '../../src/lms/createAdapter.js';
import type { LedgerStore } from '../../src/state/types.js';
import { TimeBudget } from '../../src/sync/budget.js';
import { RunInProgressError, runSync } from '../../src/sync/engine.js';
import { silentLogger } from '../../src/sync/logger.js';
import { anEnrollment, aSelfInitiatedEnrollment, aWithdrawal } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** n enrollments over a few learners and courses, assigned and self-initiated, every status. */
function sampleExport(n: number, day = '2026-11-01'): Enrollment[] {
  const statuses = ['notStarted', 'inProgress', 'completed'] as const;
  return Array.from({ length: n }, (_, i) => {
    const learner = { id: `u${i % 7}`, upn: `learner${i % 7}@contoso.example`, email: `learner${i % 7}@contoso.example` };
    const course = { id: `course-${i % 5}`, title: `Course ${i % 5}`, url: `https://lms.example/c/${i % 5}` };
    const updatedAt = `${day}T${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00.000Z`;
    if (i % 4 === 3) return aSelfInitiatedEnrollment({ enrollmentId: `enr-${i}`, learner, course, status: i % 8 === 3 ? 'inProgress' : 'completed', progressPercent: i % 8 === 3 ? 50 : 100, updatedAt });
    const status = statuses[i % 3] ?? 'notStarted';
    return anEnrollment({ enrollmentId: `enr-${i}`, learner, course, status, progressPercent: status === 'completed' ? 100 : status === 'inProgress' ? 30 : 0, updatedAt, ...(status === 'completed' ? { completedAt: updatedAt } : {}) });
  });
}

/** Viva Learning holds exactly one activity per live enrollment, matching its latest record, and none for withdrawals. */
function expectMatches(h: SyncHarness, records: readonly EnrollmentRecord[]): void {
  const latest = new Map<string, EnrollmentRecord>();
  for (const r of records) if ((latest.get(r.enrollmentId)?.updatedAt ?? '') <= r.updatedAt) latest.set(r.enrollmentId, r);
  const actual = h.activitiesByExternalId();
  const live = [...latest.values()].filter((r): r is Enrollment => r.deleted !== true);
  expect(actual.size).toBe(live.length);
  for (const record of live) {
    const found = actual.get(record.enrollmentId) ?? [];
    expect(found, record.enrollmentId).toHaveLength(1);
    const activity = found[0];
    expect(activity?.status).toBe(record.status);
    expect(activity?.learnerUserId).toBe(h.userId(record.learner.upn ?? ''));
    expect(activity?.completionPercentage ?? undefined).toBe(record.progressPercent);
    expect(activity?.['@odata.type']).toBe(record.source === 'assigned' ? '#microsoft.graph.learningAssignment' : '#microsoft.graph.learningSelfInitiatedCourse');
  }
}

describe('sync against the Graph stand-in and Azurite', () => {
  it('first sync creates exactly the export; an unchanged re-sync makes no Graph call', async () => {
    harness = await SyncHarness.create();
    const records = sampleExport(60);
    harness.writeExport(records);
    const first = await harness.run();
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ read: 60, created: 60, updated: 0, deleted: 0, failed: 0 });
    expectMatches(harness, records);
    expect(harness.standIn.contents()).toHaveLength(5);

    harness.standIn.resetStats();
    const again = await harness.run();
    expect(again.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    expect(harness.standIn.stats().total).toBe(0);

    harness.standIn.resetStats();
    const full = await harness.run({ full: true });
    expect(full.counts).toMatchObject({ read: 60, unchanged: 60, created: 0, updated: 0 });
    expect(harness.standIn.stats().writes).toBe(0);
  });

  it('a full pass reads the ledger once, not per page, for what is unchanged', async () => {
    harness = await SyncHarness.create();
    const records = sampleExport(40);
    harness.writeExport([...records, aWithdrawal({ enrollmentId: 'gone-1', updatedAt: '2026-11-03T00:00:00.000Z' })]);
    await harness.run();
    const changed = anEnrollment({ ...(records[5] as Enrollment), progressPercent: 77, status: 'inProgress', updatedAt: '2026-11-04T00:00:00.000Z' });
    harness.writeExport([...records, aWithdrawal({ enrollmentId: 'gone-1', updatedAt: '2026-11-03T00:00:00.000Z' }), changed]);

    const state = await harness.state();
    const asked: string[] = [];
    const ledger: LedgerStore = {
      getMany: (ids, o) => {
        asked.push(...ids);
        return state.ledger.getMany(ids, o);
      },
      putMany: (e, o) => state.ledger.putMany(e, o),
      list: (o) => state.ledger.list(o),
      listStatus: (o) => state.ledger.listStatus(o),
    };
    const config = loadConfig(harness.env, { cwd: harness.dir });
    const gateway = gatewayFor(config, schedulerFor(config.graph));
    const summary = await runSync(
      { adapter: createAdapter(config, harness.dir), gateway, state: { ...state, ledger }, providerId: config.providerId, learnerMatch: config.learnerMatch, logger: silentLogger, budget: new TimeBudget(undefined) },
      { full: true, pageSize: 7 },
    );
    expect(summary.counts).toMatchObject({ read: 42, updated: 1, created: 0, deleted: 0, failed: 0 });
    // Only the changed enrollment needed its row; the unchanged ones and the withdrawal were settled by the snapshot.
    expect(asked).toEqual(['enr-5']);
    expectMatches(harness, [...records, changed]);
  });

  it('an enrollment that changes and changes back within one full pass ends as its latest record', async () => {
    harness = await SyncHarness.create();
    const records = sampleExport(20);
    harness.writeExport(records);
    await harness.run();
    const original = records[3] as Enrollment;
    const changed = anEnrollment({ ...original, progressPercent: 61, status: 'inProgress', updatedAt: '2026-11-04T00:00:00.000Z' });
    const reverted = anEnrollment({ ...original, updatedAt: '2026-11-05T00:00:00.000Z' });
    const all = [...records, changed, reverted];
    harness.writeExport(all);
    // Page size 1: the original, the change and the change back are read in three pages.
    const summary = await harness.run({ full: true, pageSize: 1 });
    expect(summary.counts).toMatchObject({ updated: 2, created: 0, failed: 0 });
    expectMatches(harness, all);
  });

  it('a changed export patches only what changed, and withdrawals delete', async () => {
    harness = await SyncHarness.create();
    const records = sampleExport(30);
    harness.writeExport(records);
    await harness.run();
    harness.standIn.resetStats();

    const changed = [
      anEnrollment({ ...(records[0] as Enrollment), status: 'completed', progressPercent: 100, completedAt: '2026-11-05T10:00:00.000Z', updatedAt: '2026-11-05T10:00:00.000Z' }),
      anEnrollment({ ...(records[1] as Enrollment), progressPercent: 90, updatedAt: '2026-11-05T10:01:00.000Z' }),
    ];
    const withdrawn = aWithdrawal({ enrollmentId: 'enr-2', updatedAt: '2026-11-05T10:02:00.000Z' });
    const all = [...records, ...changed, withdrawn];
    harness.writeExport(all);
    const summary = await harness.run();
    expect(summary.counts).toMatchObject({ updated: 2, deleted: 1, created: 0, failed: 0 });
    const writes = harness.standIn.requests().filter((r) => r.method !== 'GET' && r.status < 300);
    expect(writes.map((w) => w.method).sort()).toEqual(['DELETE', 'PATCH', 'PATCH']);
    expectMatches(harness, all);
  });

  it('records that share an updatedAt across a page boundary, and late arrivals, are not skipped', async () => {
    harness = await SyncHarness.create();
    const same = Array.from({ length: 7 }, (_, i) => anEnrollment({ enrollmentId: `tie-${i}`, updatedAt: '2026-11-02T00:00:00.000Z' }));
    harness.writeExport(same.slice(0, 4));
    await harness.run({ pageSize: 3 });
    // The next export adds more records at the same instant, and one from 10 minutes earlier.
    const late = anEnrollment({ enrollmentId: 'late-1', updatedAt: '2026-11-01T23:50:00.000Z' });
    const all = [...same, late];
    harness.writeExport(all);
    const summary = await harness.run({ pageSize: 3 });
    expect(summary.counts.created).toBe(4);
    expectMatches(harness, all);
  });

  it('dead-letters invalid lines with their line numbers and syncs the rest', async () => {
    harness = await SyncHarness.create();
    const good = sampleExport(5);
    harness.writeExport(good);
    const lines = good.map((r) => JSON.stringify(r));
    lines.splice(2, 0, '{not json', JSON.stringify({ ...good[0], enrollmentId: 'bad-pct', progressPercent: 140 }));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(harness.exportPath, `${lines.join('\n')}\n`);
    const summary = await harness.run();
    expect(summary.counts).toMatchObject({ created: 5, failed: 2 });
    const letters = [];
    for await (const letter of (await harness.state()).deadLetters.list()) letters.push(letter);
    expect(letters.map((l) => l.reason).sort()).toEqual([expect.stringMatching(/^line 3: /), expect.stringMatching(/^line 4: progressPercent 140 is outside 0..100/)].sort());
    // The same bad lines on the next run are not new failures.
    const again = await harness.run();
    expect(again.counts.failed).toBe(0);
  });

  it('an unknown learner becomes a dead letter, retried once the user exists', async () => {
    harness = await SyncHarness.create();
    const records = [anEnrollment({ enrollmentId: 'ok-1' }), anEnrollment({ enrollmentId: 'gone-1', learner: { upn: 'former.employee@contoso.example', email: 'former.employee@contoso.example' } })];
    harness.writeExport(records);
    const first = await harness.run();
    expect(first.counts).toMatchObject({ created: 1, failed: 1 });
    const letter = await (await harness.state()).deadLetters.get('gone-1');
    expect(letter).toMatchObject({ kind: 'write', code: 'learnerNotFound', retryable: true, attempts: 1 });

    harness.standIn.addUser({ id: harness.userId('former.employee@contoso.example'), userPrincipalName: 'former.employee@contoso.example' });
    // The learner cache remembers the miss for an hour; clear it as time passing would.
    const state = await harness.state();
    await state.learners.put('userPrincipalName:former.employee@contoso.example', { kind: 'notFound', resolvedAt: '2000-01-01T00:00:00.000Z' });
    const second = await harness.run();
    expect(second.counts).toMatchObject({ created: 1, failed: 0 });
    expect(await state.deadLetters.get('gone-1')).toBeUndefined();
    expectMatches(harness, records);
  });

  it('Graph refusing the tenant stops the run, says why, and keeps the cursor', async () => {
    harness = await SyncHarness.create();
    harness.writeExport(sampleExport(10));
    const badToken = await harness.run({}, { GRAPH_TOKEN: 'wrong' });
    expect(badToken.status).toBe('failed');
    expect(badToken.message).toMatch(/credentials/);
    expect(badToken.cursor.after).toBeNull();

    harness.standIn.addProvider({ ...harness.tenant.provider, isCourseActivitySyncEnabled: false });
    const disabled = await harness.run({}, { GRAPH_TOKEN: harness.tenant.token });
    expect(disabled.status).toBe('failed');
    expect(disabled.message).toMatch(/provider isn't enabled/);
    expect(disabled.cursor.after).toBeNull();
    expect(harness.standIn.activities()).toHaveLength(0);
  });

  it('--dry-run plans the calls and writes nothing to Graph or the state', async () => {
    harness = await SyncHarness.create();
    harness.writeExport(sampleExport(4));
    const dry = await harness.run({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.counts.created).toBe(4);
    expect(dry.plannedCalls?.filter((c) => c.method === 'POST')).toHaveLength(4);
    expect(harness.standIn.stats().total).toBe(0);
    const state = await harness.state();
    expect((await state.cursor.get()).value).toBeUndefined();
    expect(await state.runs.listRecent(5)).toHaveLength(0);
    const real = await harness.run();
    expect(real.counts.created).toBe(4);
  });

  it('two overlapping runs: the second finds the lease held and does nothing', async () => {
    harness = await SyncHarness.create({ latencyMs: 30 });
    harness.writeExport(sampleExport(20));
    const first = harness.run();
    await new Promise((r) => setTimeout(r, 100));
    const other = await SyncHarness.prototype.run.call(harness, {}, { GRAPH_TOKEN: harness.tenant.token }).catch((err: unknown) => err);
    expect(other).toBeInstanceOf(RunInProgressError);
    expect((await first).counts.created).toBe(20);
  });

  it('rides out throttling and faults, honouring Retry-After, and ends exact', async () => {
    harness = await SyncHarness.create({ faults: { seed: 7, throttleRate: 0.1, unavailableRate: 0.03, serverErrorRate: 0.02, resetRate: 0.02, retryAfterSeconds: 1, retryAfterStyle: 'header' } });
    const records = sampleExport(40);
    harness.writeExport(records);
    let summary = await harness.run();
    for (let i = 0; i < 3 && (summary.status !== 'succeeded' || summary.counts.failed > 0); i += 1) summary = await harness.run();
    expect(harness.standIn.stats().throttled).toBeGreaterThan(0);
    expectMatches(harness, records);
  });

  it('a run with a time budget stops partial at a checkpoint, and the next run continues', async () => {
    harness = await SyncHarness.create({ latencyMs: 100 });
    const records = sampleExport(40);
    harness.writeExport(records);
    const first = await harness.run({ pageSize: 5 }, { SYNC_TIME_BUDGET_SECONDS: '1' });
    expect(first.status).toBe('partial');
    expect(first.counts.created).toBeLessThan(40);
    let summary = first;
    for (let i = 0; i < 20 && summary.status === 'partial'; i += 1) summary = await harness.run({ pageSize: 5 }, { SYNC_TIME_BUDGET_SECONDS: '1' });
    expect(summary.status).toBe('succeeded');
    expectMatches(harness, records);
  });
});
