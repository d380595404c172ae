import type { TableClient } from '@azure/data-tables';
import {
  createTableClient,
  ensureTable,
  getEntityOrUndefined,
  readBoolean,
  readEnum,
  readNumber,
  readOptionalString,
  tableName,
  toWritableEntity,
  truncateText,
  type StoredEntity,
  type TableConnection,
} from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** The quarantine's table, beside the engine's (`SyncState`) and the HTTP endpoints' (`HttpState`), before the prefix. */
export const QUARANTINE_TABLE_SUFFIX = 'Quarantine';

const PARTITION_KEY = 'quarantine';
const ROW_KEY = 'sync';
const MAX_REASON_LENGTH = 4_000;

/** What tripped the quarantine: too many failed writes, or too many deletes in one run. */
export type QuarantineTrigger = 'failureShare' | 'deletes';
const TRIGGERS: readonly QuarantineTrigger[] = ['failureShare', 'deletes'];

/** The run's numbers when it was stopped. */
export interface QuarantineCounts {
  /** Writes the run attempted (created, updated, deleted or failed). */
  readonly attempted: number;
  readonly failed: number;
  /** Deletes done, plus those the stopped page would have done. */
  readonly deletes: number;
}

/** Like Microsoft Entra provisioning's quarantine: the sync stops until an operator clears it. */
export interface Quarantine {
  readonly active: boolean;
  readonly trigger?: QuarantineTrigger;
  readonly reason?: string;
  readonly since?: string;
  readonly runId?: string;
  readonly counts?: QuarantineCounts;
  readonly clearedAt?: string;
  /** Set by `quarantine clear --allow-deletes`: the next pass may delete past SYNC_QUARANTINE_MAX_DELETES. */
  readonly deletesApproved: boolean;
}

export interface QuarantineEntry {
  readonly trigger: QuarantineTrigger;
  readonly reason: string;
  readonly runId: string;
  readonly counts: QuarantineCounts;
}

export interface QuarantineStore {
  /** The current state; inactive when nothing was ever stored. */
  get(options?: StateOperationOptions): Promise<Quarantine>;
  /** Quarantines the sync (and withdraws any approval of deletes). */
  enter(entry: QuarantineEntry, options?: StateOperationOptions): Promise<void>;
  /** Lifts the quarantine; `allowDeletes` lets the next pass delete past the maximum once. Returns what was cleared. */
  clear(clearOptions?: { readonly allowDeletes?: boolean }, options?: StateOperationOptions): Promise<Quarantine>;
  /** Withdraws the approval of deletes once a pass used it. */
  consumeDeleteApproval(options?: StateOperationOptions): Promise<void>;
}

/** One entity holds the quarantine of this connector's tables. */
export class TableQuarantineStore implements QuarantineStore {
  readonly #client: TableClient;
  readonly #now: () => Date;

  constructor(client: TableClient, options: { readonly now?: () => Date } = {}) {
    this.#client = client;
    this.#now = options.now ?? (() => new Date());
  }

  async get(options: StateOperationOptions = {}): Promise<Quarantine> {
    const entity = await getEntityOrUndefined(this.#client, PARTITION_KEY, ROW_KEY, options);
    return entity === undefined ? { active: false, deletesApproved: false } : fromEntity(entity);
  }

  async enter(entry: QuarantineEntry, options: StateOperationOptions = {}): Promise<void> {
    await this.#put(
      {
        active: true,
        trigger: entry.trigger,
        reason: truncateText(entry.reason, MAX_REASON_LENGTH),
        since: this.#now().toISOString(),
        runId: entry.runId,
        countAttempted: entry.counts.attempted,
        countFailed: entry.counts.failed,
        countDeletes: entry.counts.deletes,
        deletesApproved: false,
      },
      options,
    );
  }

  async clear(clearOptions: { readonly allowDeletes?: boolean } = {}, options: StateOperationOptions = {}): Promise<Quarantine> {
    const current = await this.get(options);
    const cleared: Quarantine = { ...current, active: false, clearedAt: this.#now().toISOString(), deletesApproved: clearOptions.allowDeletes === true };
    await this.#put(toProperties(cleared), options);
    return cleared;
  }

  async consumeDeleteApproval(options: StateOperationOptions = {}): Promise<void> {
    const current = await this.get(options);
    if (!current.deletesApproved) return;
    await this.#put(toProperties({ ...current, deletesApproved: false }), options);
  }

  async #put(properties: Record<string, string | number | boolean | undefined>, options: StateOperationOptions): Promise<void> {
    const entity = toWritableEntity({ partitionKey: PARTITION_KEY, rowKey: ROW_KEY, ...properties });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }
}

function toProperties(q: Quarantine): Record<string, string | number | boolean | undefined> {
  return {
    active: q.active,
    trigger: q.trigger,
    reason: q.reason,
    since: q.since,
    runId: q.runId,
    countAttempted: q.counts?.attempted,
    countFailed: q.counts?.failed,
    countDeletes: q.counts?.deletes,
    clearedAt: q.clearedAt,
    deletesApproved: q.deletesApproved,
  };
}

function fromEntity(entity: StoredEntity): Quarantine {
  const q: { -readonly [K in keyof Quarantine]: Quarantine[K] } = { active: readBoolean(entity, 'active'), deletesApproved: readBoolean(entity, 'deletesApproved') };
  if (entity['trigger'] !== undefined) q.trigger = readEnum(entity, 'trigger', TRIGGERS);
  for (const name of ['reason', 'since', 'runId', 'clearedAt'] as const) {
    const value = readOptionalString(entity, name);
    if (value !== undefined) q[name] = value;
  }
  if (entity['countAttempted'] !== undefined) {
    q.counts = { attempted: readNumber(entity, 'countAttempted'), failed: readNumber(entity, 'countFailed'), deletes: readNumber(entity, 'countDeletes') };
  }
  return q;
}

export interface QuarantineStoreOptions extends StateOperationOptions {
  readonly connection: TableConnection;
  readonly tablePrefix: string;
}

/** Opens (and creates when missing) the quarantine table. */
export async function createQuarantineStore(options: QuarantineStoreOptions): Promise<TableQuarantineStore> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, QUARANTINE_TABLE_SUFFIX));
  await ensureTable(client, options);
  return new TableQuarantineStore(client);
}
