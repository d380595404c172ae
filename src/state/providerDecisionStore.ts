import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { encodeKey } from './keys.js';
import { LEDGER_EPOCH_PARTITION } from './ledgerStore.js';
import { createTableClient, ensureTable, getEntityOrUndefined, hasStatus, readEnum, readString, tableName, toWritableEntity, type TableConnection } from './tableClients.js';
import { TABLE_SUFFIXES } from './tableState.js';
import type { StateOperationOptions } from './types.js';

/*
 * The ledger's epoch lives in the ledger table itself (a partition no ledger row uses), so a
 * ledger table that is deleted, recreated or replaced has no epoch, or another one.
 */
const LEDGER_EPOCH_ROW = 'ledger';
/** The decisions live beside the cursor (one row per provider). */
const DECISION_PARTITION = 'providerNew';

/** Who recorded that the provider was new. */
export type ProviderDecisionSource = 'provider register' | 'provider mark-new';
const SOURCES: readonly ProviderDecisionSource[] = ['provider register', 'provider mark-new'];

/**
 * "This learning provider held no activities when the ledger of epoch `ledgerEpoch` was
 * started": every activity of the provider since then was written by this connector and
 * recorded in that ledger, so a create needs no lookup first.
 */
export interface ProviderNewDecision {
  readonly providerId: string;
  readonly ledgerEpoch: string;
  readonly decidedAt: string;
  readonly decidedBy: ProviderDecisionSource;
}

export interface ProviderDecisionStore {
  /** The decision recorded for this provider, whether or not it still applies. */
  get(providerId: string, options?: StateOperationOptions): Promise<ProviderNewDecision | undefined>;
  /** The current ledger's epoch; undefined while none was ever started for it. */
  ledgerEpoch(options?: StateOperationOptions): Promise<string | undefined>;
  /** The current ledger's epoch, started now if it has none. */
  ensureLedgerEpoch(options?: StateOperationOptions): Promise<string>;
  /** Records the decision against the current ledger (starting its epoch if it has none). */
  record(providerId: string, decidedBy: ProviderDecisionSource, options?: StateOperationOptions): Promise<ProviderNewDecision>;
  /** Withdraws the decision; false when there was none. */
  withdraw(providerId: string, options?: StateOperationOptions): Promise<boolean>;
}

/** The decisions in the cursor table, the epoch in the ledger table (src/sync/lookupPolicy.ts reads both). */
export class TableProviderDecisionStore implements ProviderDecisionStore {
  readonly #decisions: TableClient;
  readonly #ledger: TableClient;
  readonly #now: () => Date;

  constructor(clients: { readonly cursorTable: TableClient; readonly ledgerTable: TableClient }, options: { readonly now?: () => Date } = {}) {
    this.#decisions = clients.cursorTable;
    this.#ledger = clients.ledgerTable;
    this.#now = options.now ?? (() => new Date());
  }

  async get(providerId: string, options: StateOperationOptions = {}): Promise<ProviderNewDecision | undefined> {
    const entity = await getEntityOrUndefined(this.#decisions, DECISION_PARTITION, encodeKey(providerId), options);
    if (entity === undefined) return undefined;
    return {
      providerId: readString(entity, 'providerId'),
      ledgerEpoch: readString(entity, 'ledgerEpoch'),
      decidedAt: readString(entity, 'decidedAt'),
      decidedBy: readEnum(entity, 'decidedBy', SOURCES),
    };
  }

  async ledgerEpoch(options: StateOperationOptions = {}): Promise<string | undefined> {
    const entity = await getEntityOrUndefined(this.#ledger, LEDGER_EPOCH_PARTITION, LEDGER_EPOCH_ROW, options);
    return entity === undefined ? undefined : readString(entity, 'epoch');
  }

  async record(providerId: string, decidedBy: ProviderDecisionSource, options: StateOperationOptions = {}): Promise<ProviderNewDecision> {
    await Promise.all([ensureTable(this.#decisions, options), ensureTable(this.#ledger, options)]);
    const decision: ProviderNewDecision = { providerId, ledgerEpoch: await this.ensureLedgerEpoch(options), decidedAt: this.#now().toISOString(), decidedBy };
    await this.#decisions.upsertEntity(toWritableEntity({ partitionKey: DECISION_PARTITION, rowKey: encodeKey(providerId), ...decision }), 'Replace', { abortSignal: options.abortSignal });
    return decision;
  }

  async withdraw(providerId: string, options: StateOperationOptions = {}): Promise<boolean> {
    try {
      await this.#decisions.deleteEntity(DECISION_PARTITION, encodeKey(providerId), { abortSignal: options.abortSignal });
      return true;
    } catch (err) {
      if (hasStatus(err, 404)) return false;
      throw err;
    }
  }

  /** The ledger's epoch, created once: two operators racing both get the one that was stored. */
  async ensureLedgerEpoch(options: StateOperationOptions = {}): Promise<string> {
    const existing = await this.ledgerEpoch(options);
    if (existing !== undefined) return existing;
    const epoch = randomUUID();
    try {
      await this.#ledger.createEntity(toWritableEntity({ partitionKey: LEDGER_EPOCH_PARTITION, rowKey: LEDGER_EPOCH_ROW, epoch, startedAt: this.#now().toISOString() }), { abortSignal: options.abortSignal });
      return epoch;
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
      return (await this.ledgerEpoch(options)) ?? epoch;
    }
  }
}

/** The store over the engine's tables for these settings (no request is sent until it is used). */
export function createProviderDecisionStore(options: { readonly connection: TableConnection; readonly tablePrefix: string }): ProviderDecisionStore {
  return new TableProviderDecisionStore({
    cursorTable: createTableClient(options.connection, tableName(options.tablePrefix, TABLE_SUFFIXES.cursor)),
    ledgerTable: createTableClient(options.connection, tableName(options.tablePrefix, TABLE_SUFFIXES.ledger)),
  });
}
