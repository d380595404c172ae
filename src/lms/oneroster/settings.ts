/**
 * The OneRoster adapter's own settings (LMS_ONEROSTER_*, and the shared LMS_ASSIGNMENT_TYPE,
 * from `settings.extra`), validated when the adapter is created. Two modes: REST
 * (LMS_BASE_URL + OAuth 2 client credentials) or a CSV bundle (LMS_FILE_PATH naming a folder
 * with manifest.csv).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type SettingProblem } from '../../config/errors.js';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { AssignmentType } from '../../mapping/enrollment.js';

export const ONEROSTER_SETTINGS = {
  version: 'LMS_ONEROSTER_VERSION',
  fullPull: 'LMS_ONEROSTER_FULL_PULL',
  gradebook: 'LMS_ONEROSTER_GRADEBOOK',
  courseUrl: 'LMS_ONEROSTER_COURSE_URL',
  scope: 'LMS_ONEROSTER_SCOPE',
} as const;

/** The assignmentType of every enrollment (OneRoster has none); shared by every adapter. */
export const ASSIGNMENT_TYPE = 'LMS_ASSIGNMENT_TYPE';

export type OneRosterVersion = '1.1' | '1.2';

export const SCOPES = {
  rosterCore: 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly',
  gradebook: 'https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly',
} as const;

interface Common {
  /** The assignmentType of every enrollment (OneRoster has none). */
  readonly assignmentType: AssignmentType;
  /** The course URL of a class: the template with {classSourcedId} / {courseSourcedId} filled in. */
  readonly courseUrl: (classSourcedId: string, courseSourcedId: string | undefined) => string;
  /** LMS_COURSE_IDS: only enrollments in these classes (class sourcedIds). */
  readonly classIds: ReadonlySet<string> | undefined;
}

export interface RestOptions extends Common {
  readonly mode: 'rest';
  readonly baseUrl: string;
  readonly version: OneRosterVersion;
  readonly fullPull: boolean;
  readonly gradebook: boolean;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
}

export interface CsvOptions extends Common {
  readonly mode: 'csv';
  /** The bundle folder (absolute). */
  readonly folder: string;
}

export type OneRosterOptions = RestOptions | CsvOptions;

