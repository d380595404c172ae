import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { Config } from '../config/loadConfig.js';
import { createGraphCredential } from '../graph/credentials.js';
import { gatewayFor, schedulerFor } from '../graph/fromConfig.js';
import { graphScope } from '../graph/graphClient.js';
import { createAdapter } from '../lms/createAdapter.js';
import type { LmsAdapter } from '../lms/types.js';
import type { EnrollmentRecord } from '../mapping/enrollment.js';
import { createExportStore, type ExportStore } from '../state/exportStore.js';
import { createProviderDecisionStore } from '../state/providerDecisionStore.js';
import { createQuarantineStore, type QuarantineStore } from '../state/quarantineStore.js';
import { createStagedDeleteStore, type StagedDeleteStore } from '../state/stagedDeleteStore.js';
import { createTableState } from '../state/tableState.js';
import type { SyncState } from '../state/types.js';
import { TimeBudget } from './budget.js';
import { RecordingGateway, readOnlyCursor, readOnlyState } from './dryRun.js';
import { applyStagedDeletes, newRunId, runSync, syncRecords, type QuarantineGuard, type RunSyncOptions, type SyncDeps } from './engine.js';
import { trackExports } from './exportTracking.js';
import type { Logger } from './logger.js';
import { lookupPolicyOf } from './lookupPolicy.js';
import { openPageSink } from './queue/openQueue.js';
import { catalogHookFor } from './catalog/openCatalog.js';
import { QueueExecutor } from './queue/queueExecutor.js';
import { discardStagedDeletes, type DiscardResult } from './stagedDeletes.js';
import { warmUpReads } from './warmUpReads.js';
import { warmFetch } from '../graph/warmFetch.js';
import type { RunSummary } from './types.js';

export interface OpenSyncOptions {
  readonly logger: Logger;
  /** Folder that relative paths (LMS_FILE_PATH) are resolved against. */
  readonly cwd: string;
  /** Overrides the credential GRAPH_AUTH would build (tests, and the provider CLI). */
  readonly graphCredential?: TokenCredential;
  /** Queue mode: how long a run waits for the workers at its end, and how often it looks (default 5 min, 500 ms). */
  readonly queueWait?: { readonly maxWaitMs?: number; readonly pollMs?: number };
}

export interface SyncRunOptions extends RunSyncOptions {
  readonly dryRun?: boolean;
}

/** The wired-up product: settings in, a `run` that performs one sync pass. */
export interface SyncRunner {
  readonly state: SyncState;
  readonly adapter: LmsAdapter;
  /** The quarantine (docs/operations.md); sync passes skip while it is active. */
  readonly quarantine?: QuarantineStore;
  /** LMS_ADAPTER=file: which exports were read (Blob Storage folders, `.gz` files). */
  readonly exports?: ExportStore;
  /** Deletes a pass held back until it had read every page (src/sync/stagedDeletes.ts). */
  readonly stagedDeletes: StagedDeleteStore;
  run(options?: SyncRunOptions): Promise<RunSummary>;
  /** The single-record path: these records only, same rules, cursor untouched. */
  runRecords(records: readonly EnrollmentRecord[], options?: Omit<SyncRunOptions, 'full'>): Promise<RunSummary>;
  /**
   * Readies what a first request would otherwise wait for, without a Graph request: the Graph
   * token (cached by the runner's one credential) and the storage connection.
   */
  warmUp(options?: { readonly abortSignal?: AbortSignal }): Promise<void>;
  /** `quarantine clear --allow-deletes`: sends the staged deletes now, however many. */
  applyStagedDeletes(options?: Omit<SyncRunOptions, 'full' | 'dryRun'>): Promise<RunSummary>;
  /** `quarantine clear`: forgets the staged deletes and rewinds the cursor to read them again. */
  discardStagedDeletes(): Promise<DiscardResult>;
}

