import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { gatewayFor, schedulerFor } from '../../src/graph/fromConfig.js';
import { createAdapter } from '../../src/lms/createAdapter.js';
import type { LedgerStore } from '../../src/state/types.js';
import { TimeBudget } from '../../src/sync/budget.js';
import { syncRecords } from '../../src/sync/engine.js';
import { silentLogger } from '../../src/sync/logger.js';
import { openSync } from '../../src/sync/openSync.js';
import { anEnrollment } from '../support/builders.js';
import { recordStorageRequests } from '../support/storageRequests.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function reopen(h: SyncHarness): ReturnType<typeof openSync> {
  return openSync(loadConfig(h.env, { cwd: h.dir }), { logger: silentLogger, cwd: h.dir });
}

describe('the single-record path (webhooks) before its first Graph request', () => {
  it('reads its own dead letter by key, each state row once, and takes a free lease with one create', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const prefix = h.env.SYNC_TABLE_PREFIX ?? '';
    // "former.*" learners are not Entra users: that record becomes a write dead letter.
    const unknownLearner = anEnrollment({ enrollmentId: 'hook-unknown', learner: { upn: 'former.employee@contoso.example', email: 'former.employee@contoso.example' } });
    h.writeExport([anEnrollment({ enrollmentId: 'hook-1' }), unknownLearner]);
    expect((await h.run()).counts).toMatchObject({ created: 1, failed: 1 });
    const runner = await reopen(h);

    // The same record again waits for its retry turn: parked by its own dead letter, read by key.
    h.standIn.resetStats();
    let recorder = recordStorageRequests(prefix);
    const parked = await runner.runRecords([unknownLearner]);
    recorder.stop();
    expect(parked.counts).toMatchObject({ read: 1, unchanged: 1, failed: 0 });
    expect(h.standIn.requests()).toEqual([]);
    const deadLetterReads = recorder.requests.filter((r) => r.path.startsWith('DeadLetters'));
    expect(deadLetterReads).toEqual([{ method: 'GET', path: `DeadLetters(PartitionKey='dl',RowKey='hook-unknown')` }]);

    // A new enrollment of a new course: every read once, the lease by one create (and its release).
    recorder = recordStorageRequests(prefix);
    const created = await runner.runRecords([anEnrollment({ enrollmentId: 'hook-2', course: { id: 'course-new', title: 'New course' } })]);
    recorder.stop();
    expect(created.counts).toMatchObject({ created: 1, failed: 0 });
    const requests = recorder.requests.map((r) => `${r.method} ${r.path}`);
    expect(requests.filter((r) => r.includes('Lease'))).toEqual([`POST Lease`, `DELETE Lease(PartitionKey='lease',RowKey='sync')`]);
    expect(requests.filter((r) => r.startsWith('GET Contents'))).toHaveLength(1);
    expect(requests.filter((r) => r === `GET Ledger(PartitionKey='epoch',RowKey='ledger')`)).toHaveLength(1);
    expect(requests.filter((r) => r.startsWith('GET DeadLetters()'))).toEqual([]);
  });

  it('sends no activity write when its write-ahead rows cannot be saved, and fails the run as before', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([]);
    const record = anEnrollment({ enrollmentId: 'hook-ahead' });
    h.addUsers([record]);
    const state = await h.state();
    // The storage refuses the `pending` rows (and only those): the create must not be sent.
    const ledger: LedgerStore = {
      getMany: (ids, o) => state.ledger.getMany(ids, o),
      putMany: (entries, o) => (entries.some((e) => e.state === 'pending') ? Promise.reject(new Error('the storage refused the write-ahead rows')) : state.ledger.putMany(entries, o)),
      list: (o) => state.ledger.list(o),
      listStatus: (o) => state.ledger.listStatus(o),
    };
    const config = loadConfig(h.env, { cwd: h.dir });
    const deps = {
      adapter: createAdapter(config, h.dir),
      gateway: gatewayFor(config, schedulerFor(config.graph)),
      state: { ...state, ledger },
      providerId: config.providerId,
      learnerMatch: config.learnerMatch,
      logger: silentLogger,
      budget: new TimeBudget(undefined),
    };
    await expect(syncRecords(deps, [record], { trigger: 'webhook' })).rejects.toThrow('the storage refused the write-ahead rows');
    const activityWrites = h.standIn.requests().filter((r) => r.path.includes('learningCourseActivities') && r.method !== 'GET');
    expect(activityWrites).toEqual([]);
    expect(h.standIn.activities()).toEqual([]);
    expect((await state.runs.listRecent(1))[0]).toMatchObject({ trigger: 'webhook', status: 'failed' });
  });
});
