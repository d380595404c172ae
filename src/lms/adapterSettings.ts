/**
 * What the API adapters (xAPI, OneRoster, Canvas, Moodle) are created with, and the settings
 * Canvas and Moodle share, read from `ApiLmsSettings` and validated when the adapter is
 * created. Every problem names its setting (never a secret's value).
 */
import type { SettingProblem } from '../config/errors.js';
import type { ApiLmsSettings } from '../config/loadConfig.js';
import type { AssignmentType } from '../mapping/enrollment.js';
import type { LmsHttpTuning } from './http/lmsHttp.js';

/** What createAdapter gives an API adapter; `Http`: the adapter's transport knobs. */
export interface ApiAdapterOptions<Http extends LmsHttpTuning = LmsHttpTuning> {
  /** LMS_ADAPTER is the adapter's name. */
  readonly settings: ApiLmsSettings;
  /** Folder that relative paths are resolved against. */
  readonly cwd: string;
  /** How far before the cursor a listing reads again (unused by Canvas, whose listings are passes). */
  readonly lookbackMs: number;
  /** Transport tuning (retry backoff, timeouts, pacing); tests shorten the waits. */
  readonly http?: Http;
}

export const ASSIGNMENT_TYPE_SETTING = 'LMS_ASSIGNMENT_TYPE';

export interface CommonSettings {
  /** LMS_BASE_URL without a trailing slash. */
  readonly baseUrl: string;
  readonly token: string;
  /** LMS_COURSE_IDS as numbers, ascending, without duplicates; undefined: every active course. */
  readonly courseIds: readonly number[] | undefined;
  readonly assignmentType: AssignmentType;
}

/** Reads the shared settings; pushes a problem for each bad one. `stripPath` removes a suffix users often paste (e.g. /api/v1). */
export function readCommonSettings(settings: ApiLmsSettings, problems: SettingProblem[], adapter: string, stripPath?: RegExp): CommonSettings {
  let baseUrl = settings.baseUrl.trim().replace(/\/+$/, '');
  if (stripPath !== undefined) baseUrl = baseUrl.replace(stripPath, '');
  try {
    const url = new URL(baseUrl);
    if (url.search !== '' || url.hash !== '') problems.push({ setting: 'LMS_BASE_URL', problem: 'must not have a query string or fragment' });
    if (url.username !== '' || url.password !== '') problems.push({ setting: 'LMS_BASE_URL', problem: 'must not carry credentials; put the token in LMS_TOKEN' });
  } catch {
    problems.push({ setting: 'LMS_BASE_URL', problem: `is required when LMS_ADAPTER=${adapter} (an https URL)` });
  }
  const token = settings.token?.trim() ?? '';
  if (token === '') problems.push({ setting: 'LMS_TOKEN', problem: `is required when LMS_ADAPTER=${adapter}` });
  else if (/\s/.test(token)) problems.push({ setting: 'LMS_TOKEN', problem: 'must not contain spaces (paste the token alone, without "Bearer")' });

  let courseIds: number[] | undefined;
  if (settings.courseIds !== undefined && settings.courseIds.length > 0) {
    const bad = settings.courseIds.filter((id) => !/^\d{1,15}$/.test(id) || Number(id) < 1);
    if (bad.length > 0) problems.push({ setting: 'LMS_COURSE_IDS', problem: `must be a comma-separated list of numeric ${adapter} course ids (not: ${bad.slice(0, 5).map((b) => JSON.stringify(b)).join(', ')})` });
    else courseIds = [...new Set(settings.courseIds.map(Number))].sort((a, b) => a - b);
  }

  const rawType = settings.extra[ASSIGNMENT_TYPE_SETTING]?.trim() ?? '';
  let assignmentType: AssignmentType = 'required';
  if (rawType === 'required' || rawType === 'recommended') assignmentType = rawType;
  else if (rawType !== '') problems.push({ setting: ASSIGNMENT_TYPE_SETTING, problem: `must be required or recommended (got ${JSON.stringify(rawType)})` });

  return { baseUrl, token, courseIds, assignmentType };
}

/**
 * Settings with this adapter's own prefix (LMS_CANVAS_…, LMS_MOODLE_…) that it does not know:
 * probably a typo, so they are refused rather than ignored. Other LMS_* names are left
 * alone (one settings file may hold several adapters' settings).
 */
export function unknownExtras(settings: ApiLmsSettings, known: readonly string[], prefix: string, adapter: string, problems: SettingProblem[]): void {
  for (const name of Object.keys(settings.extra)) {
    if (name.startsWith(prefix) && !known.includes(name)) problems.push({ setting: name, problem: `is not a setting of LMS_ADAPTER=${adapter} (known: ${known.join(', ')})` });
  }
}