function readBoolean(extra: Readonly<Record<string, string>>, name: string, fallback: boolean, problems: SettingProblem[]): boolean {
  const value = extra[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  problems.push({ setting: name, problem: `must be true or false (got ${JSON.stringify(extra[name])})` });
  return fallback;
}

function rosteringRoot(baseUrl: string, version: OneRosterVersion): string {
  return `${baseUrl.replace(/\/+$/, '')}/ims/oneroster/${version === '1.2' ? 'rostering/v1p2' : 'v1p1'}`;
}

function courseUrlOf(template: string): (classSourcedId: string, courseSourcedId: string | undefined) => string {
  return (classSourcedId, courseSourcedId) =>
    template.replace(/\{classSourcedId\}/g, encodeURIComponent(classSourcedId)).replace(/\{courseSourcedId\}/g, encodeURIComponent(courseSourcedId ?? classSourcedId));
}

/** Reads and checks LMS_ONEROSTER_* (and the common settings the chosen mode needs); throws a ConfigError naming every bad one. */
export function readOneRosterOptions(settings: ApiLmsSettings, cwd: string): OneRosterOptions {
  const extra = settings.extra;
  const problems: SettingProblem[] = [];
  const known = new Set<string>(Object.values(ONEROSTER_SETTINGS));
  for (const name of Object.keys(extra)) {
    if (name.startsWith('LMS_ONEROSTER_') && !known.has(name)) problems.push({ setting: name, problem: `is not a OneRoster adapter setting (known: ${[...known].join(', ')})` });
  }

  // LMS_ASSIGNMENT_TYPE: shared by every adapter (as Canvas and Moodle read it).
  let assignmentType: AssignmentType = 'required';
  const type = extra[ASSIGNMENT_TYPE]?.trim();
  if (type !== undefined && type !== '') {
    if (type === 'required' || type === 'recommended') assignmentType = type;
    else problems.push({ setting: ASSIGNMENT_TYPE, problem: `must be required or recommended (got ${JSON.stringify(type)})` });
  }

  let version: OneRosterVersion = '1.2';
  const versionValue = extra[ONEROSTER_SETTINGS.version]?.trim();
  if (versionValue !== undefined && versionValue !== '') {
    if (versionValue === '1.2' || versionValue === '1.1') version = versionValue;
    else problems.push({ setting: ONEROSTER_SETTINGS.version, problem: `must be 1.2 or 1.1 (got ${JSON.stringify(versionValue)})` });
  }

  const csv = settings.filePath !== undefined;
  const template = extra[ONEROSTER_SETTINGS.courseUrl]?.trim();
  let courseUrl: ((c: string, k: string | undefined) => string) | undefined;
  if (template !== undefined && template !== '') {
    const sample = courseUrlOf(template)('class-1', 'course-1');
    let ok = false;
    try {
      const url = new URL(sample);
      ok = url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      ok = false;
    }
    if (!ok) problems.push({ setting: ONEROSTER_SETTINGS.courseUrl, problem: `must be an http(s) URL template such as https://sis.example.edu/classes/{classSourcedId} (got ${JSON.stringify(template)})` });
    else if (!/\{(classSourcedId|courseSourcedId)\}/.test(template)) problems.push({ setting: ONEROSTER_SETTINGS.courseUrl, problem: 'must contain {classSourcedId} or {courseSourcedId}, so that each class has its own URL' });
    else courseUrl = courseUrlOf(template);
  } else if (csv) {
    problems.push({ setting: ONEROSTER_SETTINGS.courseUrl, problem: 'is required when LMS_FILE_PATH names a OneRoster CSV bundle: the web address learners open for a class, e.g. https://sis.example.edu/classes/{classSourcedId}' });
  } else if (settings.baseUrl !== '') {
    // The class's own REST resource: stable and unique, though not a page for people; see docs/adapters/oneroster.md.
    courseUrl = courseUrlOf(`${rosteringRoot(settings.baseUrl, version)}/classes/{classSourcedId}`);
  }

  const classIds = settings.courseIds !== undefined && settings.courseIds.length > 0 ? new Set(settings.courseIds) : undefined;

  if (csv) {
    for (const name of [ONEROSTER_SETTINGS.fullPull, ONEROSTER_SETTINGS.gradebook, ONEROSTER_SETTINGS.scope, ONEROSTER_SETTINGS.version]) {
      if (extra[name] !== undefined && extra[name].trim() !== '') problems.push({ setting: name, problem: 'applies to the REST API only; a CSV bundle (LMS_FILE_PATH) says its version in manifest.csv and is always read whole' });
    }
    const folder = resolve(cwd, settings.filePath ?? '');
    try {
      if (!statSync(folder).isDirectory()) problems.push({ setting: 'LMS_FILE_PATH', problem: `(${folder}) must name the folder of an unzipped OneRoster CSV bundle (with manifest.csv)` });
      else if (!statSync(resolve(folder, 'manifest.csv')).isFile()) problems.push({ setting: 'LMS_FILE_PATH', problem: `(${folder}) has no manifest.csv` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ setting: 'LMS_FILE_PATH', problem: code === 'ENOENT' ? `(${folder}) does not exist or has no manifest.csv` : `(${folder}) cannot be read (${code ?? String(err)})` });
    }
    if (problems.length > 0 || courseUrl === undefined) throw new ConfigError(problems);
    return { mode: 'csv', folder, assignmentType, courseUrl, classIds };
  }

  const fullPull = readBoolean(extra, ONEROSTER_SETTINGS.fullPull, false, problems);
  const gradebook = readBoolean(extra, ONEROSTER_SETTINGS.gradebook, true, problems);
  const scopeValue = extra[ONEROSTER_SETTINGS.scope]?.trim();
  const scope = scopeValue !== undefined && scopeValue !== '' ? scopeValue : version === '1.2' ? [SCOPES.rosterCore, ...(gradebook ? [SCOPES.gradebook] : [])].join(' ') : '';
  for (const [name, value, why] of [
    ['LMS_BASE_URL', settings.baseUrl, 'the root under which /ims/oneroster/… is served'],
    ['LMS_CLIENT_ID', settings.clientId, 'the OAuth 2 client id'],
    ['LMS_CLIENT_SECRET', settings.clientSecret, 'the OAuth 2 client secret'],
    ['LMS_TOKEN_URL', settings.tokenUrl, 'the OAuth 2 token endpoint'],
  ] as const) {
    if (value === undefined || value === '') problems.push({ setting: name, problem: `is required when LMS_ADAPTER=oneroster reads the REST API (${why}); or set LMS_FILE_PATH to a CSV bundle folder` });
  }
  if (settings.tokenUrl !== undefined) {
    try {
      const url = new URL(settings.tokenUrl);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname))) throw new Error('scheme');
    } catch {
      problems.push({ setting: 'LMS_TOKEN_URL', problem: 'must be an https URL (http only on loopback)' });
    }
  }
  if (problems.length > 0 || courseUrl === undefined) throw new ConfigError(problems);
  return {
    mode: 'rest',
    baseUrl: settings.baseUrl,
    version,
    fullPull,
    gradebook,
    tokenUrl: settings.tokenUrl ?? '',
    clientId: settings.clientId ?? '',
    clientSecret: settings.clientSecret ?? '',
    scope,
    assignmentType,
    courseUrl,
    classIds,
  };
}
