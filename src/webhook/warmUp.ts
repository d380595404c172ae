import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/loadConfig.js';
import type { Logger } from '../sync/logger.js';
import { withSyncServices } from '../sync/singleRecord.js';
import { rehearseDelivery } from './rehearsal.js';

export interface WarmUpOptions {
  readonly logger: Logger;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The app root (local.settings.json); default the working directory. */
  readonly cwd?: string;
  readonly abortSignal?: AbortSignal;
}

/**
 * At start-up (the host's appStart hook, never a module's top level): opens what the first
 * webhook would otherwise wait for, in the per-process cache the endpoints use: the settings,
 * the state tables (created when missing) over kept-alive connections, the webhook runner and
 * its Graph token, the reads of the single-record path (src/sync/warmUpReads.ts) and its pure
 * steps on a made-up delivery (./rehearsal.ts). Sends no Graph request and writes no row. Never
 * throws: a failure is logged, and the first request opens what is missing as it always did.
 */
export async function warmUpEndpoints(options: WarmUpOptions): Promise<boolean> {
  const started = Date.now();
  try {
    const config = loadConfig(options.env ?? process.env, { cwd: options.cwd ?? process.cwd() });
    const opened = withSyncServices(config, { cwd: options.cwd ?? process.cwd(), logger: options.logger }, async (services) => {
      const runner = await services.runner('webhook');
      await Promise.all([runner.warmUp(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}), services.state()]);
    });
    opened.catch(() => undefined); // awaited below; reported there
    // Pure computation, done while the storage answers.
    const rehearsed = rehearseDelivery({ learnerMatch: config.learnerMatch, providerId: config.providerId });
    await opened;
    options.logger.info('Warmed up for the first webhook', { durationMs: Date.now() - started, rehearsed });
    return true;
  } catch (err) {
    // Unset settings are reported by the first request (503 naming them); anything else is worth a line.
    if (isConfigError(err)) options.logger.warn('Not warmed up: the settings are incomplete', { problems: err.problems.map((p) => p.setting).join(', ') });
    else options.logger.warn('Not warmed up', { reason: err instanceof Error ? err.message : String(err) });
    return false;
  }
}
