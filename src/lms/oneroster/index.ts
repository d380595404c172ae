import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { LmsAdapter } from '../types.js';

/** LMS_ADAPTER is this adapter's name. */
export type OneRosterSettings = ApiLmsSettings;

export interface OneRosterAdapterOptions {
  readonly settings: OneRosterSettings;
  /** Folder that relative paths are resolved against. */
  readonly cwd: string;
  readonly lookbackMs: number;
}

/** Not built yet (issue 6). */
export function createOneRosterAdapter(_options: OneRosterAdapterOptions): LmsAdapter {
  throw new Error('LMS_ADAPTER=oneroster is not available in this version yet.');
}
