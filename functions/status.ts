import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { statusEndpoint } from '../src/webhook/endpoints.js';
import { contextLogger } from './contextLogger.js';

/** The operator's report: runs, dead letters by reason, quarantine, cursor, lease, throttling. */
export async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return statusEndpoint(request, { logger: contextLogger(context) });
}

// Behind a function (or host) key: it names runs, reasons and settings that a stranger should not read.
app.http('status', {
  route: 'status',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'function',
  handler: status,
});
