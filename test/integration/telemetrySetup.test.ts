import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/sync/types.js';
import { emitRunTelemetry } from '../../src/telemetry/runTelemetry.js';
import { startTelemetry } from '../../src/telemetry/setup.js';

let server: Server | undefined;
afterEach(async () => {
  metrics.disable();
  logs.disable();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

describe('the Functions app\'s telemetry set-up', () => {
  it('registers nothing without APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    expect(await startTelemetry({})).toBeUndefined();
  });

  it('registers the SDK providers with a connection string, and a flush whose sending fails does not throw', async () => {
    // The exporter always speaks https to the ingestion endpoint; this plain-http listener makes every send fail.
    let requests = 0;
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const providers = await startTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:${port}/` });
    expect(providers).toBeDefined();
    expect(metrics.getMeterProvider().constructor.name).toBe('MeterProvider');
    expect(logs.getLoggerProvider().constructor.name).toBe('LoggerProvider');
    emitRunTelemetry({ runId: 'run-1', trigger: 'timer', status: 'succeeded', counts: { ...emptyCounts(), created: 3, failed: 2 }, durationMs: 42, cursor: undefined, graph: { requests: 7, retries: 1, throttled: 1 } });
    await expect(providers?.flush()).resolves.toBeUndefined();
    expect(requests, 'nothing was accepted over plain http').toBe(0);
    await providers?.shutdown();
  });
});
