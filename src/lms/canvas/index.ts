import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { LmsAdapter } from '../types.js';

/** LMS_ADAPTER is this adapter's name. */
export type CanvasSettings = ApiLmsSettings;

export interface CanvasAdapterOptions {
  readonly settings: CanvasSettings;
  /** Folder that relative paths are resolved against. */
  readonly cwd: string;
  readonly lookbackMs: number;
}

/** Not built yet (issue 6). */
export function createCanvasAdapter(_options: CanvasAdapterOptions): LmsAdapter {
  throw new Error('LMS_ADAPTER=canvas is not available in this version yet.');
}
