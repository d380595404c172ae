/**
 * The status page as a file, from the state tables (no Function App needed): `viva-sync report`
 * and `npm start` write it. The same report and the same renderer as GET /api/status.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from '../config/loadConfig.js';
import type { SyncState } from '../state/types.js';
import type { Logger } from '../sync/logger.js';
import { readStatus, type SyncStatusReport } from '../sync/status.js';
import { renderStatusPage } from './renderStatusPage.js';
import { openStatusStores } from './statusStores.js';

export interface WriteStatusReportOptions {
  /** Where the HTML goes (folders are created). */
  readonly outPath: string;
  readonly logger: Logger;
  /** Shown in the page title. */
  readonly title?: string;
  /** The state already open (npm start), to avoid opening it twice. */
  readonly state?: SyncState;
  readonly now?: Date;
}

export async function writeStatusReport(config: Config, options: WriteStatusReportOptions): Promise<SyncStatusReport> {
  const report = await readStatus(
    { config: () => config, stores: (c) => openStatusStores(c, options.state !== undefined ? { state: options.state } : {}) },
    { logger: options.logger, ...(options.now !== undefined ? { now: options.now } : {}) },
  );
  await mkdir(dirname(options.outPath), { recursive: true });
  await writeFile(options.outPath, renderStatusPage(report, options.title !== undefined ? { title: options.title } : {}), 'utf8');
  return report;
}
