import type { TableClient } from '@azure/data-tables';
import { createTableClient, ensureTable, getEntityOrUndefined, readOptionalString, tableName, toWritableEntity, truncateText, type TableConnection } from './tableClients.js';
import type { StateOperationOptions } from './types.js';

/** The doctor's table (its probe entity, and the last result), before the prefix. */
export const DOCTOR_TABLE_SUFFIX = 'Doctor';

const PARTITION_KEY = 'doctor';
const ROW_KEY = 'last';
/** A report is a few kB; the service's limit for a string property is 64 KiB. */
const MAX_REPORT_LENGTH = 30_000;

/** The last `viva-sync doctor` result, as /api/status and `npm start` show it. */
export interface LastDoctorResult {
  readonly verdict: 'green' | 'warnings' | 'blocking';
  readonly checkedAt: string;
  /** One line per check that is not green: "✘ provider: …". */
  readonly summary: string;
  /** The whole report as JSON (DoctorReport), for a page that shows every line. */
  readonly reportJson: string;
}

export interface DoctorStore {
  /** Undefined when the doctor never ran against these tables. */
  get(options?: StateOperationOptions): Promise<LastDoctorResult | undefined>;
  put(result: LastDoctorResult, options?: StateOperationOptions): Promise<void>;
}

export class TableDoctorStore implements DoctorStore {
  readonly #client: TableClient;

  constructor(client: TableClient) {
    this.#client = client;
  }

  async get(options: StateOperationOptions = {}): Promise<LastDoctorResult | undefined> {
    const entity = await getEntityOrUndefined(this.#client, PARTITION_KEY, ROW_KEY, options);
    if (entity === undefined) return undefined;
    const verdict = readOptionalString(entity, 'verdict');
    if (verdict !== 'green' && verdict !== 'warnings' && verdict !== 'blocking') return undefined;
    return { verdict, checkedAt: readOptionalString(entity, 'checkedAt') ?? '', summary: readOptionalString(entity, 'summary') ?? '', reportJson: readOptionalString(entity, 'reportJson') ?? '{}' };
  }

  async put(result: LastDoctorResult, options: StateOperationOptions = {}): Promise<void> {
    const entity = toWritableEntity({
      partitionKey: PARTITION_KEY,
      rowKey: ROW_KEY,
      verdict: result.verdict,
      checkedAt: result.checkedAt,
      summary: truncateText(result.summary, MAX_REPORT_LENGTH),
      reportJson: result.reportJson.length > MAX_REPORT_LENGTH ? '{}' : result.reportJson,
    });
    await this.#client.upsertEntity(entity, 'Replace', { abortSignal: options.abortSignal });
  }
}

export interface DoctorStoreOptions extends StateOperationOptions {
  readonly connection: TableConnection;
  readonly tablePrefix: string;
}

/** Opens (and creates when missing) the doctor's table. */
export async function createDoctorStore(options: DoctorStoreOptions): Promise<TableDoctorStore> {
  const client = createTableClient(options.connection, tableName(options.tablePrefix, DOCTOR_TABLE_SUFFIX));
  await ensureTable(client, options);
  return new TableDoctorStore(client);
}
