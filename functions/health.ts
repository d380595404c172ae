import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { healthEndpoint } from '../src/webhook/endpoints.js';
import { contextLogger } from './contextLogger.js';

/** Health for probes: `{ status, lastSuccessAgeSeconds }` only; the details are behind the key (GET /api/status). */
export async function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return healthEndpoint(request, { logger: contextLogger(context) });
}

// Anonymous so that platform health probes can call it; it says one word and one number.
app.http('health', {
  route: 'health',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: health,
});
