/**
 * The status report and page over real state (Azurite): GET /api/status answers a browser with
 * the page and a script with JSON, `viva-sync report --out` writes the same page, and the dead
 * letter overview groups, samples and stops at its caps.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { readDeadLetterOverview } from '../../src/report/deadLetterOverview.js';
import { STATUS_PAGE_CSP_HEADER } from '../../src/report/renderStatusPage.js';
import { silentLogger } from '../../src/sync/logger.js';
import type { SyncStatusReport } from '../../src/sync/status.js';
import { statusEndpoint } from '../../src/webhook/endpoints.js';
import { createTestState, type TestState } from '../support/state.js';
import { fixtureEnv, FIXTURE_RUNS, seedStatusFixture } from '../support/statusFixture.js';

let state: TestState;
const dir = mkdtempSync(join(tmpdir(), 'status-page-'));

beforeAll(async () => {
  state = await createTestState('report');
  await seedStatusFixture(state);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function get(accept?: string) {
  const headers = new Headers(accept === undefined ? {} : { accept });
  return statusEndpoint({ method: 'GET', query: new URLSearchParams(), headers }, { logger: silentLogger, env: fixtureEnv(state), cwd: dir });
}

describe('GET /api/status', () => {
  it('gives a browser the page, under a policy that allows its own stylesheet and nothing else', async () => {
    const result = await get('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(result.status).toBe(200);
    expect(result.jsonBody).toBeUndefined();
    expect(result.headers).toMatchObject({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': STATUS_PAGE_CSP_HEADER, Vary: 'Accept' });
    expect(STATUS_PAGE_CSP_HEADER).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; .*frame-ancestors 'none'$/);
    const page = result.body ?? '';
    expect(page.match(/<g class="run /g)).toHaveLength(FIXTURE_RUNS);
    expect(page).toContain('viva-sync quarantine clear');
    expect(page).not.toMatch(/<script|\sstyle=|\son[a-z]+=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('gives a script (or curl, or no Accept) the same report as JSON, with the dead letters grouped by reason', async () => {
    for (const accept of ['application/json', '*/*', undefined]) {
      const result = await get(accept);
      expect(result.status).toBe(200);
      expect(result.body).toBeUndefined();
      const report = result.jsonBody as SyncStatusReport;
      expect(report.status).toBe('failing');
      expect(report.runs).toHaveLength(FIXTURE_RUNS);
      expect(report.runs?.[0]?.graph).toEqual({ requests: 79, retries: 3, throttled: 0 });
      expect(report.graph).toEqual({ runs: FIXTURE_RUNS, requests: 833, retries: 26, throttled: 6 });
      expect(report.doctor).toEqual({ verdict: 'warnings', checkedAt: '2026-12-01T09:00:00.000Z', summary: '! learner resolution: 1 of 5 sample learners has no Entra user' });
      expect(report.queue).toEqual({ mode: 'inline', depth: null, poisonDepth: null, outstandingPages: null });
      expect(report.deadLetters).toMatchObject({ count: 10, complete: true, retryCommand: 'viva-sync deadletters retry --all' });
      expect(report.deadLetters?.byReason).toEqual([
        { reason: 'no Entra user has userPrincipalName …', count: 5 },
        { reason: 'dueAt must be an ISO 8601 date-time', count: 3 },
        { reason: 'Graph refused the activity: Invalid value for assignmentType', count: 2 },
      ]);
      expect(report.deadLetters?.groups[0]).toMatchObject({ kind: 'write', code: 'learnerNotFound', count: 5, retryable: 5, oldestFailedAt: '2026-12-01T07:00:00.000Z' });
      expect(report.deadLetters?.groups[0]?.samples[0]).toEqual({ key: 'e-unknown-0', enrollmentId: 'e-unknown-0', learner: 'u1000', course: 'c-100', position: null });
    }
  });
});

describe('viva-sync report', () => {
  it('writes the page from the state tables and says where', async () => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: fixtureEnv(state), cwd: dir };
    const code = await runCli(['report', '--out', 'out/report.html'], io);
    expect(code, stderr).toBe(0);
    const path = join(dir, 'out', 'report.html');
    expect(stdout).toBe(`Wrote the status page (failing) to ${path}\n`);
    expect(readFileSync(path, 'utf8').match(/<tr class="dl-group">/g)).toHaveLength(3);
  });

  it('refuses to run without --out', async () => {
    let stderr = '';
    const io = { stdout: { write: () => undefined }, stderr: { write: (t: string) => (stderr += t) }, env: fixtureEnv(state), cwd: dir };
    expect(await runCli(['report'], io)).toBe(2);
    expect(stderr).toContain('--out');
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });
});

describe('the dead letter overview', () => {
  it('stops at its cap and says the count is a lower bound', async () => {
    const overview = await readDeadLetterOverview(state.deadLetters, { maxDeadLetters: 4 });
    expect(overview).toMatchObject({ count: 4, complete: false });
    expect(overview.groups.reduce((n, g) => n + g.count, 0)).toBe(4);
  });

  it('reads the samples of the first groups only in full', async () => {
    const overview = await readDeadLetterOverview(state.deadLetters, { sampledGroups: 1 });
    expect(overview.groups[0]?.samples.every((s) => s.learner !== null)).toBe(true);
    expect(overview.groups[1]?.samples.every((s) => s.learner === null && s.course === null)).toBe(true);
  });
});
