import { metrics } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { RunCounts } from '../state/types.js';
import type { FinalRunStatus } from '../sync/types.js';

/** The instrumentation scope: Application Insights shows it as the SDK's name. */
const SCOPE = 'viva-learning-sync';
/** The custom event's name (Application Insights' customEvents table, name column). */
export const RUN_EVENT_NAME = 'VivaSyncRun';
/** The Azure Monitor exporter sends a log record carrying this attribute as a custom event. */
export const CUSTOM_EVENT_ATTRIBUTE = 'microsoft.custom_event.name';

export const RUN_METRICS = {
  graphRequests: 'viva_sync.graph.requests',
  throttles: 'viva_sync.graph.throttles',
  retries: 'viva_sync.graph.retries',
  deadLetters: 'viva_sync.dead_letters',
} as const;

export interface RunTelemetry {
  readonly runId: string;
  readonly trigger: string;
  readonly status: FinalRunStatus;
  readonly counts: RunCounts;
  readonly durationMs: number;
  /** The cursor after the run: a timestamp for most adapters, an opaque token for some. */
  readonly cursor: string | undefined;
  readonly graph: { readonly requests: number; readonly retries: number; readonly throttled: number } | undefined;
  readonly now?: Date;
}

/**
 * A trigger's kind, for dimensions: "export landed: <blob>" names a blob, which would make
 * one series per file; the kind is what an operator groups by.
 */
export function triggerKind(trigger: string): string {
  const colon = trigger.indexOf(':');
  return (colon < 0 ? trigger : trigger.slice(0, colon)).trim();
}

/** Seconds from the cursor's time to now, when the cursor is an ISO timestamp (not an opaque token). */
export function cursorLagSeconds(cursor: string | undefined, now: Date): number | undefined {
  if (cursor === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(cursor)) return undefined;
  const at = Date.parse(cursor);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((now.getTime() - at) / 1000));
}

/**
 * One run's telemetry through the OpenTelemetry API: a `VivaSyncRun` custom event with its
 * counts, and counters Application Insights can chart. Without a registered provider (CLI,
 * tests, no connection string) these calls do nothing. Only counts, status, the trigger's kind
 * and the run id leave: no learner, no record, no setting.
 */
export function emitRunTelemetry(run: RunTelemetry): void {
  const trigger = triggerKind(run.trigger);
  const dims = { status: run.status, trigger };
  const meter = metrics.getMeter(SCOPE);
  const add = (name: string, value: number, description: string): void => {
    if (value > 0) meter.createCounter(name, { description }).add(value, dims);
  };
  add(RUN_METRICS.graphRequests, run.graph?.requests ?? 0, 'Graph requests sent by sync runs');
  add(RUN_METRICS.throttles, run.graph?.throttled ?? 0, 'Graph responses that throttled (429/503 with Retry-After)');
  add(RUN_METRICS.retries, run.graph?.retries ?? 0, 'Graph requests retried');
  add(RUN_METRICS.deadLetters, run.counts.failed, 'Records dead-lettered by sync runs');

  const lag = cursorLagSeconds(run.cursor, run.now ?? new Date());
  logs.getLogger(SCOPE).emit({
    severityNumber: run.status === 'failed' ? SeverityNumber.ERROR : SeverityNumber.INFO,
    body: RUN_EVENT_NAME,
    attributes: {
      [CUSTOM_EVENT_ATTRIBUTE]: RUN_EVENT_NAME,
      runId: run.runId,
      status: run.status,
      trigger,
      durationMs: run.durationMs,
      ...run.counts,
      graphRequests: run.graph?.requests ?? 0,
      graphRetries: run.graph?.retries ?? 0,
      graphThrottled: run.graph?.throttled ?? 0,
      ...(lag !== undefined ? { cursorLagSeconds: lag } : {}),
    },
  });
}
