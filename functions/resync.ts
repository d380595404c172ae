import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { resyncEndpoint } from '../src/webhook/endpoints.js';
import { contextLogger } from './contextLogger.js';

/** Manual re-sync: POST a scope; GET /api/resync/{runId} for the progress of a run. */
export async function resync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return resyncEndpoint(request, { logger: contextLogger(context) });
}

app.http('resync', {
  route: 'resync/{runId?}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'function',
  handler: resync,
});
