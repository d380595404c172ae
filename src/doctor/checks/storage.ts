import { createTableClient, statusCodeOf, tableName } from '../../state/tableClients.js';
import { tableConnectionOf } from '../../state/httpState.js';
import { DOCTOR_TABLE_SUFFIX } from '../../state/doctorStore.js';
import { resultOf, skipped, type DoctorCheck } from '../context.js';

const PROBE_ROW = { partitionKey: 'doctor', rowKey: 'probe' } as const;

/**
 * The state tables with the identity in use: create (the doctor's own table), write, read and
 * delete a probe entity. A managed identity without "Storage Table Data Contributor" fails here.
 */
export const storageCheck: DoctorCheck = {
  id: 'storage',
  title: 'State storage reachable with the identity in use',
  async run(context) {
    const config = context.facts.config;
    if (config === undefined) return skipped(this, 'the settings are invalid');
    const how = config.storage.kind === 'connectionString' ? 'the connection string in AzureWebJobsStorage' : `an Entra identity at ${config.storage.url}`;
    const opts = context.options.abortSignal !== undefined ? { abortSignal: context.options.abortSignal } : {};
    let step = 'create the table';
    try {
      const client = createTableClient(tableConnectionOf(config.storage), tableName(config.tablePrefix, DOCTOR_TABLE_SUFFIX));
      await client.createTable(opts);
      step = 'write a probe entity';
      await client.upsertEntity({ ...PROBE_ROW, at: new Date(context.now()).toISOString() }, 'Replace', opts);
      step = 'read it back';
      await client.getEntity(PROBE_ROW.partitionKey, PROBE_ROW.rowKey, opts);
      step = 'delete it';
      await client.deleteEntity(PROBE_ROW.partitionKey, PROBE_ROW.rowKey, opts);
      return resultOf(this, 'pass', `tables created, written, read and deleted with ${how}`);
    } catch (err) {
      const status = statusCodeOf(err);
      const detail = `could not ${step} with ${how}: ${status !== undefined ? `${status} ` : ''}${firstLine(err)}`;
      const fix =
        status === 403 || status === 401
          ? config.storage.kind === 'endpoint'
            ? 'grant the app\'s identity "Storage Table Data Contributor" and "Storage Queue Data Contributor" on the storage account (infra/app/rbac.bicep does this on `azd provision`; a new grant takes a few minutes)'
            : 'the account key in AzureWebJobsStorage is wrong or rotated: copy the current connection string (portal > storage account > Access keys)'
          : 'check AzureWebJobsStorage (or AzureWebJobsStorage__tableServiceUri) points at a reachable storage account; locally, start Azurite';
      return resultOf(this, 'fail', detail, fix);
    }
  },
};

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
