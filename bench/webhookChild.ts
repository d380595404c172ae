import { randomBytes } from 'node:crypto';
import { silentLogger } from '../src/sync/logger.js';
import { webhookEndpoint } from '../src/webhook/endpoints.js';
import { signWebhook } from '../src/webhook/signature.js';
import { warmUpEndpoints } from '../src/webhook/warmUp.js';

/**
 * The webhook benchmark's cold process: two webhooks through the function's own handler (the
 * first after start, with or without the start-up warm-up, then a warm one). Prints one JSON
 * line with when each was called, so the parent can time it to the stand-in's first write.
 */
const warm = process.argv.includes('--warm-up');
const [firstId = '', secondId = ''] = (process.env['BENCH_WEBHOOK_IDS'] ?? '').split(',');
const secret = process.env['WEBHOOK_SECRET'] ?? '';

async function send(enrollmentId: string): Promise<{ calledAt: number; status: number; ms: number }> {
  const text = JSON.stringify({ enrollmentId });
  const signed = signWebhook(secret, `msg_${randomBytes(6).toString('hex')}`, text);
  const headers = new Headers({ 'content-type': 'application/json', ...signed.headers });
  const request = { method: 'POST', headers, arrayBuffer: async () => new TextEncoder().encode(text).buffer };
  const calledAt = Date.now();
  const started = performance.now();
  const result = await webhookEndpoint(request, { logger: silentLogger });
  return { calledAt, status: result.status, ms: Math.round(performance.now() - started) };
}

let warmUpMs: number | undefined;
if (warm) {
  const started = performance.now();
  await warmUpEndpoints({ logger: silentLogger });
  warmUpMs = Math.round(performance.now() - started);
}
const first = await send(firstId);
const second = await send(secondId);
process.stdout.write(`${JSON.stringify({ warmUpMs, first, second })}\n`);
