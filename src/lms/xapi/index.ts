import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { LmsAdapter } from '../types.js';

/** LMS_ADAPTER is this adapter's name. */
export type XapiSettings = ApiLmsSettings;

export interface XapiAdapterOptions {
  readonly settings: XapiSettings;
  /** Folder that relative paths are resolved against. */
  readonly cwd: string;
  readonly lookbackMs: number;
}

/** Not built yet (issue 6). */
export function createXapiAdapter(_options: XapiAdapterOptions): LmsAdapter {
  throw new Error('LMS_ADAPTER=xapi is not available in this version yet.');
}
