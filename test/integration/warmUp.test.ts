import { TableServiceClient } from '@azure/data-tables';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger, type LogFields } from '../../src/sync/logger.js';
import { warmUpEndpoints } from '../../src/webhook/warmUp.js';
import { recordStorageRequests } from '../support/storageRequests.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function tablesWithPrefix(prefix: string): Promise<string[]> {
  const service = TableServiceClient.fromConnectionString(inject('azuriteConnectionString'), { allowInsecureConnection: true });
  const names: string[] = [];
  for await (const table of service.listTables()) if (table.name?.startsWith(prefix) === true) names.push(table.name);
  return names.sort();
}

describe('start-up warm-up for the first webhook', () => {
  it('opens the state tables and the webhook runner before any request, without a Graph request', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([]);
    const prefix = h.env.SYNC_TABLE_PREFIX ?? '';
    expect(await tablesWithPrefix(prefix)).toEqual([]);
    const lines: string[] = [];
    const logger = { info: (m: string, _f?: LogFields) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };

    expect(await warmUpEndpoints({ logger, env: h.env, cwd: h.dir })).toBe(true);
    const tables = await tablesWithPrefix(prefix);
    expect(tables).toContain(`${prefix}Ledger`);
    expect(tables).toContain(`${prefix}Pending`);
    expect(tables).toContain(`${prefix}WebhookIds`);
    expect(h.standIn.requests()).toEqual([]);
    expect(lines).toContain('Warmed up for the first webhook');
  });

  it("reads each store the first webhook reads before Graph (its code and connections then warm), and writes nothing", async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([]);
    const recorder = recordStorageRequests(h.env.SYNC_TABLE_PREFIX ?? '');
    try {
      expect(await warmUpEndpoints({ logger: silentLogger, env: h.env, cwd: h.dir })).toBe(true);
    } finally {
      recorder.stop();
    }
    // Reads only: no lease taken, no run recorded, no row written (table creation is not a row).
    expect(recorder.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const tablesRead = new Set(recorder.requests.map((r) => /^[A-Za-z]+/.exec(r.path)?.[0]));
    for (const table of ['Cursor', 'Lease', 'Ledger', 'DeadLetters', 'StagedDeletes', 'Contents', 'Learners']) expect(tablesRead).toContain(table);
    expect(h.standIn.requests()).toEqual([]);
  });

  it('never throws: incomplete settings are a log line, and the first request reports them', async () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string, f?: LogFields) => lines.push(`${m} ${String(f?.['problems'])}`), error: (m: string) => lines.push(m) };
    expect(await warmUpEndpoints({ logger, env: {}, cwd: '/nonexistent' })).toBe(false);
    expect(lines.join('\n')).toMatch(/Not warmed up: the settings are incomplete .*VIVA_PROVIDER_ID/);
  });
});
