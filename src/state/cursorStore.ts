import type { TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, hasStatus, readBoolean, readNumber, readOptionalString, toWritableEntity } from './tableClients.js';
import { CursorConflictError } from './types.js';
import type { CursorRecord, CursorStore, CursorUpdate, StateOperationOptions } from './types.js';

const PARTITION_KEY = 'cursor';
/** The enrollments' cursor; the catalog keeps its own row (CATALOG_CURSOR_ROW) in the same table. */
const ROW_KEY = 'sync';
export const CATALOG_CURSOR_ROW = 'catalog';

/**
 * The sync cursor as one entity with flat primitive fields. Every save is conditional on the
 * ETag that was read, so two overlapping runs cannot both advance it.
 */
export class TableCursorStore implements CursorStore {
  readonly #client: TableClient;
  readonly #now: () => Date;
  readonly #rowKey: string;

  constructor(client: TableClient, options: { readonly now?: () => Date; readonly rowKey?: string } = {}) {
    this.#client = client;
    this.#now = options.now ?? (() => new Date());
    this.#rowKey = options.rowKey ?? ROW_KEY;
  }

  async get(options: StateOperationOptions = {}): Promise<CursorRecord> {
    const entity = await getEntityOrUndefined(this.#client, PARTITION_KEY, this.#rowKey, options);
    if (entity === undefined) {
      return { version: 1, value: undefined, ledgerComplete: false, runId: undefined, savedAt: undefined, etag: undefined };
    }
    const version = readNumber(entity, 'version');
    if (version !== 1) throw new Error(`The stored sync cursor has version ${version}; this build reads version 1 only.`);
    return {
      version,
      value: readOptionalString(entity, 'value'),
      ledgerComplete: readBoolean(entity, 'ledgerComplete'),
      ledgerEpoch: readOptionalString(entity, 'ledgerEpoch'),
      runId: readOptionalString(entity, 'runId'),
      savedAt: readOptionalString(entity, 'savedAt'),
      etag: entity.etag,
    };
  }

  async save(update: CursorUpdate, expectedEtag: string | undefined, options: StateOperationOptions = {}): Promise<string> {
    const entity = toWritableEntity({
      partitionKey: PARTITION_KEY,
      rowKey: this.#rowKey,
      version: 1,
      value: update.value,
      ledgerComplete: update.ledgerComplete,
      ledgerEpoch: update.ledgerComplete ? update.ledgerEpoch : undefined,
      runId: update.runId,
      savedAt: this.#now().toISOString(),
    });
    try {
      // No ETag means "only if none exists": create, which fails with 409 if another run got there first.
      const response =
        expectedEtag === undefined
          ? await this.#client.createEntity(entity, { abortSignal: options.abortSignal })
          : await this.#client.updateEntity(entity, 'Replace', { etag: expectedEtag, abortSignal: options.abortSignal });
      if (response.etag === undefined) throw new Error('Table Storage returned no ETag for the saved cursor.');
      return response.etag;
    } catch (err) {
      // 409: created meanwhile; 412: changed meanwhile; 404: deleted meanwhile (the ETag cannot match).
      if (hasStatus(err, 409, 412, 404)) throw new CursorConflictError();
      throw err;
    }
  }
}
