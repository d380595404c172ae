/**
 * The Moodle adapter's settings: DESIGN.md's LMS_BASE_URL (the site root that serves
 * webservice/rest/server.php), LMS_TOKEN (a web-service token) and LMS_COURSE_IDS, plus two
 * of its own from `settings.extra`:
 * - LMS_MOODLE_REPORT_ID: the id of a Report builder custom report (Moodle 4.1+) to read
 *   through core_reportbuilder_retrieve_report instead of walking courses; see
 *   docs/adapters/moodle.md for the columns it needs;
 * - LMS_ASSIGNMENT_TYPE: `required` (default) or `recommended`, for every assignment.
 */
import { ConfigError, type SettingProblem } from '../../config/errors.js';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import { ASSIGNMENT_TYPE_SETTING, readCommonSettings, unknownExtras, type CommonSettings } from '../adapterSettings.js';

export const MOODLE_REPORT_SETTING = 'LMS_MOODLE_REPORT_ID';

export interface MoodleConfig extends CommonSettings {
  readonly reportId: number | undefined;
}

export function readMoodleSettings(settings: ApiLmsSettings): MoodleConfig {
  const problems: SettingProblem[] = [];
  // LMS_BASE_URL is the site root; a pasted ".../webservice/rest/server.php" is forgiven.
  const common = readCommonSettings(settings, problems, 'moodle', /\/webservice\/rest\/server\.php$/);
  const rawReport = settings.extra[MOODLE_REPORT_SETTING]?.trim() ?? '';
  let reportId: number | undefined;
  if (rawReport !== '') {
    if (/^\d{1,10}$/.test(rawReport) && Number(rawReport) > 0) reportId = Number(rawReport);
    else problems.push({ setting: MOODLE_REPORT_SETTING, problem: `must be the numeric id of a Report builder custom report (got ${JSON.stringify(rawReport)})` });
  }
  unknownExtras(settings, [MOODLE_REPORT_SETTING], 'LMS_MOODLE_', 'moodle', problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...common, reportId };
}

export const MOODLE_SETTINGS = ['LMS_BASE_URL', 'LMS_TOKEN', 'LMS_COURSE_IDS', MOODLE_REPORT_SETTING, ASSIGNMENT_TYPE_SETTING] as const;
