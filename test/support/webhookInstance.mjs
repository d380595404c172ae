// One function app instance in a process of its own, so a test can SIGKILL it mid-delivery: the
// compiled webhook endpoint (dist/, as bin/viva-sync.js runs the compiled CLI) behind node:http,
// with the settings of its environment. Prints its port on the first line of standard output.
import { createServer } from 'node:http';
import { webhookEndpoint } from '../../dist/src/webhook/endpoints.js';

const logger = { info: () => {}, warn: () => {}, error: (message) => process.stderr.write(`${message}\n`) };
const claimTtl = Number(process.env.WEBHOOK_CLAIM_TTL_MS ?? '');

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const headers = Object.entries(req.headers).filter(([, v]) => typeof v === 'string');
    const request = new globalThis.Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}) });
    webhookEndpoint(request, { logger, ...(Number.isFinite(claimTtl) && claimTtl > 0 ? { webhookClaimTtlMs: claimTtl } : {}) }).then(
      (result) => res.writeHead(result.status, { 'content-type': 'application/json', ...result.headers }).end(JSON.stringify(result.jsonBody)),
      (err) => res.writeHead(500).end(String(err)),
    );
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
