import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import func from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { syncTimer } from '../../functions/syncTimer.js';
import { runCli } from '../../src/cli/main.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness, summaryOf } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('viva-sync (child process)', () => {
  it('exits 3 with the JSON summary last when records were dead-lettered, 0 when all were handled', async () => {
    harness = await SyncHarness.create({}, 'csv');
    harness.writeExport([anEnrollment({ enrollmentId: 'a' }), anEnrollment({ enrollmentId: 'b', learner: { upn: 'former.x@contoso.example', email: 'former.x@contoso.example' } })]);
    const first = await harness.runCli(['sync', '--json']);
    expect(first.code).toBe(3);
    const summary = summaryOf(first);
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['runId', 'status', 'counts', 'cursor', 'durationMs']));
    expect(summary.counts).toMatchObject({ read: 2, created: 1, failed: 1 });
    expect(summary.cursor).toEqual({ before: null, after: '2026-11-01T10:00:00.000Z' });
    expect(first.stderr).toContain('former.x@contoso.example');

    const second = await harness.runCli(['sync', '--json']);
    expect(second.code).toBe(0);
    expect(summaryOf(second).counts).toMatchObject({ created: 0, failed: 0 });

    const status = await harness.runCli(['status', '--json']);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { deadLetters: { count: number; recent: { key: string }[] }; runs: unknown[] };
    expect(report.deadLetters.count).toBe(1);
    expect(report.deadLetters.recent[0]?.key).toBe('b');
    expect(report.runs).toHaveLength(2);
  });

  it('exits 2 naming the setting when settings are missing or contradictory, and never prints a secret', async () => {
    harness = await SyncHarness.create();
    const missing = await harness.runCli(['sync'], { VIVA_PROVIDER_ID: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('VIVA_PROVIDER_ID is required');

    const remote = await harness.runCli(['sync'], { GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_TOKEN: 'tok-should-not-leak' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('GRAPH_AUTH static-token is refused');
    expect(remote.stderr).not.toContain('tok-should-not-leak');

    const usage = await harness.runCli(['sync', '--frobnicate']);
    expect(usage.code).toBe(2);
  });

  it('prints the planned calls on --dry-run', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 'a' })]);
    const dry = await harness.runCli(['sync', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would POST create activity: a');
    expect(harness.standIn.stats().total).toBe(0);
  });
});

describe('runCli in process', () => {
  it('answers help and unknown commands with usage', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) }, env: {}, cwd: mkdtempSync(join(tmpdir(), 'cli-')) };
    expect(await runCli(['help'], io)).toBe(0);
    expect(await runCli(['launch'], io)).toBe(2);
    expect(out.join('')).toContain('unknown command "launch"');
  });
});

describe('the timer function', () => {
  it('runs one sync through the handler Azure calls, with the host timeout as budget', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 't1' }), anEnrollment({ enrollmentId: 't2' })]);
    writeFileSync(join(harness.dir, 'host.json'), JSON.stringify({ version: '2.0', functionTimeout: '00:05:00' }));
    const logs: string[] = [];
    const context = new func.InvocationContext({ invocationId: 'test', functionName: 'syncTimer', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
    const saved = { ...process.env };
    const cwd = process.cwd();
    Object.assign(process.env, harness.env);
    process.chdir(harness.dir);
    try {
      await syncTimer({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context);
    } finally {
      process.chdir(cwd);
      process.env = saved;
    }
    expect(harness.standIn.activities()).toHaveLength(2);
    const summaryLine = logs.find((l) => l.startsWith('{'));
    expect(JSON.parse(summaryLine ?? '{}')).toMatchObject({ status: 'succeeded', counts: { created: 2 } });
  });
});
