/**
 * A new export landed (an Event Grid BlobCreated event): start a sync pass, under the run lease,
 * once the blob has had time to settle (LMS_EXPORT_SETTLE_SECONDS), so that the pass finds it
 * complete. The event never processes a blob on its own: the pass reads every unread export in
 * order, exactly as the timer's would (the timer stays the safety net for a missed event).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readHostTimeoutSeconds } from '../config/hostTimeout.js';
import { loadConfig } from '../config/loadConfig.js';
import { exportSourceFor } from '../lms/exportSource/index.js';
import { readExportSettings } from '../lms/exportSource/settings.js';
import type { Logger } from './logger.js';
import { runScheduledSync } from './scheduled.js';
import type { RunSummary } from './types.js';

/** What the handler needs from an Event Grid event (Microsoft.Storage.BlobCreated). */
export interface LandedEvent {
  readonly eventType: string;
  readonly eventTime: string;
  /** `data.url`: the blob's URL. */
  readonly url: string | undefined;
}

export interface ExportLandedOptions {
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly appRoot?: string;
  readonly abortSignal?: AbortSignal;
  /** For tests: the clock and the wait. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The longest the handler waits for a blob to settle before it starts the pass anyway. */
const MAX_WAIT_MS = 5 * 60_000;

/** Returns the pass's summary, or undefined when the event was not for an export of LMS_FILE_PATH (or a run held the lease). */
export async function runExportLandedPass(event: LandedEvent, options: ExportLandedOptions): Promise<RunSummary | undefined> {
  const appRoot = options.appRoot ?? process.cwd();
  const env = options.env ?? process.env;
  const config = loadConfig(env, { cwd: appRoot, hostTimeoutSeconds: readHostTimeoutSeconds(appRoot) });
  if (config.lms.adapter !== 'file') {
    options.logger.warn('An export landed but LMS_ADAPTER is not file; ignoring the event', { eventType: event.eventType });
    return undefined;
  }
  const source = exportSourceFor({ setting: 'LMS_FILE_PATH', value: config.lms.filePath, cwd: appRoot, extra: config.lms.extra ?? {}, storage: config.storage });
  const url = event.url === undefined ? undefined : decodeURIComponent(event.url.split('?')[0] ?? '');
  if (!event.eventType.endsWith('BlobCreated') || source === undefined || url === undefined || !isUnder(url, source.root)) {
    options.logger.info('Event is not a new export under LMS_FILE_PATH; ignoring it', { eventType: event.eventType, url: url ?? null });
    return undefined;
  }
  const settleMs = readExportSettings(config.lms.extra ?? {}).rules.settleMs;
  const ageMs = (options.now ?? Date.now)() - Date.parse(event.eventTime);
  const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, settleMs - (Number.isFinite(ageMs) ? ageMs : 0)));
  if (waitMs > 0) await (options.sleep ?? ((ms: number) => sleep(ms, undefined, options.abortSignal !== undefined ? { signal: options.abortSignal } : {})))(waitMs);
  return runScheduledSync({ logger: options.logger, trigger: `export landed: ${url.slice(url.lastIndexOf('/') + 1)}`, env, appRoot, ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}) });
}

/** Whether a blob URL is the configured blob, or under the configured folder. */
function isUnder(url: string, root: string): boolean {
  return root.endsWith('/') ? url.startsWith(root) : url === root;
}
