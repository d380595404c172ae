import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { silentLogger } from '../../src/sync/logger.js';
import { openSync, type SyncRunner } from '../../src/sync/openSync.js';
import { planChanges } from '../../src/sync/plan.js';
import { QueuePageSink } from '../../src/sync/queue/enqueuePlan.js';
import { parseWorkBatch } from '../../src/sync/queue/messages.js';
import { openWorker, type QueueWorker } from '../../src/sync/queue/openQueue.js';
import { processWorkBatch } from '../../src/sync/queue/processWorkBatch.js';
import { drainPoisonQueue, runWorkerLoop } from '../../src/sync/queue/worker.js';
import { decodeQueueMessage, encodeQueueMessage } from '../../src/state/queueClients.js';
import { anEnrollment, aSelfInitiatedEnrollment } from '../support/builders.js';
import { SyncHarness, summaryOf } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s.abort();
  await harness?.close();
  harness = undefined;
});

function exportOf(n: number): Enrollment[] {
  return Array.from({ length: n }, (_, i) => {
    const common = { enrollmentId: `enr-${i}`, learner: { id: `u${i % 5}`, upn: `p${i % 5}@contoso.example` }, course: { id: `c-${i % 3}` }, updatedAt: `2026-11-01T10:${String(i).padStart(2, '0')}:00.000Z` };
    return i % 3 === 0 ? aSelfInitiatedEnrollment(common) : anEnrollment(common);
  });
}

async function setUp(n: number, env: Record<string, string> = {}): Promise<SyncHarness> {
  const h = await SyncHarness.create();
  h.env = { ...h.env, SYNC_MODE: 'queue', SYNC_QUEUE_NAME: `q${randomBytes(6).toString('hex')}`, ...env };
  h.writeExport(exportOf(n));
  return h;
}

function planner(h: SyncHarness, maxWaitMs = 60_000): Promise<SyncRunner> {
  return openSync(loadConfig(h.env, { cwd: h.dir }), { logger: silentLogger, cwd: h.dir, queueWait: { maxWaitMs, pollMs: 50 } });
}

function worker(h: SyncHarness, signal?: AbortSignal): Promise<QueueWorker> {
  return openWorker(loadConfig(h.env, { cwd: h.dir }), { logger: silentLogger, ...(signal !== undefined ? { abortSignal: signal } : {}) });
}

/** A worker loop in this process until the test ends (or `controller` aborts). */
async function startWorker(h: SyncHarness, options: { visibilityTimeoutSeconds?: number; maxDequeueCount?: number; controller?: AbortController; onBatch?: Parameters<typeof runWorkerLoop>[0]['onBatch'] } = {}): Promise<{ done: Promise<void> }> {
  const controller = options.controller ?? new AbortController();
  stops.push(controller);
  const w = await worker(h, controller.signal);
  const done = runWorkerLoop({ queues: w.queues, deps: w.deps, abortSignal: controller.signal, pollMs: 50, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30, retryDelaySeconds: 0, ...(options.maxDequeueCount !== undefined ? { maxDequeueCount: options.maxDequeueCount } : {}), ...(options.onBatch !== undefined ? { onBatch: options.onBatch } : {}) });
  done.catch(() => undefined);
  return { done };
}

function expectOneActivityEach(h: SyncHarness, n: number): void {
  const byId = h.activitiesByExternalId();
  expect(byId.size).toBe(n);
  for (const [id, activities] of byId) expect(activities, id).toHaveLength(1);
}

