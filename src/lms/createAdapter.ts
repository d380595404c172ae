import { resolve } from 'node:path';
import type { Config } from '../config/loadConfig.js';
import { createFileAdapter } from './file.js';
import type { LmsAdapter } from './types.js';

/** The adapter LMS_ADAPTER names. Paths are relative to `cwd`. */
export function createAdapter(config: Config, cwd: string): LmsAdapter {
  const lms = config.lms;
  switch (lms.adapter) {
    case 'file':
      return createFileAdapter({
        path: resolve(cwd, lms.filePath),
        ...(lms.mappingPath !== undefined ? { mappingPath: resolve(cwd, lms.mappingPath) } : {}),
        lookbackMs: config.lookbackSeconds * 1000,
      });
    default:
      throw new Error(`LMS_ADAPTER=${lms.adapter} is not available in this version yet.`);
  }
}
