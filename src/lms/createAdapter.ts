import { resolve } from 'node:path';
import type { Config } from '../config/loadConfig.js';
import { createCanvasAdapter } from './canvas/index.js';
import { createFileAdapter } from './file.js';
import { createMoodleAdapter } from './moodle/index.js';
import { createOneRosterAdapter } from './oneroster/index.js';
import type { LmsAdapter } from './types.js';
import { createXapiAdapter } from './xapi/index.js';

/** The adapter LMS_ADAPTER names. Paths are relative to `cwd`. */
export function createAdapter(config: Config, cwd: string): LmsAdapter {
  const lms = config.lms;
  const lookbackMs = config.lookbackSeconds * 1000;
  switch (lms.adapter) {
    case 'file':
      return createFileAdapter({
        path: resolve(cwd, lms.filePath),
        ...(lms.mappingPath !== undefined ? { mappingPath: resolve(cwd, lms.mappingPath) } : {}),
        ...(lms.catalogPath !== undefined ? { catalogPath: resolve(cwd, lms.catalogPath) } : {}),
        exportMode: lms.exportMode,
        lookbackMs,
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
