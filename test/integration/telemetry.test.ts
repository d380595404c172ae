import { rmSync } from 'node:fs';
import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOM_EVENT_ATTRIBUTE, cursorLagSeconds, RUN_EVENT_NAME, RUN_METRICS, triggerKind } from '../../src/telemetry/runTelemetry.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

// The SDKs' in-memory exporters stand where the Azure Monitor exporters stand in the Functions
// app (src/telemetry/setup.ts): what they capture is what Application Insights would receive.
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const logExporter = new InMemoryLogRecordExporter();
const meterProvider = new MeterProvider({ readers: [metricReader] });
const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(logExporter)] });

beforeAll(() => {
  expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
  logs.setGlobalLoggerProvider(loggerProvider);
});
afterAll(async () => {
  await meterProvider.shutdown();
  await loggerProvider.shutdown();
  metrics.disable();
  logs.disable();
});

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  metricExporter.reset();
  logExporter.reset();
});

/** Each counter's data points after a flush: metric name → [value, attributes]. */
async function countersAfterFlush(): Promise<Map<string, { value: number; attributes: Record<string, unknown> }[]>> {
  await metricReader.forceFlush();
  const found = new Map<string, { value: number; attributes: Record<string, unknown> }[]>();
  for (const resource of metricExporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        const points = metric.dataPoints.map((p) => ({ value: p.value as number, attributes: { ...p.attributes } }));
        found.set(metric.descriptor.name, [...(found.get(metric.descriptor.name) ?? []), ...points]);
      }
    }
  }
  return found;
}

describe('run telemetry', () => {
  it('a sync run emits a VivaSyncRun event and Graph/dead-letter counters with its figures, and nothing secret', async () => {
    harness = await SyncHarness.create({ faults: { seed: 3, throttleRate: 0.1, retryAfterSeconds: 0, retryAfterStyle: 'header' } });
    const records = Array.from({ length: 12 }, (_, i) =>
      anEnrollment({ enrollmentId: `enr-${i}`, learner: { id: `u${i}`, upn: `learner${i}@contoso.example` }, course: { id: `c-${i % 3}` }, updatedAt: `2026-11-01T10:00:${String(i).padStart(2, '0')}.000Z` }),
    );
    // One record the mapping refuses: it becomes a dead letter.
    const invalid = { ...anEnrollment({ enrollmentId: 'enr-bad', learner: { id: 'ubad', upn: 'secret.person@contoso.example' } }), status: 'bogus' };
    harness.writeExport([...records, invalid]);

    const summary = await harness.run({ trigger: 'timer' });

    expect(summary.counts.failed).toBe(1);
    expect(summary.graph?.requests).toBeGreaterThan(0);
    expect(summary.graph?.throttled, 'the stand-in throttled some requests').toBeGreaterThan(0);

    const events = logExporter.getFinishedLogRecords().filter((r) => r.attributes[CUSTOM_EVENT_ATTRIBUTE] === RUN_EVENT_NAME);
    expect(events).toHaveLength(1);
    const event = events[0]?.attributes ?? {};
    expect(event).toMatchObject({
      runId: summary.runId,
      status: summary.status,
      trigger: 'timer',
      durationMs: summary.durationMs,
      read: summary.counts.read,
      created: summary.counts.created,
      updated: summary.counts.updated,
      deleted: summary.counts.deleted,
      unchanged: summary.counts.unchanged,
      failed: 1,
      graphRequests: summary.graph?.requests,
      graphRetries: summary.graph?.retries,
      graphThrottled: summary.graph?.throttled,
    });
    expect(summary.counts.created).toBe(12);
    // The file adapter's cursor is the newest record's time: the lag is from then to the run's end.
    const expectedLag = cursorLagSeconds(summary.cursor.after ?? undefined, new Date());
    expect(expectedLag).toBeDefined();
    expect(Math.abs((event.cursorLagSeconds as number) - (expectedLag ?? 0))).toBeLessThanOrEqual(5);

    const counters = await countersAfterFlush();
    const dims = { status: summary.status, trigger: 'timer' };
    expect(counters.get(RUN_METRICS.graphRequests)).toEqual([{ value: summary.graph?.requests, attributes: dims }]);
    expect(counters.get(RUN_METRICS.throttles)).toEqual([{ value: summary.graph?.throttled, attributes: dims }]);
    expect(counters.get(RUN_METRICS.retries)).toEqual([{ value: summary.graph?.retries, attributes: dims }]);
    expect(counters.get(RUN_METRICS.deadLetters)).toEqual([{ value: 1, attributes: dims }]);

    // Nothing that names a learner, a record or a credential, in any dimension or body.
    const everything = JSON.stringify({ events: logExporter.getFinishedLogRecords().map((r) => ({ body: r.body, attributes: r.attributes })), counters: [...counters] });
    for (const secret of [harness.tenant.token, 'contoso.example', 'secret.person', 'learner0', 'enr-', 'u1', harness.env.SYNC_TABLE_PREFIX ?? 'x', harness.exportPath]) {
      expect(everything, secret).not.toContain(secret);
    }
  });

  it('a failed run emits its event with status failed', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 'e-1' })]);
    await harness.state();
    // The export vanishes after the runner was opened: the pass throws inside the run.
    rmSync(harness.exportPath);
    await expect(harness.run({ trigger: 'export landed: drop/enrollments-2026.csv' })).rejects.toThrow();
    const events = logExporter.getFinishedLogRecords().filter((r) => r.attributes[CUSTOM_EVENT_ATTRIBUTE] === RUN_EVENT_NAME);
    expect(events.map((e) => e.attributes)).toEqual([expect.objectContaining({ status: 'failed', trigger: 'export landed' })]);
    expect(JSON.stringify(events.map((e) => e.attributes))).not.toContain('enrollments-2026');
  });

  it('the cursor lag is only computed for a timestamp cursor', () => {
    const now = new Date('2026-12-03T12:00:00.000Z');
    expect(cursorLagSeconds('2026-12-03T11:59:00.000Z', now)).toBe(60);
    expect(cursorLagSeconds('123', now)).toBeUndefined();
    expect(cursorLagSeconds('eyJwYWdlIjoyfQ', now)).toBeUndefined();
    expect(cursorLagSeconds(undefined, now)).toBeUndefined();
    expect(triggerKind('timer (past due)')).toBe('timer (past due)');
  });
});
