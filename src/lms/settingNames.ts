import { SETTING_NAMES } from '../config/loadConfig.js';
import { CANVAS_SETTINGS } from './canvas/settings.js';
import { EXPORT_SETTINGS } from './exportSource/settings.js';
import { MOODLE_SETTINGS } from './moodle/settings.js';
import { ONEROSTER_SETTINGS } from './oneroster/settings.js';
import { XAPI_SETTINGS } from './xapi/settings.js';

/**
 * The settings only one adapter reads (validated when that adapter is created), beyond the
 * common ones in SETTING_NAMES. The infrastructure test checks both lists against the Bicep.
 */
export const ADAPTER_SETTING_NAMES: readonly string[] = [
  ...new Set<string>([...CANVAS_SETTINGS, ...MOODLE_SETTINGS, ...Object.values(XAPI_SETTINGS), ...Object.values(ONEROSTER_SETTINGS), ...Object.values(EXPORT_SETTINGS)]),
].filter((name) => !(SETTING_NAMES as readonly string[]).includes(name));
