import { TableContentStore } from './contentStore.js';
import { CATALOG_CURSOR_ROW, TableCursorStore } from './cursorStore.js';
import { TableDeadLetterStore } from './deadLetterStore.js';
import { TableLearnerCache } from './learnerCache.js';
import { TableLedgerStore } from './ledgerStore.js';
import { TableRunHistory } from './runHistory.js';
import { TableRunLease } from './runLease.js';
import { createTableClient, ensureTable, tableName } from './tableClients.js';
import type { TableConnection } from './tableClients.js';
import type { CursorStore, StateOperationOptions, SyncState } from './types.js';

/** The table behind each store, before the prefix (e.g. `vivasyncLedger`). */
export const TABLE_SUFFIXES = {
  cursor: 'Cursor',
  ledger: 'Ledger',
  contents: 'Contents',
  learners: 'Learners',
  deadLetters: 'DeadLetters',
  runs: 'Runs',
  lease: 'Lease',
} as const satisfies Record<keyof SyncState, string>;

export interface TableStateOptions extends StateOperationOptions {
  readonly connection: TableConnection;
  /** `SYNC_TABLE_PREFIX`: letters and digits, starting with a letter. */
  readonly tablePrefix: string;
}

/**
 * The whole durable state on Table Storage. Creates the tables that are missing (idempotent),
 * so the first run on a new account needs no set-up step.
 */
export async function createTableState(options: TableStateOptions): Promise<SyncState & { tableNames: string[]; catalogCursor: CursorStore }> {
  const client = (store: keyof SyncState) =>
    createTableClient(options.connection, tableName(options.tablePrefix, TABLE_SUFFIXES[store]));
  const clients = {
    cursor: client('cursor'),
    ledger: client('ledger'),
    contents: client('contents'),
    learners: client('learners'),
    deadLetters: client('deadLetters'),
    runs: client('runs'),
    lease: client('lease'),
  };
  await Promise.all(Object.values(clients).map((c) => ensureTable(c, options)));
  return {
    cursor: new TableCursorStore(clients.cursor),
    // The catalog's own cursor: a second row of the cursor table.
    catalogCursor: new TableCursorStore(clients.cursor, { rowKey: CATALOG_CURSOR_ROW }),
    ledger: new TableLedgerStore(clients.ledger),
    contents: new TableContentStore(clients.contents),
    learners: new TableLearnerCache(clients.learners),
    deadLetters: new TableDeadLetterStore(clients.deadLetters),
    runs: new TableRunHistory(clients.runs),
    lease: new TableRunLease(clients.lease),
    tableNames: Object.values(clients).map((c) => c.tableName),
  };
}
