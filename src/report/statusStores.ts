/**
 * Opens what the status report reads (src/sync/status.ts) from settings: the state tables, the
 * webhook records waiting, the quarantine, the shared Graph rate, the last doctor result and, in
 * queue mode, the work queues. For the CLI's `report` and `npm start`; the Function App wires the same from its
 * per-process services (src/webhook/endpoints.ts).
 */
import type { Config } from '../config/loadConfig.js';
import { createDoctorStore } from '../state/doctorStore.js';
import { createHttpState, tableConnectionOf } from '../state/httpState.js';
import { createOutstandingStore } from '../state/outstandingStore.js';
import { createQuarantineStore } from '../state/quarantineStore.js';
import { createQueueClients } from '../state/queueClients.js';
import { createSharedRateStore } from '../state/sharedRateStore.js';
import { hasStatus } from '../state/tableClients.js';
import { createTableState } from '../state/tableState.js';
import type { StateOperationOptions, SyncState } from '../state/types.js';
import type { QueueProbe, StatusStores } from '../sync/status.js';

export async function openStatusStores(config: Config, options: { readonly state?: SyncState } = {}): Promise<StatusStores> {
  const connection = tableConnectionOf(config.storage);
  const tablePrefix = config.tablePrefix;
  const [state, http, quarantine, sharedRate, doctor] = await Promise.all([
    options.state ?? createTableState({ connection, tablePrefix }),
    createHttpState({ connection, tablePrefix }),
    createQuarantineStore({ connection, tablePrefix }),
    createSharedRateStore({ connection, tablePrefix }),
    createDoctorStore({ connection, tablePrefix }),
  ]);
  return { state, pending: http.pending, quarantine, sharedRate, doctor, ...(config.mode === 'queue' ? { queue: await createQueueProbe(config) } : {}) };
}

/** Message counts of the work queues and the open pages of queue mode. */
export async function createQueueProbe(config: Config): Promise<QueueProbe> {
  const queues = createQueueClients(config.storage, config.queueName);
  const outstanding = await createOutstandingStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  const depthOf = async (client: typeof queues.work, options: StateOperationOptions): Promise<number> => {
    try {
      return (await client.getProperties({ abortSignal: options.abortSignal })).approximateMessagesCount ?? 0;
    } catch (err) {
      // A queue that was never created holds nothing.
      if (hasStatus(err, 404)) return 0;
      throw err;
    }
  };
  return {
    depths: async (options = {}) => {
      const [depth, poisonDepth] = await Promise.all([depthOf(queues.work, options), depthOf(queues.poison, options)]);
      return { depth, poisonDepth };
    },
    outstandingPages: async (options = {}) => (await outstanding.listPages(options)).length,
  };
}
