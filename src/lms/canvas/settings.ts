/**
 * The Canvas adapter's settings: DESIGN.md's LMS_BASE_URL (the Canvas root), LMS_TOKEN (an
 * access token) and LMS_COURSE_IDS, plus two of its own from `settings.extra`:
 * - LMS_CANVAS_ACCOUNT_ID: the account whose active courses are synced when LMS_COURSE_IDS
 *   is empty, and through which an enrollment is fetched by id; default `self` (the root
 *   account of the domain).
 * - LMS_ASSIGNMENT_TYPE: `required` (default) or `recommended`, for every assignment.
 */
import { ConfigError, type SettingProblem } from '../../config/errors.js';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import { ASSIGNMENT_TYPE_SETTING, readCommonSettings, unknownExtras, type CommonSettings } from '../adapterSettings.js';

export const CANVAS_ACCOUNT_SETTING = 'LMS_CANVAS_ACCOUNT_ID';

export interface CanvasConfig extends CommonSettings {
  /** `self`, a numeric id, or `sis_account_id:…` (Canvas accepts each in the path). */
  readonly accountId: string;
}

export function readCanvasSettings(settings: ApiLmsSettings): CanvasConfig {
  const problems: SettingProblem[] = [];
  // LMS_BASE_URL is the root under which /api/v1 lives; a pasted ".../api/v1" is forgiven.
  const common = readCommonSettings(settings, problems, 'canvas', /\/api\/v1$/);
  const accountId = settings.extra[CANVAS_ACCOUNT_SETTING]?.trim() || 'self';
  if (!/^(self|\d{1,15}|sis_account_id:[^/?#\s]{1,200})$/.test(accountId)) {
    problems.push({ setting: CANVAS_ACCOUNT_SETTING, problem: `must be self, a numeric Canvas account id, or sis_account_id:<id> (got ${JSON.stringify(accountId)})` });
  }
  unknownExtras(settings, [CANVAS_ACCOUNT_SETTING], 'LMS_CANVAS_', 'canvas', problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...common, accountId };
}

export const CANVAS_SETTINGS = ['LMS_BASE_URL', 'LMS_TOKEN', 'LMS_COURSE_IDS', CANVAS_ACCOUNT_SETTING, ASSIGNMENT_TYPE_SETTING] as const;
