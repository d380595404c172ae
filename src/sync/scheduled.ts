import { readHostTimeoutSeconds } from '../config/hostTimeout.js';
import { loadConfig } from '../config/loadConfig.js';
import { createHttpState, tableConnectionOf } from '../state/httpState.js';
import { RunInProgressError } from './engine.js';
import type { Logger } from './logger.js';
import { openSync } from './openSync.js';
import { runSyncPass } from './pending.js';
import type { RunSummary } from './types.js';

export interface ScheduledSyncOptions {
  readonly logger: Logger;
  readonly trigger: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The Functions app root (host.json lives there); default the working directory. */
  readonly appRoot?: string;
  readonly abortSignal?: AbortSignal;
}

/** The drain of queued webhook records after a pass gets its own, short budget. */
const DRAIN_BUDGET_SECONDS = 60;

/**
 * The timer's one call: a sync pass within a budget taken from host.json's functionTimeout,
 * with the work the HTTP endpoints queued around it (re-sync requests, webhook records).
 * A run that finds another in progress logs it and ends: the next tick tries again.
 */
export async function runScheduledSync(options: ScheduledSyncOptions): Promise<RunSummary | undefined> {
  const appRoot = options.appRoot ?? process.cwd();
  const config = loadConfig(options.env ?? process.env, { cwd: appRoot, hostTimeoutSeconds: readHostTimeoutSeconds(appRoot) });
  const runner = await openSync(config, { logger: options.logger, cwd: appRoot });
  const queues = await createHttpState({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  try {
    return await runSyncPass(runner, queues, {
      logger: options.logger,
      run: { trigger: options.trigger, ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}) },
      drainRunner: () => openSync({ ...config, timeBudgetSeconds: DRAIN_BUDGET_SECONDS }, { logger: options.logger, cwd: appRoot }),
    });
  } catch (err) {
    if (err instanceof RunInProgressError) {
      options.logger.warn(err.message);
      return undefined;
    }
    throw err;
  }
}
