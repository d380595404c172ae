import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npmStart(): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist/src/sandbox/start.js')], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm start (the sandbox on embedded defaults)', () => {
  // Two whole `npm start`s (Azurite, the stand-in, a sync and the status page each): more than the default minute on a busy machine.
  it('syncs the examples, then finds nothing to change on the second start', { timeout: 240_000 }, () => {
    cpSync(join(repoRoot, 'examples'), join(dir, 'examples'), { recursive: true });
    const first = npmStart();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/read 302, created 294, updated 0, deleted 2, unchanged \d+, failed 4/);
    // examples/catalog.csv: the 25 enrolled courses, 4 that nobody is enrolled in, and one retired.
    expect(first.stdout).toContain('catalog: read 30, content created 29, updated 0, retired 1, unchanged 0, failed 0');
    expect(first.stdout).toContain('Viva Learning stand-in now holds 294 course activities and 30 courses.');
    expect(first.stderr).toContain('progressPercent 140 is outside 0..100');
    expect(existsSync(join(dir, '.sandbox', 'azurite'))).toBe(true);
    // The status page of what just happened, with the run on its chart.
    const reportPath = join(dir, '.sandbox', 'report.html');
    expect(first.stdout).toContain(`Status page: ${reportPath}`);
    expect(readFileSync(reportPath, 'utf8').match(/<g class="run run-/g)).toHaveLength(1);

    const second = npmStart();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/created 0, updated 0, deleted 0, unchanged \d+, failed 0/);
    expect(second.stdout).toContain('catalog: read 30, content created 0, updated 0, retired 0, unchanged 30, failed 0');
    expect(second.stdout).toContain('Nothing to change');
    expect(second.stdout).toContain('294 course activities');
    expect(readFileSync(reportPath, 'utf8').match(/<g class="run run-/g)).toHaveLength(2);
  });
});
