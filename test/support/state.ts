import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createTableClient, createTableState } from '../../src/state/index.js';
import type { SyncState, TableConnection } from '../../src/state/index.js';
import type { TableClient } from '@azure/data-tables';

export interface TestState extends SyncState {
  readonly tableNames: string[];
  readonly tablePrefix: string;
  readonly connection: TableConnection;
  /** A raw client on one of this state's tables (by suffix, e.g. 'Ledger'), to inspect what was stored. */
  table(suffix: string): TableClient;
}

/** The shared Azurite of this test run (see globalSetup.ts). */
export function testConnection(): TableConnection {
  return { kind: 'connectionString', connectionString: inject('azuriteConnectionString') };
}

/**
 * A SyncState on the shared Azurite with tables of its own: the prefix is unique per call, so
 * test files running in parallel never see each other's rows.
 */
export async function createTestState(name = 't'): Promise<TestState> {
  // Table names allow letters and digits only; keep the prefix short enough for 'DeadLetters'.
  const label = name.replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
  const tablePrefix = `t${label}${randomBytes(6).toString('hex')}`;
  const connection = testConnection();
  const state = await createTableState({ connection, tablePrefix });
  return { ...state, tablePrefix, connection, table: (suffix) => createTableClient(connection, `${tablePrefix}${suffix}`) };
}
