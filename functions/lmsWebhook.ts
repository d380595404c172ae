import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { webhookEndpoint } from '../src/webhook/endpoints.js';
import { contextLogger } from './contextLogger.js';

/** Signed LMS webhook (Standard Webhooks): one enrollment through the single-record path. */
export async function lmsWebhook(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return webhookEndpoint(request, { logger: contextLogger(context) });
}

// Anonymous for the Functions host: the signature is the authentication. Every method is
// routed here so that a wrong one gets 405 rather than the host's 404.
app.http('lmsWebhook', {
  route: 'lms/webhook',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: lmsWebhook,
});
