import { app } from '@azure/functions';
import type { EventGridEvent, InvocationContext } from '@azure/functions';
import { runExportLandedPass } from '../src/sync/exportLanded.js';
import { contextLogger } from './contextLogger.js';

/**
 * An export landed in Blob Storage (Event Grid, Microsoft.Storage.BlobCreated): start a sync pass
 * under the run lease. An Event Grid trigger, not a blob trigger: a blob trigger hands the whole
 * blob to the worker (an export can be 1 GB), and its webhook needs a key that exists only after
 * the first deployment; this one receives the event alone (README, "Exports in Blob Storage").
 */
export async function exportLanded(event: EventGridEvent, context: InvocationContext): Promise<void> {
  const url = typeof event.data?.['url'] === 'string' ? event.data['url'] : undefined;
  const summary = await runExportLandedPass({ eventType: event.eventType, eventTime: event.eventTime, url }, { logger: contextLogger(context) });
  if (summary !== undefined) context.log(JSON.stringify(summary));
  // Not thrown: Event Grid would deliver the event again and again; the timer retries the pass.
  if (summary?.status === 'failed') context.error(`Sync run ${summary.runId} failed: ${summary.message ?? 'see the log'}`);
}

app.eventGrid('exportLanded', { handler: exportLanded });
