import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/sync/logger.js';
import { runScheduledSync } from '../../src/sync/scheduled.js';
import { healthEndpoint, statusEndpoint } from '../../src/webhook/endpoints.js';
import { anEnrollment } from '../support/builders.js';
import { lastJsonLine, SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Output = Awaited<ReturnType<SyncHarness['cli']>>;
const cli = (h: SyncHarness, args: readonly string[], env: Record<string, string> = {}): Promise<Output> => h.cli(args, env);
const lastJson = (output: Output): Record<string, unknown> => lastJsonLine(output.stdout);

async function health(h: SyncHarness): Promise<Record<string, unknown>> {
  const result = await healthEndpoint({ method: 'GET', query: new URLSearchParams() }, { logger: silentLogger, env: h.env, cwd: h.dir, healthCacheMs: 0 });
  return result.jsonBody as Record<string, unknown>;
}

async function operatorStatus(h: SyncHarness): Promise<Record<string, unknown>> {
  const result = await statusEndpoint({ method: 'GET', query: new URLSearchParams() }, { logger: silentLogger, env: h.env, cwd: h.dir });
  return result.jsonBody as Record<string, unknown>;
}

describe('quarantine', () => {
  it('stops a run that would delete more than SYNC_QUARANTINE_MAX_DELETES before writing, skips until cleared, and --allow-deletes sends the deletes', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.env.SYNC_QUARANTINE_MAX_DELETES = '3';
    const records = Array.from({ length: 5 }, (_, i) => anEnrollment({ enrollmentId: `d${i}` }));
    h.writeExport(records);
    expect((await cli(h, ['sync', '--json'])).code).toBe(0);
    expect(h.standIn.activities()).toHaveLength(5);

    // The LMS withdraws everyone (an export gone wrong, say).
    h.writeExport(records.map((r) => ({ ...r, deleted: true, updatedAt: '2026-11-02T10:00:00.000Z' })));
    const stopped = await cli(h, ['sync', '--json']);
    expect(stopped.code).toBe(1);
    expect(lastJson(stopped)).toMatchObject({ status: 'failed', counts: { deleted: 0 } });
    expect(String(lastJson(stopped)['message'])).toMatch(/^quarantined: this run would delete 5 activities, more than SYNC_QUARANTINE_MAX_DELETES \(3\)/);
    expect(h.standIn.activities()).toHaveLength(5);

    // The next passes (CLI and timer alike go through the same pass) are skipped.
    const skipped = await cli(h, ['sync', '--json']);
    expect(skipped.code).toBe(1);
    expect(lastJson(skipped)).toMatchObject({ status: 'failed', counts: { read: 0 } });
    expect(String(lastJson(skipped)['message'])).toMatch(/^quarantined: /);

    const status = lastJson(await cli(h, ['status', '--json']));
    expect(status['quarantine']).toMatchObject({ active: true, trigger: 'deletes', counts: { deletes: 5 } });
    expect((await cli(h, ['status'])).stdout).toContain('QUARANTINED since');
    expect(await health(h)).toEqual({ status: 'failing', lastSuccessAgeSeconds: expect.any(Number) });
    const report = await operatorStatus(h);
    expect(report).toMatchObject({ status: 'failing', quarantine: { active: true, trigger: 'deletes' } });
    expect((report['problems'] as string[]).some((p) => p.startsWith('the sync is quarantined since'))).toBe(true);
    const shown = await cli(h, ['quarantine', 'show', '--json']);
    expect(lastJson(shown)).toMatchObject({ active: true, trigger: 'deletes', reason: expect.stringContaining('SYNC_QUARANTINE_MAX_DELETES') });

    // Cleared without approving the deletes: the next run judges them again.
    const cleared = await cli(h, ['quarantine', 'clear']);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('Quarantine cleared');
    expect((await cli(h, ['sync', '--json'])).code).toBe(1);
    expect(h.standIn.activities()).toHaveLength(5);

    // Approved: the staged deletes are sent at once, and the approval is used up.
    expect(lastJson(await cli(h, ['quarantine', 'clear', '--allow-deletes', '--json']))).toMatchObject({ wasActive: true, active: false, deletesApproved: false, stagedDeletes: { staged: 5, deleted: 5, failed: 0, remaining: 0 } });
    expect(h.standIn.activities()).toHaveLength(0);
    const done = await cli(h, ['sync', '--json']);
    expect(done.code).toBe(0);
    expect(lastJson(done)).toMatchObject({ status: 'succeeded', counts: { deleted: 0, created: 0 } });
    expect(lastJson(await cli(h, ['quarantine', 'show', '--json']))).toMatchObject({ active: false, deletesApproved: false });
    expect(await operatorStatus(h)).toMatchObject({ quarantine: { active: false } });
    expect(await health(h)).toMatchObject({ status: 'ok' });
  });

  it('stops a run when more than SYNC_QUARANTINE_FAILURE_SHARE of its writes fail, and the runs after clearing proceed', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const records = Array.from({ length: 25 }, (_, i) => anEnrollment({ enrollmentId: `f${i}`, learner: { upn: `learner${i}@contoso.example`, email: `learner${i}@contoso.example` } }));
    h.writeExport(records);
    // 15 of 25 learners have no Viva Learning licence: their creates answer 403.
    const unlicensed = records.slice(0, 15).map((r) => r.learner.upn ?? '');
    for (const upn of unlicensed) h.standIn.addUser({ id: h.userId(upn), userPrincipalName: upn, mail: upn, licensed: false });

    const stopped = await cli(h, ['sync', '--json']);
    expect(stopped.code).toBe(1);
    expect(lastJson(stopped)).toMatchObject({ status: 'failed', counts: { created: 10, failed: 15 } });
    expect(String(lastJson(stopped)['message'])).toMatch(/^quarantined: 15 of this run's 25 writes failed, more than SYNC_QUARANTINE_FAILURE_SHARE \(0\.4\)/);
    expect(lastJson(await cli(h, ['quarantine', 'show', '--json']))).toMatchObject({ active: true, trigger: 'failureShare', counts: { attempted: 25, failed: 15 } });
    expect((await cli(h, ['quarantine', 'show'])).stdout).toContain('25 writes attempted, 15 failed');

    const skipped = await cli(h, ['sync', '--json']);
    expect(skipped.code).toBe(1);
    expect(String(lastJson(skipped)['message'])).toMatch(/^quarantined: 15 of this run's 25 writes failed/);
    const timer = await runScheduledSync({ logger: silentLogger, trigger: 'timer', env: h.env, appRoot: h.dir });
    expect(timer).toMatchObject({ status: 'failed', counts: { read: 0 }, message: expect.stringMatching(/^quarantined: /) });
    const runs = lastJson(await cli(h, ['runs', '--json']))['runs'] as { status: string; trigger: string }[];
    expect(runs.slice(0, 3).map((r) => `${r.trigger} ${r.status}`)).toEqual(['timer failed', 'cli failed', 'cli failed']);

    // The licences are bought; the operator clears the quarantine and asks for the retries now.
    for (const upn of unlicensed) h.standIn.addUser({ id: h.userId(upn), userPrincipalName: upn, mail: upn, licensed: true });
    expect((await cli(h, ['quarantine', 'clear'])).code).toBe(0);
    expect(lastJson(await cli(h, ['deadletters', 'retry', '--all', '--json']))).toMatchObject({ action: 'retry', keys: expect.arrayContaining(['f0', 'f14']) });
    const done = await cli(h, ['sync', '--json']);
    expect(done.code).toBe(0);
    expect(lastJson(done)).toMatchObject({ status: 'succeeded', counts: { created: 15, failed: 0 } });
    expect(h.standIn.activities()).toHaveLength(25);
    expect(lastJson(await cli(h, ['deadletters', 'list', '--json']))).toMatchObject({ count: 0 });
  });

  it('does not judge the failure share on fewer than 20 writes', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([anEnrollment({ enrollmentId: 'ok' }), anEnrollment({ enrollmentId: 'gone', learner: { upn: 'former.x@contoso.example', email: 'former.x@contoso.example' } })]);
    const result = await cli(h, ['sync', '--json']);
    expect(result.code).toBe(3);
    expect(lastJson(await cli(h, ['quarantine', 'show', '--json']))).toMatchObject({ active: false });
  });
});
