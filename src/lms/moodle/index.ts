import type { LmsSettings } from '../../config/loadConfig.js';
import type { LmsAdapter } from '../types.js';

export type MoodleSettings = Extract<LmsSettings, { adapter: 'moodle' }>;

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
