import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { anEnrollment, aWithdrawal, toCsv, toJsonl } from '../support/builders.js';
import { BlobExports } from '../support/blobExports.js';
import { SyncHarness } from '../support/syncHarness.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createExportStore, type ExportRecord } from '../../src/state/exportStore.js';
import { tableConnectionOf } from '../../src/state/httpState.js';
import { runExportLandedPass } from '../../src/sync/exportLanded.js';
import { silentLogger } from '../../src/sync/logger.js';

describe('exports in Azure Blob Storage (Azurite)', () => {
  let harness: SyncHarness;
  let blobs: BlobExports;

  beforeEach(async () => {
    harness = await SyncHarness.create();
    blobs = await BlobExports.create(inject('azuriteConnectionString'));
    harness.env = { ...harness.env, LMS_FILE_PATH: blobs.url('daily/'), LMS_EXPORT_SETTLE_SECONDS: '0' };
  });

  afterEach(async () => {
    await blobs.container.delete();
    await harness.close();
  });

  async function exportRecords(): Promise<ExportRecord[]> {
    const config = loadConfig(harness.env, { cwd: harness.dir });
    const store = await createExportStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
    return store.list();
  }

  it('reads a folder of exports in name order, each once, and a changed export again', async () => {
    const first = anEnrollment({ enrollmentId: 'b-1', status: 'inProgress', updatedAt: '2026-11-01T10:00:00.000Z' });
    const second = anEnrollment({ enrollmentId: 'b-1', status: 'completed', progressPercent: 100, completedAt: '2026-11-02T10:00:00.000Z', updatedAt: '2026-11-02T10:00:00.000Z' });
    const other = anEnrollment({ enrollmentId: 'b-2', learner: { id: 'u2', upn: 'alex.wilber@contoso.example', email: 'alex.wilber@contoso.example' } });
    harness.addUsers([first, other]);
    // Names with ISO dates sort in time order; the later one (completed) must win.
    await blobs.put('daily/enrollments-2026-11-02.csv', toCsv([second]));
    await blobs.put('daily/enrollments-2026-11-01.jsonl', toJsonl([first, other]));
    await blobs.put('daily/readme.txt', 'not an export');

    const run1 = await harness.run();
    expect(run1.status).toBe('succeeded');
    expect(run1.counts.read).toBe(3);
    const activity = harness.activitiesByExternalId();
    expect([...activity.keys()].length).toBe(2);
    const b1 = [...harness.standIn.activities()].find((a) => a.externalCourseActivityId?.includes('b-1'));
    expect(b1?.status).toBe('completed');
    const records = await exportRecords();
    expect(records.map((r) => [r.name, r.status, r.read])).toEqual([
      ['daily/enrollments-2026-11-01.jsonl', 'done', 2],
      ['daily/enrollments-2026-11-02.csv', 'done', 1],
    ]);

    // A second run reads nothing: both exports are done with these ETags.
    const run2 = await harness.run();
    expect(run2.counts.read).toBe(0);

    // A replaced export (new ETag) is read again, and only that one.
    await blobs.put('daily/enrollments-2026-11-01.jsonl', toJsonl([first, other, aWithdrawal({ enrollmentId: 'b-2', updatedAt: '2026-11-03T00:00:00.000Z' })]));
    const run3 = await harness.run();
    expect(run3.counts.read).toBe(3);
    expect(run3.counts.deleted).toBe(1);
  });

  it('leaves an upload in progress, and a blob changed too recently, for a later run', async () => {
    const e = anEnrollment({ enrollmentId: 'g-1' });
    harness.addUsers([e]);
    const commit = await blobs.stage('daily/2026-11-05.jsonl', toJsonl([e]));
    const staged = await harness.run();
    expect(staged.counts.read).toBe(0);
    expect((await exportRecords()).map((r) => [r.status, r.error])).toEqual([['waiting', 'an upload is in progress (uncommitted blocks)']]);

    await commit();
    // Just written: with a settle time of an hour it is still "growing".
    const young = await harness.run({}, { LMS_EXPORT_SETTLE_SECONDS: '3600' });
    expect(young.counts.read).toBe(0);
    const waiting = await exportRecords();
    expect(waiting.map((r) => r.status)).toEqual(['waiting']);
    expect(waiting[0]?.error).toMatch(/unchanged for 3600 s/);

    const settled = await harness.run({}, { LMS_EXPORT_SETTLE_SECONDS: '0' });
    expect(settled.counts.read).toBe(1);
    expect((await exportRecords()).map((r) => r.status)).toEqual(['done']);
  });

  it('leaves a committed export whose replacement is being uploaded for a later run', async () => {
    const e = anEnrollment({ enrollmentId: 'r-1' });
    harness.addUsers([e]);
    await blobs.put('daily/2026-11-05.jsonl', toJsonl([e]));
    const commit = await blobs.stage('daily/2026-11-05.jsonl', toJsonl([e, anEnrollment({ enrollmentId: 'r-2' })]));
    expect((await harness.run()).counts.read).toBe(0);
    await commit();
    expect((await harness.run()).counts.read).toBe(2);
  });

  it('waits for a marker when LMS_EXPORT_DONE_SUFFIX is set, and reads .gz exports', async () => {
    const e = anEnrollment({ enrollmentId: 'z-1' });
    harness.addUsers([e]);
    await blobs.putGzip('daily/2026-11-06.csv.gz', toCsv([e]));
    const env = { LMS_EXPORT_DONE_SUFFIX: '.done' };
    expect((await harness.run({}, env)).counts.read).toBe(0);
    await blobs.put('daily/2026-11-06.csv.gz.done', '');
    const read = await harness.run({}, env);
    expect(read.counts.read).toBe(1);
    expect(read.counts.created).toBe(1);
  });

  it('records a corrupt export as failed and reads the next one', async () => {
    const e = anEnrollment({ enrollmentId: 'c-1' });
    harness.addUsers([e]);
    await blobs.put('daily/2026-11-07.jsonl.gz', 'this is not gzip');
    await blobs.put('daily/2026-11-08.jsonl', toJsonl([e]));
    const run = await harness.run();
    expect(run.counts.created).toBe(1);
    const records = await exportRecords();
    expect(records.map((r) => r.status)).toEqual(['failed', 'done']);
    expect(records[0]?.error).toMatch(/gzip/);
  });

  it('in snapshot mode reads only the newest complete export and skips older unread ones', async () => {
    const old = anEnrollment({ enrollmentId: 's-1', status: 'inProgress' });
    const newer = anEnrollment({ enrollmentId: 's-1', status: 'completed', progressPercent: 100, completedAt: '2026-11-09T00:00:00.000Z', updatedAt: '2026-11-09T00:00:00.000Z' });
    harness.addUsers([old]);
    await blobs.put('daily/2026-11-08.jsonl', toJsonl([old]));
    await blobs.put('daily/2026-11-09.jsonl', toJsonl([newer]));
    const run = await harness.run({}, { LMS_EXPORT_MODE: 'snapshot' });
    expect(run.counts.read).toBe(1);
    expect((await exportRecords()).map((r) => [r.name, r.status])).toEqual([
      ['daily/2026-11-08.jsonl', 'skipped'],
      ['daily/2026-11-09.jsonl', 'done'],
    ]);
  });

  it('in snapshot mode withdraws what a new complete export no longer holds, and nothing when no new export came', async () => {
    const kept = anEnrollment({ enrollmentId: 'w-1' });
    const dropped = anEnrollment({ enrollmentId: 'w-2', learner: { id: 'u3', upn: 'lee.gu@contoso.example', email: 'lee.gu@contoso.example' } });
    harness.addUsers([kept, dropped]);
    const env = { LMS_EXPORT_MODE: 'snapshot' };
    await blobs.put('daily/2026-11-20.jsonl', toJsonl([kept, dropped]));
    expect((await harness.run({}, env)).counts.created).toBe(2);
    // Nothing new: the listing is not complete, nobody is withdrawn.
    expect((await harness.run({}, env)).counts.deleted).toBe(0);
    await blobs.put('daily/2026-11-21.jsonl', toJsonl([kept]));
    const next = await harness.run({}, env);
    expect(next.counts.deleted).toBe(1);
    expect(harness.standIn.activities().map((a) => a.externalCourseActivityId).join()).not.toContain('w-2');
  });

  it('reads LMS_CATALOG_PATH from a Blob Storage folder: the newest complete catalog export, gzip too', async () => {
    const row = (n: number) => ({ id: `course-${n}`, title: `Course ${n}`, url: `https://lms.example/c/${n}`, updatedAt: '2026-11-01T00:00:00.000Z' });
    await blobs.put('catalog/2026-11-01.jsonl', toJsonl([row(1), row(2)]));
    await blobs.putGzip('catalog/2026-11-02.jsonl.gz', toJsonl([row(1), row(2), row(3)]));
    // Newer still, but not complete yet (an upload in progress): not the catalog of this run.
    await blobs.stage('catalog/2026-11-03.jsonl', toJsonl([row(9)]));
    const summary = await harness.run({}, { LMS_CATALOG_PATH: blobs.url('catalog/') });
    expect(summary.catalog).toMatchObject({ read: 3, created: 3, complete: true });
    expect(harness.standIn.contents().map((c) => c.externalId).sort()).toEqual(['course-1', 'course-2', 'course-3']);
    // An empty folder lists nothing and is not complete: nothing is retired for its absence.
    const empty = await harness.run({}, { LMS_CATALOG_PATH: blobs.url('nothing-here/') });
    expect(empty.catalog).toMatchObject({ read: 0, retired: 0, complete: false });
  });

  it('reads a local .jsonl.gz export, once per change', async () => {
    const e = anEnrollment({ enrollmentId: 'lz-1' });
    harness.addUsers([e]);
    const path = join(harness.dir, 'export.jsonl.gz');
    writeFileSync(path, gzipSync(toJsonl([e])));
    const env = { LMS_FILE_PATH: path };
    expect((await harness.run({}, env)).counts.created).toBe(1);
    expect((await harness.run({}, env)).counts.read).toBe(0);
    expect((await exportRecords()).map((r) => [r.name, r.status])).toEqual([[path, 'done']]);
  });

  it('reads one named blob, and refuses a URL that names neither an export nor a folder', async () => {
    const e = anEnrollment({ enrollmentId: 'n-1' });
    harness.addUsers([e]);
    await blobs.put('one/export.jsonl', toJsonl([e]));
    expect((await harness.run({}, { LMS_FILE_PATH: blobs.url('one/export.jsonl') })).counts.created).toBe(1);
    expect(() => loadConfig({ ...harness.env, LMS_FILE_PATH: blobs.url('one/export.txt') }, { cwd: harness.dir })).toThrow(/LMS_FILE_PATH/);
  });

  it('lists the exports seen (viva-sync exports list) and reads a finished one again on request (exports reprocess)', async () => {
    const e = anEnrollment({ enrollmentId: 'p-1' });
    harness.addUsers([e]);
    await blobs.put('daily/2026-11-10.jsonl', toJsonl([e]));
    await blobs.put('daily/2026-11-11.jsonl.gz', 'not gzip');
    await harness.run();

    const listed = await harness.cli(['exports', 'list', '--json']);
    expect(listed.code).toBe(0);
    const exports = (JSON.parse(listed.stdout) as { exports: ExportRecord[] }).exports;
    expect(exports.map((r) => [r.name, r.status, r.read])).toEqual([
      ['daily/2026-11-10.jsonl', 'done', 1],
      ['daily/2026-11-11.jsonl.gz', 'failed', 0],
    ]);
    const text = await harness.cli(['exports', 'list']);
    expect(text.stdout).toContain('daily/2026-11-10.jsonl  done by run');
    expect(text.stdout).toMatch(/not a readable gzip file/);

    expect((await harness.run()).counts.read).toBe(0);
    const reprocess = await harness.cli(['exports', 'reprocess', 'daily/2026-11-10.jsonl']);
    expect(reprocess.code).toBe(0);
    expect((await exportRecords()).find((r) => r.name === 'daily/2026-11-10.jsonl')?.status).toBe('requeued');
    expect((await harness.run()).counts.read).toBe(1);
    expect((await exportRecords()).find((r) => r.name === 'daily/2026-11-10.jsonl')?.status).toBe('done');

    const unknown = await harness.cli(['exports', 'reprocess', 'daily/nope.jsonl']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no export named/);
  });

  it('resumes an export from the cursor when a run stopped inside it', async () => {
    const records = Array.from({ length: 5 }, (_, i) => anEnrollment({ enrollmentId: `m-${i}`, updatedAt: `2026-11-0${i + 1}T00:00:00.000Z` }));
    harness.addUsers(records);
    await blobs.put('daily/2026-11-12.jsonl', toJsonl(records));
    // Stopped (Ctrl-C, host timeout) once the first page is checkpointed: the run stops inside the export.
    const controller = new AbortController();
    await harness.run({ pageSize: 2, abortSignal: controller.signal, onProgress: (p) => p.pages >= 1 && controller.abort() }).catch(() => undefined);
    expect((await exportRecords()).map((r) => r.status)).toEqual(['reading']);
    const rest = await harness.run({ pageSize: 2 });
    expect(rest.status).toBe('succeeded');
    // Resumed from the cursor (inclusive): not the whole export again.
    expect(rest.counts.read).toBeLessThan(5);
    expect((await exportRecords()).map((r) => r.status)).toEqual(['done']);
    expect(harness.standIn.activities().length).toBe(5);
  });

  it('starts a pass when an export lands (Event Grid), once the blob has settled, and ignores other blobs', async () => {
    const e = anEnrollment({ enrollmentId: 'l-1' });
    harness.addUsers([e]);
    await blobs.put('daily/2026-11-13.jsonl', toJsonl([e]));
    const waits: number[] = [];
    const options = { logger: silentLogger, env: harness.env, appRoot: harness.dir, sleep: (ms: number) => { waits.push(ms); return Promise.resolve(); } };
    const landed = (path: string, eventTime = new Date().toISOString()) => ({ eventType: 'Microsoft.Storage.BlobCreated', eventTime, url: blobs.url(path) });
    expect(await runExportLandedPass(landed('other/2026-11-13.jsonl'), options)).toBeUndefined();
    expect(await runExportLandedPass({ ...landed('daily/2026-11-13.jsonl'), eventType: 'Microsoft.Storage.BlobDeleted' }, options)).toBeUndefined();
    const summary = await runExportLandedPass(landed('daily/2026-11-13.jsonl'), options);
    expect(summary?.status).toBe('succeeded');
    expect(summary?.counts.created).toBe(1);
    expect(waits).toEqual([]);
    // With a settle time, a fresh event (5 s old by this clock) waits for the rest of it before the pass.
    const now = Date.now();
    await runExportLandedPass(landed('daily/2026-11-13.jsonl', new Date(now - 5_000).toISOString()), { ...options, env: { ...harness.env, LMS_EXPORT_SETTLE_SECONDS: '20' }, now: () => now });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBe(15_000);
  });
});
