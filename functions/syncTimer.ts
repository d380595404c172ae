import { app } from '@azure/functions';
import type { InvocationContext, Timer } from '@azure/functions';
import { runScheduledSync } from '../src/sync/scheduled.js';
import { contextLogger, redactingErrors } from './contextLogger.js';

/** Scheduled sync: one pass within the time budget; the next tick continues a partial run. */
export async function syncTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const logger = contextLogger(context);
  await redactingErrors(async () => {
    const summary = await runScheduledSync({ logger, trigger: timer.isPastDue ? 'timer (past due)' : 'timer' });
    if (summary !== undefined) logger.info(JSON.stringify(summary));
    if (summary?.status === 'failed') throw new Error(`Sync run ${summary.runId} failed: ${summary.message ?? 'see the log'}`);
  });
}

app.timer('syncTimer', { schedule: '%SYNC_SCHEDULE%', runOnStartup: false, handler: syncTimer });
