import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { LmsAdapter } from '../types.js';

/** LMS_ADAPTER is this adapter's name. */
export type MoodleSettings = ApiLmsSettings;

export interface MoodleAdapterOptions {
  readonly settings: MoodleSettings;
  /** Folder that relative paths are resolved against. */
  readonly cwd: string;
  readonly lookbackMs: number;
}

/** Not built yet (issue 6). */
export function createMoodleAdapter(_options: MoodleAdapterOptions): LmsAdapter {
  throw new Error('LMS_ADAPTER=moodle is not available in this version yet.');
}