/** The composition root shared by the CLI, the timer function and the sandbox. */
export async function openSync(config: Config, options: OpenSyncOptions): Promise<SyncRunner> {
  const connection =
    config.storage.kind === 'connectionString'
      ? ({ kind: 'connectionString', connectionString: config.storage.connectionString } as const)
      : ({ kind: 'endpoint', url: config.storage.url, credential: storageCredential(config.storage.clientId) } as const);
  const state = await createTableState({ connection, tablePrefix: config.tablePrefix });
  const quarantine = await createQuarantineStore({ connection, tablePrefix: config.tablePrefix });
  const exports = config.lms.adapter === 'file' ? await createExportStore({ connection, tablePrefix: config.tablePrefix }) : undefined;
  const stagedDeletes = await createStagedDeleteStore({ connection, tablePrefix: config.tablePrefix });
  const adapter = createAdapter(config, options.cwd, exports !== undefined ? { seenExports: (root, o) => exports.list(root, o) } : {});
  // SYNC_MODE=queue: this process plans, queue workers write (src/sync/queue).
  const pageSink = config.mode === 'queue' ? await openPageSink(config, options.queueWait) : undefined;
  // One scheduler per process: what it learns of Graph's limits carries over from run to run.
  const scheduler = schedulerFor(config.graph);
  // One credential per runner: it caches its token, so runs after the first do not fetch one.
  const graphCredential = options.graphCredential ?? createGraphCredential(config.graph.auth);
  const lookups = lookupPolicyOf(createProviderDecisionStore({ connection, tablePrefix: config.tablePrefix }), options.logger);

  const throttleLog = everyFewSeconds((count: number, last: { statusCode: number; waitMs: number | undefined; operation: string }) =>
    options.logger.warn('Graph is throttling; slowing down', { responses: count, statusCode: last.statusCode, waitMs: last.waitMs ?? null, operation: last.operation }),
  );
  const depsFor = (dryRun: boolean, runId?: string): SyncDeps => {
    const budget = new TimeBudget(config.timeBudgetSeconds === undefined ? undefined : config.timeBudgetSeconds * 1000);
    // A real pass records which exports it read; a dry run records nothing.
    const tracked = !dryRun && exports !== undefined && runId !== undefined ? trackExports(adapter, exports, runId) : adapter;
    const common = { adapter: tracked, providerId: config.providerId, learnerMatch: config.learnerMatch, logger: options.logger, budget, lookups };
    const catalogFor = (gateway: SyncDeps['gateway'], syncState: SyncState) =>
      catalogHookFor({ scope: config.catalog, adapter, gateway, state: syncState, cursor: dryRun ? readOnlyCursor(state.catalogCursor) : state.catalogCursor, logger: options.logger, budget });
    if (dryRun) {
      const recorder = new RecordingGateway();
      const readOnly = readOnlyState(state);
      return { ...common, gateway: recorder, state: readOnly, dryRun: true, plannedCalls: () => recorder.calls, ...catalogFor(recorder, readOnly) };
    }
    const gateway = gatewayFor(config, scheduler, graphCredential, {
      ...(budget.deadline !== undefined ? { deadline: budget.deadline } : {}),
      onThrottled: throttleLog,
    });
    const guard: QuarantineGuard = {
      failureShare: config.quarantine.failureShare,
      maxDeletes: config.quarantine.maxDeletes,
      onQuarantine: (trigger, message, counts, runId) => quarantine.enter({ trigger, reason: message, runId, counts }),
    };
    return { ...common, gateway, state, gatewayStats: () => gateway.stats, quarantine: guard, stagedDeletes, ...(pageSink !== undefined ? { pages: (runId: string) => new QueueExecutor(pageSink, runId) } : {}), ...catalogFor(gateway, state) };
  };
  // A pass after `quarantine clear --allow-deletes` may delete past the maximum, until one succeeds.
  const run = async (runOptions: SyncRunOptions): Promise<RunSummary> => {
    if (runOptions.dryRun === true) return runSync(depsFor(true), runOptions);
    const runId = runOptions.runId ?? newRunId();
    runOptions = { ...runOptions, runId };
    const deps = depsFor(false, runId);
    const approved = (await quarantine.get(runOptions.abortSignal !== undefined ? { abortSignal: runOptions.abortSignal } : {})).deletesApproved;
    const summary = await runSync(approved && deps.quarantine !== undefined ? { ...deps, quarantine: { ...deps.quarantine, maxDeletes: undefined } } : deps, runOptions);
    if (approved && summary.status === 'succeeded') await quarantine.consumeDeleteApproval();
    return summary;
  };

  return {
    state,
    adapter,
    quarantine,
    ...(exports !== undefined ? { exports } : {}),
    run: (runOptions: SyncRunOptions = {}) => run(runOptions),
    runRecords: (records, runOptions = {}) => syncRecords(depsFor(runOptions.dryRun === true), records, runOptions),
    warmUp: async (warmOptions = {}) => {
      await Promise.all([
        graphCredential.getToken(graphScope(config.graph.baseUrl), warmOptions.abortSignal !== undefined ? { abortSignal: warmOptions.abortSignal } : {}),
        // Reads that open the storage connections (and, with an identity, its token) and run the single-record path's store code once.
        warmUpReads({ state, stagedDeletes, lookups }, warmOptions.abortSignal !== undefined ? { abortSignal: warmOptions.abortSignal } : {}),
        warmFetch(),
      ]);
    },
    stagedDeletes,
    applyStagedDeletes: async (runOptions = {}) => {
      const summary = await applyStagedDeletes(depsFor(false), { trigger: 'quarantine clear --allow-deletes', ...runOptions });
      // Every staged delete went: the approval has served; otherwise the next pass sends the rest under it.
      if (summary.status === 'succeeded') await quarantine.consumeDeleteApproval();
      return summary;
    },
    discardStagedDeletes: () => discardStagedDeletes({ state, store: stagedDeletes, logger: options.logger, runId: newRunId() }),
  };
}

/** Logs the first event at once, then at most one line (with a count) every 10 seconds. */
function everyFewSeconds<T>(log: (count: number, last: T) => void, intervalMs = 10_000): (event: T) => void {
  let count = 0;
  let lastLog = -Infinity;
  return (event) => {
    count += 1;
    if (Date.now() - lastLog < intervalMs) return;
    log(count, event);
    lastLog = Date.now();
    count = 0;
  };
}

function storageCredential(clientId: string | undefined): TokenCredential {
  if (clientId !== undefined) return new ManagedIdentityCredential({ clientId });
  return process.env['WEBSITE_INSTANCE_ID'] !== undefined ? new ManagedIdentityCredential() : new DefaultAzureCredential();
}
