/**
 * The tenant capacity (at most 500,000 active and 1,000,000 learning items) in the operator's
 * status report, its page and `viva-sync status`, counted from the Contents table on Azurite.
 * The limits are lowered through the readers' option so that "near the limit" takes a few rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { formatStatus, readStatus as readCliStatus } from '../../src/cli/status.js';
import { renderStatusPage } from '../../src/report/renderStatusPage.js';
import { openStatusStores } from '../../src/report/statusStores.js';
import type { CapacityLimits } from '../../src/sync/catalog/capacity.js';
import { silentLogger } from '../../src/sync/logger.js';
import { readStatus, type SyncStatusReport } from '../../src/sync/status.js';
import type { ContentEntry } from '../../src/state/types.js';
import { createTestState, type TestState } from '../support/state.js';
import { fixtureConfig, fixtureEnv } from '../support/statusFixture.js';

/** Warnings start at 8 active or 16 in all. */
const LIMITS: CapacityLimits = { maxActive: 10, maxTotal: 20 };
const dir = mkdtempSync(join(tmpdir(), 'status-capacity-'));
// The file adapter's export must exist for the settings to load; status does not read it.
writeFileSync(join(dir, 'export.jsonl'), '');
let near: TestState;
let below: TestState;

/** `catalog` active catalog courses, one retired course, and `enrolled` contents written from enrollments. */
async function seed(state: TestState, counts: { readonly catalog: number; readonly enrolled: number }): Promise<void> {
  const entry = (id: string, extra: Partial<ContentEntry> = {}): ContentEntry => ({ externalId: id, vivaId: `viva-${id}`, fingerprint: `fp-${id}`, ...extra });
  await state.contents.putMany([
    ...Array.from({ length: counts.catalog }, (_, i) => entry(`c${i}`, { origin: 'catalog', body: '{}' })),
    entry('c-retired', { origin: 'catalog', active: false, body: '{}' }),
    ...Array.from({ length: counts.enrolled }, (_, i) => entry(`e${i}`)),
  ]);
}

beforeAll(async () => {
  [near, below] = await Promise.all([createTestState('capnear'), createTestState('capbelow')]);
  // 5 catalog + 3 enrollment contents = 8 active of 10 (80%); 6 + 1 = 7 active of 10 (70%), 8 of 20 in all.
  await Promise.all([seed(near, { catalog: 5, enrolled: 3 }), seed(below, { catalog: 6, enrolled: 1 })]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(state: TestState): Promise<SyncStatusReport> {
  return readStatus({ config: () => fixtureConfig(state), stores: (config) => openStatusStores(config, { state }) }, { logger: silentLogger, capacityLimits: LIMITS });
}

describe('the status report and page (GET /api/status, viva-sync report)', () => {
  it('near a limit: the JSON carries the counts and a warning, and the page shows it in the catalog section', async () => {
    const status = JSON.parse(JSON.stringify(await report(near))) as SyncStatusReport;
    expect(status.catalog).toEqual({ active: 5, retired: 1 });
    expect(status.capacity).toMatchObject({ active: 8, total: 9, maxActive: 10, maxTotal: 20 });
    expect(status.capacity?.warning).toBe('this provider has written 8 active learning items of the tenant limit of 10 (80% or more): retire courses no longer needed, or ask Microsoft about the limit');
    const page = renderStatusPage(status);
    const catalog = page.slice(page.indexOf('<h2>Course catalog</h2>'));
    expect(catalog).toContain('<div class="card alert" id="catalog">');
    expect(catalog).toContain('<dt>Viva Learning items of this provider</dt><dd>8 active of 10, 9 in all of 20</dd>');
    expect(catalog).toContain('<p class="capacity-warning"><strong>Warning:</strong> this provider has written 8 active learning items of the tenant limit of 10');
  });

  it('below both limits: the counts without a warning', async () => {
    const status = JSON.parse(JSON.stringify(await report(below))) as SyncStatusReport;
    expect(status.capacity).toEqual({ active: 7, total: 8, maxActive: 10, maxTotal: 20 });
    const page = renderStatusPage(status);
    expect(page).toContain('<dt>Viva Learning items of this provider</dt><dd>7 active of 10, 8 in all of 20</dd>');
    expect(page).toContain('<div class="card" id="catalog">');
    expect(page).not.toContain('capacity-warning');
  });
});

describe('viva-sync status', () => {
  it('near a limit: a WARNING line in the text, the warning in the JSON', async () => {
    const status = await readCliStatus(near, undefined, { capacityLimits: LIMITS });
    expect(status.capacity.warning).toMatch(/^this provider has written 8 active learning items of the tenant limit of 10 /);
    const text = formatStatus(status);
    expect(text).toContain('Viva Learning items of this provider: 8 active of 10, 9 in all of 20\nWARNING: this provider has written 8 active learning items');
  });

  it('below both limits: the counts and no warning', async () => {
    const text = formatStatus(await readCliStatus(below, undefined, { capacityLimits: LIMITS }));
    expect(text).toContain('Viva Learning items of this provider: 7 active of 10, 8 in all of 20\n');
    expect(text).not.toContain('WARNING');
  });

  it('--json counts against the tenant limits', async () => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: fixtureEnv(near), cwd: dir };
    expect(await runCli(['status', '--json'], io), stderr).toBe(0);
    expect((JSON.parse(stdout) as { capacity: unknown }).capacity).toEqual({ active: 8, total: 9, maxActive: 500_000, maxTotal: 1_000_000 });
  });
});
