import type { TokenCredential } from '@azure/core-auth';
import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';

/** The setting the Functions host already uses for Application Insights. */
export const CONNECTION_STRING_SETTING = 'APPLICATIONINSIGHTS_CONNECTION_STRING';
/** The host's Entra setting ("ClientId=<id>;Authorization=AAD"): the deployed component has local auth off. */
export const AUTHENTICATION_STRING_SETTING = 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING';

/** The managed identity APPLICATIONINSIGHTS_AUTHENTICATION_STRING names, as the Functions host reads it. */
async function credentialOf(authentication: string | undefined): Promise<TokenCredential | undefined> {
  const parts = new Map((authentication ?? '').split(';').map((p) => p.split('=').map((x) => x.trim()) as [string, string | undefined]).map(([k, v]) => [k.toLowerCase(), v]));
  if (parts.get('authorization')?.toLowerCase() !== 'aad') return undefined;
  const { ManagedIdentityCredential } = await import('@azure/identity');
  const clientId = parts.get('clientid');
  return clientId === undefined || clientId === '' ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId });
}

export interface TelemetryProviders {
  /** Sends what is buffered now: called after each invocation, as a Functions instance may be frozen between them. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry providers that send run telemetry to Application Insights, when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set; otherwise the API stays a no-op. The SDK and the
 * exporter are imported only then, so the CLI and a Functions app without it load none of them.
 */
export async function startTelemetry(env: NodeJS.ProcessEnv = process.env): Promise<TelemetryProviders | undefined> {
  const connectionString = env[CONNECTION_STRING_SETTING]?.trim();
  if (connectionString === undefined || connectionString === '') return undefined;
  const [{ AzureMonitorLogExporter, AzureMonitorMetricExporter }, { MeterProvider, PeriodicExportingMetricReader }, { LoggerProvider, BatchLogRecordProcessor }] = await Promise.all([
    import('@azure/monitor-opentelemetry-exporter'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-logs'),
  ]);
  const credential = await credentialOf(env[AUTHENTICATION_STRING_SETTING]);
  const options = { connectionString, ...(credential !== undefined ? { credential } : {}) };
  const meterProvider = new MeterProvider({
    // A long interval: the flush after each invocation sends a run's counters; this only catches strays.
    readers: [new PeriodicExportingMetricReader({ exporter: new AzureMonitorMetricExporter(options), exportIntervalMillis: 60_000 })],
  });
  const loggerProvider = new LoggerProvider({ processors: [new BatchLogRecordProcessor(new AzureMonitorLogExporter(options))] });
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  return {
    async flush() {
      // Telemetry that cannot be sent must not fail the invocation that produced it.
      await Promise.all([meterProvider.forceFlush(), loggerProvider.forceFlush()]).catch((err: unknown) => {
        console.warn(`Telemetry could not be sent to Application Insights: ${err instanceof Error ? err.message : String(err)}`);
      });
    },
    async shutdown() {
      await Promise.all([meterProvider.shutdown(), loggerProvider.shutdown()]);
    },
  };
}
