import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/sync/logger.js';
import { runScheduledSync } from '../../src/sync/scheduled.js';
import { healthEndpoint } from '../../src/webhook/endpoints.js';
import { anEnrollment } from '../support/builders.js';
import { apiSyncHarness } from '../support/restLmsHarness.js';
import { lastJsonLine, SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function health(h: SyncHarness): Promise<Record<string, unknown>> {
  const result = await healthEndpoint({ method: 'GET', query: new URLSearchParams() }, { logger: silentLogger, env: h.env, cwd: h.dir, healthCacheMs: 0 });
  return { httpStatus: result.status, ...(result.jsonBody as Record<string, unknown>) };
}

type Runs = { runId: string; status: string; trigger: string; message?: string }[];

describe('a pass that throws is recorded as failed', () => {
  it('an unreachable LMS: the timer invocation fails, the run is `failed` with a one-line reason without the token, and health is failing', async () => {
    // Nothing listens on port 9 (discard) of the loopback: every request is refused.
    harness = await apiSyncHarness('canvas', 'http://127.0.0.1:9', 'sEcReT-canvas-token-123');
    const h = harness;
    await expect(runScheduledSync({ logger: silentLogger, trigger: 'timer', env: h.env, appRoot: h.dir })).rejects.toThrow();

    const runs = lastJsonLine((await h.cli(['runs', '--json'])).stdout)['runs'] as Runs;
    expect(runs[0]).toMatchObject({ trigger: 'timer', status: 'failed' });
    const message = runs[0]?.message ?? '';
    expect(message).not.toBe('');
    expect(message).not.toContain('\n');
    expect(message).not.toContain('sEcReT');
    expect((await h.cli(['runs'])).stdout).toMatch(/\(timer\) failed/);
    expect((await h.cli(['status'])).stdout).toMatch(/ failed: .* — /);
    expect(await health(h)).toMatchObject({ httpStatus: 503, status: 'failing' });
  });

  it('a `running` row whose run holds no lease is shown as abandoned, and health is failing', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([anEnrollment()]);
    const state = await h.state();
    // What a process killed mid-pass leaves: the row it wrote at its start, and a lease that expires.
    await state.runs.put({ runId: 'r-killed', trigger: 'timer', status: 'running', startedAt: new Date(Date.now() - 60_000).toISOString(), counts: { read: 0, created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 } });
    const runs = lastJsonLine((await h.cli(['runs', '--json'])).stdout)['runs'] as Runs;
    expect(runs[0]).toMatchObject({ runId: 'r-killed', status: 'abandoned' });
    expect((lastJsonLine((await h.cli(['status', '--json'])).stdout)['runs'] as Runs)[0]).toMatchObject({ status: 'abandoned' });
    expect(await health(h)).toMatchObject({ status: 'failing' });

    // While its lease is live it is still running.
    const lease = await state.lease.tryAcquire('r-killed', 60_000, { holder: 'timer on test-host pid 1' });
    expect((lastJsonLine((await h.cli(['runs', '--json'])).stdout)['runs'] as Runs)[0]).toMatchObject({ status: 'running' });
    await lease?.release();
  });
});

describe('the run lease', () => {
  it('a SIGKILLed CLI run blocks the next one for seconds, not minutes; status names the holder meanwhile', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport(Array.from({ length: 30 }, (_, i) => anEnrollment({ enrollmentId: `e${i}`, learner: { id: `u${i % 4}`, upn: `p${i % 4}@contoso.example` }, updatedAt: `2026-11-01T10:${String(i).padStart(2, '0')}:00.000Z` })));
    let kill: (() => void) | undefined;
    let writes = 0;
    h.standIn.setOptions({ faults: { decide: ({ method, path }) => (method === 'POST' && path.includes('/learningCourseActivities') && ++writes === 3 ? (kill?.(), undefined) : undefined) } });
    const killed = await h.runCli(['sync', '--json'], {}, (k) => (kill = k));
    expect(killed.signal).toBe('SIGKILL');
    h.standIn.setOptions({ faults: {} });
    const killedAt = Date.now();

    const status = (await h.cli(['status'])).stdout;
    expect(status).toMatch(/Run lease: held by run \S+ \(cli on \S+ pid \d+\) until /);
    const refused = await h.cli(['sync', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds the run lease until/);
    expect(refused.stderr).toMatch(/cli on \S+ pid \d+/);

    // The lease expires within its 15 s TTL of the last renewal; poll as an operator would.
    let resumed = await h.cli(['sync', '--json']);
    while (resumed.code === 1 && /holds the run lease/.test(resumed.stderr) && Date.now() - killedAt < 30_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      resumed = await h.cli(['sync', '--json']);
    }
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(h.activitiesByExternalId().size).toBe(30);
    const runs = lastJsonLine((await h.cli(['runs', '--json'])).stdout)['runs'] as Runs;
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'abandoned']);
  }, 60_000);
});

