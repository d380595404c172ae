/**
 * A webhook and a scheduled run on the same enrollment at the same time: exactly one activity
 * in Viva Learning, and the latest state of the enrollment wins, whichever gets the lease.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import func from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { createHttpState, tableConnectionOf } from '../../src/state/httpState.js';
import { silentLogger } from '../../src/sync/logger.js';
import { runScheduledSync } from '../../src/sync/scheduled.js';
import { webhookEndpoint, type HttpResult } from '../../src/webhook/endpoints.js';
import { signWebhook } from '../../src/webhook/signature.js';
import { anEnrollment, toJsonl } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ada = { upn: 'ada.lovelace@contoso.example', email: 'ada.lovelace@contoso.example', id: 'u-ada' };

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function newHarness(latencyMs: number): Promise<SyncHarness> {
  harness = await SyncHarness.create({ latencyMs });
  harness.env.WEBHOOK_SECRET = SECRET;
  return harness;
}

/** The LMS changes its export in one step (a reader never sees half a file). */
function replaceExport(h: SyncHarness, records: readonly unknown[]): void {
  const temp = `${h.exportPath}.${randomBytes(3).toString('hex')}.tmp`;
  writeFileSync(temp, toJsonl(records));
  renameSync(temp, h.exportPath);
}

function v1(enrollmentId: string): Enrollment {
  return anEnrollment({ enrollmentId, learner: ada, status: 'inProgress', progressPercent: 40, updatedAt: '2026-11-01T10:00:00.000Z' });
}

function v2(enrollmentId: string): Enrollment {
  return { ...v1(enrollmentId), status: 'completed', progressPercent: 100, completedAt: '2026-11-02T09:00:00.000Z', updatedAt: '2026-11-02T09:00:00.000Z' };
}

async function webhook(h: SyncHarness, body: unknown): Promise<HttpResult> {
  const text = JSON.stringify(body);
  const signed = signWebhook(SECRET, `msg_${randomBytes(6).toString('hex')}`, text);
  const request = new func.HttpRequest({ method: 'POST', url: 'http://localhost/api/lms/webhook', headers: { 'content-type': 'application/json', ...signed.headers }, body: { string: text } });
  // The function's own call, with no wait for the lease, so that the race is decided at once.
  return webhookEndpoint(request, { logger: silentLogger, env: h.env, cwd: h.dir, webhook: { leaseWaitMs: 0 } });
}

function scheduled(h: SyncHarness) {
  return runScheduledSync({ logger: silentLogger, trigger: 'timer', env: h.env, appRoot: h.dir });
}

async function leaseTaken(h: SyncHarness): Promise<void> {
  const state = await h.state();
  for (let i = 0; i < 500; i++) {
    if ((await state.lease.current()) !== undefined) return;
    await sleep(10);
  }
  throw new Error('nobody took the run lease');
}

async function expectOneActivityAtLatestState(h: SyncHarness, ids: readonly string[]): Promise<void> {
  const byId = h.activitiesByExternalId();
  for (const id of ids) {
    expect(byId.get(id), id).toHaveLength(1);
    expect(byId.get(id)?.[0], id).toMatchObject({ status: 'completed', completionPercentage: 100 });
  }
  const ledger = await (await h.state()).ledger.getMany(ids);
  for (const id of ids) expect(ledger.get(id), id).toMatchObject({ state: 'synced', sourceUpdatedAt: '2026-11-02T09:00:00.000Z' });
  const config = loadConfig(h.env, { cwd: h.dir });
  const queues = await createHttpState({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  expect(await queues.pending.countRecords()).toBe(0);
}

describe('a webhook racing a scheduled run on the same enrollment', () => {
  it('the run holds the lease: the webhook is queued (202), and the run drains it after its pass', async () => {
    const h = await newHarness(200);
    h.writeExport([v1('race-1'), v1('other-1'), v1('other-2')]);
    // Warm the function instance (settings, tables, runner), as a live app would be.
    expect(await webhook(h, { enrollmentId: 'warm-up' })).toMatchObject({ status: 400 });
    const pass = scheduled(h);
    await leaseTaken(h);
    // The learner completes the course while the run is busy writing the older state.
    replaceExport(h, [v2('race-1'), v1('other-1'), v1('other-2')]);
    const answer = await webhook(h, v2('race-1'));
    expect(answer).toMatchObject({ status: 202, jsonBody: { status: 'queued', reason: 'runInProgress', enrollmentId: 'race-1' } });
    expect(await pass).toMatchObject({ status: 'succeeded' });
    await expectOneActivityAtLatestState(h, ['race-1']);
    expect(h.standIn.activities()).toHaveLength(3);

    // And the next run finds nothing left to do.
    expect(await scheduled(h)).toMatchObject({ counts: { created: 0, updated: 0 } });
    expect(h.standIn.activities()).toHaveLength(3);
  });

  it('the webhook holds the lease: the run stands aside, and its stale copy never rolls the state back', async () => {
    const h = await newHarness(500);
    // The export still has the older state: the webhook's body is ahead of it.
    h.writeExport([v1('race-2')]);
    const answer = webhook(h, v2('race-2'));
    await leaseTaken(h);
    expect(await scheduled(h)).toBeUndefined();
    expect(await answer).toMatchObject({ status: 200, jsonBody: { outcome: 'created', enrollmentId: 'race-2' } });
    // The next run reads the export's older record: older than the ledger's, so unchanged.
    expect(await scheduled(h)).toMatchObject({ status: 'succeeded', counts: { read: 1, unchanged: 1, created: 0, updated: 0 } });
    await expectOneActivityAtLatestState(h, ['race-2']);
  });

  it('started together, unsynchronised, for several enrollments: one activity each, latest state', async () => {
    const h = await newHarness(40);
    const ids = ['race-a', 'race-b', 'race-c'];
    h.writeExport(ids.map(v1));
    replaceExport(h, ids.map(v1));
    const results = await Promise.all([scheduled(h), ...ids.map((id) => webhook(h, v2(id)))]);
    for (const result of results.slice(1)) expect([200, 202]).toContain((result as HttpResult).status);
    // Whatever was queued is picked up by the next pass.
    await scheduled(h);
    await expectOneActivityAtLatestState(h, ids);
  });

  it('a late webhook with an older record changes nothing', async () => {
    const h = await newHarness(0);
    h.writeExport([v2('race-late')]);
    await scheduled(h);
    const late = await webhook(h, v1('race-late'));
    expect(late).toMatchObject({ status: 200, jsonBody: { outcome: 'unchanged' } });
    await expectOneActivityAtLatestState(h, ['race-late']);
  });
});