describe('queue mode: the timer plans, queue workers write', () => {
  it('two workers write every planned item once; the cursor follows; a re-run changes nothing', async () => {
    harness = await setUp(40);
    void (await startWorker(harness));
    void (await startWorker(harness));
    const runner = await planner(harness);
    const summary = await runner.run({ pageSize: 7, deadLetterRetryBaseMs: 0 });
    expect(summary.status).toBe('succeeded');
    // The workers' writes are the planner run's counts, once each.
    expect(summary.counts).toMatchObject({ read: 40, created: 40, updated: 0, failed: 0 });
    expect(summary.cursor.after).not.toBeNull();
    expectOneActivityEach(harness, 40);
    const cursor = await runner.state.cursor.get();
    expect(cursor.ledgerComplete).toBe(true);

    harness.standIn.resetStats();
    const again = await runner.run({ full: true, pageSize: 7 });
    expect(again.status).toBe('succeeded');
    expect(harness.standIn.stats().writes).toBe(0);
  });

  it("a write a worker dead-letters counts in the planner run's summary and exit code", async () => {
    harness = await setUp(5);
    const unknown = anEnrollment({ enrollmentId: 'enr-unknown', learner: { id: 'x', upn: 'former.x@contoso.example', email: undefined }, updatedAt: '2026-11-01T11:00:00.000Z' });
    harness.writeExport([...exportOf(5), unknown]);
    void (await startWorker(harness));
    const result = await harness.cli(['sync', '--json']);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { counts: Record<string, number> };
    expect(summary.counts).toMatchObject({ read: 6, created: 5, failed: 1 });
    expect(result.code).toBe(EXIT.deadLetters);
    const state = await harness.state();
    expect((await state.deadLetters.get('enr-unknown'))?.kind).toBe('write');

    // Once the LMS names a learner who exists, a worker writes the record and clears its dead letter.
    harness.writeExport([...exportOf(5), { ...unknown, learner: { id: 'u0', upn: 'p0@contoso.example' }, updatedAt: '2026-11-01T12:00:00.000Z' }]);
    const again = await harness.cli(['sync', '--json']);
    expect(again.code).toBe(EXIT.ok);
    expect(await state.deadLetters.get('enr-unknown')).toBeUndefined();
    expectOneActivityEach(harness, 6);
  });

  it('writes the workers fail count toward the failure-share quarantine', async () => {
    harness = await setUp(0);
    const lost = Array.from({ length: 24 }, (_, i) =>
      anEnrollment({ enrollmentId: `lost-${i}`, learner: { id: `x${i}`, upn: `former.x${i}@contoso.example`, email: undefined }, updatedAt: `2026-11-01T11:${String(i).padStart(2, '0')}:00.000Z` }),
    );
    harness.writeExport(lost);
    void (await startWorker(harness));
    const runner = await planner(harness);
    const summary = await runner.run({ pageSize: 50 });
    expect(summary.status).toBe('failed');
    expect(summary.message).toMatch(/^quarantined: 24 of this run's 24 writes failed/);
    expect((await runner.quarantine?.get())?.active).toBe(true);
  });

  it('deletes are staged as in inline mode: none is enqueued before the pass read every page, and over the maximum none at all', async () => {
    harness = await setUp(5, { SYNC_QUARANTINE_MAX_DELETES: '3' });
    void (await startWorker(harness));
    const runner = await planner(harness);
    expect((await runner.run({ pageSize: 2 })).status).toBe('succeeded');
    let deletes = 0;
    harness.standIn.setOptions({ faults: { decide: ({ method }) => (method === 'DELETE' && ++deletes > 0 ? undefined : undefined) } });
    harness.writeExport(exportOf(5).map((r) => ({ enrollmentId: r.enrollmentId, deleted: true, updatedAt: '2026-11-02T10:00:00.000Z' })));
    const stopped = await runner.run({ pageSize: 2 });
    expect(stopped.status).toBe('failed');
    expect(stopped.message).toMatch(/^quarantined: this run would delete 5 activities, more than SYNC_QUARANTINE_MAX_DELETES \(3\); none was deleted/);
    expect(deletes).toBe(0);
    expectOneActivityEach(harness, 5);

    // Within the maximum (approved here), the staged deletes go to the workers as one more page.
    await runner.quarantine?.clear({ allowDeletes: true });
    const done = await runner.run({ pageSize: 2 });
    expect(done).toMatchObject({ status: 'succeeded', counts: { deleted: 5 } });
    expect(deletes).toBe(5);
    expect(harness.standIn.activities()).toHaveLength(0);
  });

  it('a message delivered twice changes nothing', async () => {
    harness = await setUp(12);
    const runner = await planner(harness, 200);
    const planned = await runner.run({ pageSize: 50 });
    expect(planned.status).toBe('partial');
    const w = await worker(harness);
    const received = await w.queues.work.receiveMessages({ numberOfMessages: 32 });
    expect(received.receivedMessageItems.length).toBeGreaterThan(0);
    for (const m of received.receivedMessageItems) expect((await processWorkBatch(decodeQueueMessage(m.messageText), w.deps)).status).toBe('done');
    expectOneActivityEach(harness, 12);
    harness.standIn.resetStats();
    for (const m of received.receivedMessageItems) expect((await processWorkBatch(decodeQueueMessage(m.messageText), w.deps)).status).toBe('duplicate');
    // Even with the batch's done mark lost, the ledger says every item is written.
    const first = parseWorkBatch(decodeQueueMessage(received.receivedMessageItems[0]?.messageText ?? ''));
    await w.outstanding.batchFailed(first.pageId, first.batchId, first.items?.length ?? 0, 'simulated');
    const redo = await processWorkBatch(decodeQueueMessage(received.receivedMessageItems[0]?.messageText ?? ''), w.deps);
    expect(redo).toMatchObject({ status: 'done', written: 0 });
    expect(harness.standIn.stats().writes).toBe(0);
    expectOneActivityEach(harness, 12);
  });

  it("a batch slowed by throttling stays with its worker: its visibility is extended, so a second worker never starts it", async () => {
    harness = await setUp(8);
    const runner = await planner(harness, 200);
    expect((await runner.run({ pageSize: 50 })).status).toBe('partial');
    // Graph throttles the first creates (Retry-After 1 s each): the batch takes several times the 1 s visibility.
    let throttled = 0;
    harness.standIn.setOptions({ faults: { retryAfterSeconds: 1, decide: ({ method, path }) => (method === 'POST' && path.includes('/learningCourseActivities') && ++throttled <= 3 ? 'throttle' : undefined) } });
    const deliveries: number[] = [];
    const onBatch = (_: unknown, delivery: { dequeueCount: number }): void => void deliveries.push(delivery.dequeueCount);
    void (await startWorker(harness, { visibilityTimeoutSeconds: 1, onBatch }));
    void (await startWorker(harness, { visibilityTimeoutSeconds: 1, onBatch }));
    const summary = await (await planner(harness, 30_000)).run({ pageSize: 50 });
    expect(summary).toMatchObject({ status: 'succeeded', counts: { created: 8 } });
    expect(throttled).toBeGreaterThanOrEqual(3);
    // Each batch was delivered once: no second worker took it while the first was still writing.
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((d) => d === 1)).toBe(true);
    expectOneActivityEach(harness, 8);
  });

  it("a redelivered batch's counts replace the earlier delivery's: a failure retried counts once", async () => {
    harness = await setUp(0);
    const unknown = anEnrollment({ enrollmentId: 'enr-unknown', learner: { id: 'x', upn: 'former.x@contoso.example', email: undefined }, updatedAt: '2026-11-01T11:00:00.000Z' });
    harness.writeExport([...exportOf(2), unknown]);
    const runner = await planner(harness, 100);
    expect((await runner.run({ pageSize: 50 })).status).toBe('partial');
    const w = await worker(harness);
    const [m] = (await w.queues.work.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    const message = parseWorkBatch(decodeQueueMessage(m?.messageText ?? ''));
    expect(await processWorkBatch(message, w.deps)).toMatchObject({ status: 'done', failed: 1 });
    // The delivery's done mark was lost (its worker died after recording what it did): the queue delivers it again.
    await w.outstanding.batchFailed(message.pageId, message.batchId, message.items?.length ?? 0, 'the worker died', { created: 2, updated: 0, deleted: 0, failed: 1 });
    expect(await processWorkBatch(message, w.deps)).toMatchObject({ status: 'done', failed: 1 });
    expect((await w.outstanding.getBatch(message.pageId, message.batchId))?.counts).toEqual({ created: 2, updated: 0, deleted: 0, failed: 1 });
    const settled = await runner.run({ pageSize: 50 });
    expect(settled.counts).toMatchObject({ created: 2, failed: 1 });
  });

  it('a worker stopped mid-batch leaves the batch to another, which finishes it without a duplicate', async () => {
    harness = await setUp(20);
    const runner = await planner(harness, 200);
    expect((await runner.run({ pageSize: 50 })).status).toBe('partial');
    const first = new AbortController();
    let writes = 0;
    harness.standIn.setOptions({
      faults: {
        decide: ({ method, path }) => {
          if (method === 'POST' && path.includes('/learningCourseActivities') && ++writes === 3) first.abort(new Error('killed')); // the write lands, its answer is never read
          return undefined;
        },
      },
    });
    const killed = await startWorker(harness, { controller: first, visibilityTimeoutSeconds: 1 });
    await killed.done;
    expect(harness.standIn.activities().length).toBeGreaterThanOrEqual(3);
    expect(harness.standIn.activities().length).toBeLessThan(20);
    harness.standIn.setOptions({ faults: {} });
    void (await startWorker(harness, { visibilityTimeoutSeconds: 1 }));
    const summary = await (await planner(harness, 30_000)).run({ pageSize: 50 });
    expect(summary.status).toBe('succeeded');
    expectOneActivityEach(harness, 20);
  });

  it('the cursor never passes a page with outstanding items', async () => {
    harness = await setUp(20);
    const runner = await planner(harness, 100);
    expect((await runner.run({ pageSize: 5 })).status).toBe('partial');
    const w = await worker(harness);
    const received = (await w.queues.work.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    const messages = received.map((m) => parseWorkBatch(decodeQueueMessage(m.messageText)));
    const pages = [...new Set(messages.map((m) => m.pageId))].sort();
    expect(pages.length).toBe(4);
    // Every page but the first is written: the cursor must stay before the first.
    for (const m of messages) if (m.pageId !== pages[0]) await processWorkBatch(m, w.deps);
    const stuck = await runner.run({ pageSize: 5 });
    expect(stuck.status).toBe('partial');
    expect(stuck.cursor.after).toBeNull();
    expect((await runner.state.cursor.get()).value).toBeUndefined();
    for (const m of messages) if (m.pageId === pages[0]) await processWorkBatch(m, w.deps);
    const settled = await runner.run({ pageSize: 5 });
    expect(settled.status).toBe('succeeded');
    expect(settled.cursor.after).not.toBeNull();
    expectOneActivityEach(harness, 20);
  });

  it('poison messages become dead letters with their last error', async () => {
    harness = await setUp(6);
    const runner = await planner(harness, 100);
    expect((await runner.run({ pageSize: 50 })).status).toBe('partial');
    const w = await worker(harness);
    await w.queues.work.sendMessage(encodeQueueMessage(JSON.stringify({ version: 9, kind: 'workBatch' })));
    // Graph refuses the tenant on every delivery: the batch can never finish.
    harness.standIn.setOptions({ token: 'rotated' });
    const controller = new AbortController();
    const loop = await startWorker(harness, { controller, visibilityTimeoutSeconds: 1, maxDequeueCount: 2 });
    for (let i = 0; i < 100; i += 1) {
      const props = await w.queues.work.getProperties();
      if ((props.approximateMessagesCount ?? 1) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    controller.abort();
    await loop.done;
    const drained = await drainPoisonQueue(w.queues.poison, w.deps);
    expect(drained.messages).toBe(2);
    expect(drained.deadLetters).toBe(7);
    const letters = [];
    for await (const letter of runner.state.deadLetters.list()) letters.push(letter);
    expect(letters.filter((l) => l.code === 'poisonMessage')).toHaveLength(6);
    expect(letters.find((l) => l.code === 'poisonMessage')?.reason).toMatch(/poison queue; last error: .+/);
    expect(letters.filter((l) => l.kind === 'invalid' && /unreadable work message/.test(l.reason))).toHaveLength(1);
    // The batches count as done: the cursor moves on, and the dead letters are retried by later runs.
    harness.standIn.setOptions({ token: harness.tenant.token });
    const after = await runner.run({ pageSize: 50 });
    expect(after.cursor.after).not.toBeNull();
  });

  it('viva-sync sync --mode queue and viva-sync worker run the planner and a writer locally', async () => {
    harness = await setUp(15);
    harness.env = { ...harness.env, SYNC_MODE: 'inline' };
    const h = harness;
    const [planned, worked] = await Promise.all([h.runCli(['sync', '--mode', 'queue', '--json']), h.runCli(['worker', '--idle-exit', '3', '--json'])]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(summaryOf(planned).status).toBe('succeeded');
    expect(worked.code, worked.stderr).toBe(0);
    expect(JSON.parse(worked.stdout.trim())).toMatchObject({ written: 15, failed: 0 });
    expectOneActivityEach(h, 15);
    const poison = await h.runCli(['worker', '--poison', '--json']);
    expect(JSON.parse(poison.stdout.trim())).toEqual({ messages: 0, deadLetters: 0 });
  });

  it('a worker process killed mid-batch (SIGKILL) leaves the batch to another process, with no duplicate', async () => {
    harness = await setUp(24);
    const h = harness;
    const plannedOnly = await (await planner(h, 100)).run({ pageSize: 50 });
    expect(plannedOnly.status).toBe('partial');
    let writes = 0;
    let kill: (() => void) | undefined;
    h.standIn.setOptions({
      faults: {
        decide: ({ method, path }) => {
          if (method === 'POST' && path.includes('/learningCourseActivities') && ++writes === 5) kill?.(); // killed while Graph applies the write
          return undefined;
        },
      },
    });
    const killed = await h.runCli(['worker', '--visibility-timeout', '1'], {}, (k) => (kill = k));
    expect(killed.signal).toBe('SIGKILL');
    h.standIn.setOptions({ faults: {} });
    const [finished, resumed] = await Promise.all([h.runCli(['worker', '--idle-exit', '3', '--visibility-timeout', '1', '--json']), (await planner(h, 30_000)).run({ pageSize: 50 })]);
    expect(finished.code, finished.stderr).toBe(0);
    expect(resumed.status).toBe('succeeded');
    expectOneActivityEach(h, 24);
  });

  it('a batch too large for a queue message travels by reference and is written all the same', async () => {
    harness = await setUp(1);
    const h = harness;
    const w = await worker(h);
    const sink = new QueuePageSink({ queue: w.queues.work, outstanding: w.outstanding, pollMs: 50 });
    const record = exportOf(1)[0] ?? anEnrollment();
    const items = planChanges({ records: [record], ledger: new Map(), ledgerComplete: false, learnerMatch: 'userPrincipalName' }).items;
    // The source record kept for a dead letter is large (an LMS payload with long notes).
    await sink.enqueue({ runId: 'r-big', cursor: 'c1', items, sources: { [record.enrollmentId]: { record: JSON.stringify({ ...record, notes: 'n'.repeat(80_000) }) } } }, {});
    const received = (await w.queues.work.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    expect(received).toHaveLength(1);
    const message = parseWorkBatch(decodeQueueMessage(received[0]?.messageText ?? ''));
    expect(message.items).toBeUndefined();
    expect(message.ref).toBeDefined();
    expect(await processWorkBatch(message, w.deps)).toMatchObject({ status: 'done', written: 1 });
    expectOneActivityEach(h, 1);
    expect(await sink.settle('r-big', {})).toEqual({ cursor: 'c1', outstanding: 0, written: { created: 1, updated: 0, deleted: 0, failed: 0 } });
    // A page is passed once: its writes are not counted again.
    expect((await sink.settle('r-big', {})).written.created).toBe(0);
  });
});

