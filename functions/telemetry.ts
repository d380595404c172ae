import { app } from '@azure/functions';
import { startTelemetry, type TelemetryProviders } from '../src/telemetry/setup.js';

// Run telemetry (src/telemetry/runTelemetry.ts) goes through OpenTelemetry, not context.log: the
// Node worker flattens context.log to message text, so Application Insights would get no
// dimensions. Providers are registered at worker start, never at module load.
let providers: Promise<TelemetryProviders | undefined> | undefined;

app.hook.appStart(async () => {
  providers = startTelemetry();
  await providers;
});

// A Functions instance may be frozen or recycled once an invocation returns: send what it buffered.
app.hook.postInvocation(async () => {
  await (await providers)?.flush();
});

app.hook.appTerminate(async () => {
  await (await providers)?.shutdown();
});
