import type { Config } from '../config/loadConfig.js';
import { createCanvasAdapter } from './canvas/index.js';
import { createPathAdapter } from './exportSource/index.js';
import type { SeenExport } from './exportSource/exportsAdapter.js';
import { createMoodleAdapter } from './moodle/index.js';
import { createOneRosterAdapter } from './oneroster/index.js';
import type { LmsAdapter, OperationOptions } from './types.js';
import { createXapiAdapter } from './xapi/index.js';

export interface CreateAdapterOptions {
  /** What the exports table records of a source (Blob Storage exports); none recorded when absent. */
  readonly seenExports?: (root: string, options: OperationOptions) => Promise<readonly SeenExport[]>;
}

/** The adapter LMS_ADAPTER names. Paths are relative to `cwd`. */
export function createAdapter(config: Config, cwd: string, options: CreateAdapterOptions = {}): LmsAdapter {
  const lms = config.lms;
  const lookbackMs = config.lookbackSeconds * 1000;
  switch (lms.adapter) {
    case 'file':
      return createPathAdapter({
        value: lms.filePath,
        cwd,
        lookbackMs,
        extra: lms.extra ?? {},
        storage: config.storage,
        seenExports: options.seenExports ?? (() => Promise.resolve([])),
        exportMode: lms.exportMode,
        ...(lms.mappingPath !== undefined ? { mappingPath: lms.mappingPath } : {}),
        ...(lms.catalogPath !== undefined ? { catalogPath: lms.catalogPath } : {}),
      });
    case 'xapi':
      return createXapiAdapter({ settings: lms, cwd, lookbackMs });
    case 'oneroster':
      return createOneRosterAdapter({ settings: lms, cwd, lookbackMs });
    case 'canvas':
      return createCanvasAdapter({ settings: lms, cwd, lookbackMs });
    case 'moodle':
      return createMoodleAdapter({ settings: lms, cwd, lookbackMs });
  }
}
