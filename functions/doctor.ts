import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { doctorEndpoint } from '../src/doctor/httpEndpoint.js';
import { contextLogger } from './contextLogger.js';

/** `viva-sync doctor` inside the app, as its own identity: POST runs it, GET returns the last result. */
export async function doctor(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return doctorEndpoint(request, { logger: contextLogger(context) });
}

// Behind a function key: the report names settings, identities and the provider.
app.http('doctor', {
  route: 'doctor',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'function',
  handler: doctor,
});
