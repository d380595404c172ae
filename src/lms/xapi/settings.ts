/**
 * The xAPI adapter's own settings (LMS_XAPI_*, and the shared LMS_ASSIGNMENT_TYPE, from
 * `settings.extra`), validated when the adapter is created. Verb and extension lists replace
 * the defaults, or add to them when the value starts with "+".
 */
import { ConfigError, type SettingProblem } from '../../config/errors.js';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import type { AssignmentType } from '../../mapping/enrollment.js';

export const ADL = 'http://adlnet.gov/expapi/verbs/';
export const VOIDED_VERB = `${ADL}voided`;
export const SCORE_SCALED = 'result.score.scaled';

/** Course-level verbs that complete the course. */
export const DEFAULT_COMPLETED_VERBS: readonly string[] = [
  `${ADL}completed`,
  `${ADL}passed`,
  // Moodle's logstore_xapi before it moved course completion to the ADL verb, and older TinCan content.
  'http://id.tincanapi.com/verb/completed',
  'http://activitystrea.ms/schema/1.0/complete',
];

/** Verbs that show the learner has started (course level), or worked on part of a course (child activities, with completed verbs). */
export const DEFAULT_STARTED_VERBS: readonly string[] = [
  `${ADL}launched`,
  `${ADL}initialized`,
  `${ADL}attempted`,
  `${ADL}progressed`,
  `${ADL}failed`,
  `${ADL}terminated`,
  `${ADL}resumed`,
  'https://w3id.org/xapi/adl/verbs/abandoned',
  // Moodle: quiz attempt started.
  'http://activitystrea.ms/schema/1.0/start',
];

/** Verbs that enrol or assign the learner: the enrollment becomes an assignment. */
export const DEFAULT_ENROLLED_VERBS: readonly string[] = [
  // Moodle: user_enrolment_created, and user_enrolment_updated back to active.
  'https://xapi.edlm/profiles/edlm-lms/concepts/verbs/enrolled',
  'https://w3id.org/xapi/tla/verbs/resumed',
  `${ADL}registered`,
  // Totara program_assigned, and community "assigned" verbs.
  'http://activitystrea.ms/schema/1.0/assign',
  'https://w3id.org/xapi/tla/verbs/assigned',
  'https://w3id.org/xapi/dod-isd/verbs/assigned',
  'https://w3id.org/xapi/acrossx/verbs/assigned',
];

/** Verbs that end the enrollment: the activity is deleted. */
export const DEFAULT_WITHDRAWN_VERBS: readonly string[] = [
  // Moodle: user_enrolment_deleted, and user_enrolment_updated to suspended.
  'http://activitystrea.ms/leave',
  'https://w3id.org/xapi/tla/verbs/suspended',
  'http://id.tincanapi.com/verb/unregistered',
];

/** Where progress (0–100) is read from, in order: result extensions, or `result.score.scaled`. */
export const DEFAULT_PROGRESS_SOURCES: readonly string[] = [
  'https://w3id.org/xapi/cmi5/result/extensions/progress',
  // Sent by some Articulate content (cmi5 §9.5.5.1 names the https IRI).
  'http://w3id.org/xapi/cmi5/result/extensions/progress',
];

export const XAPI_SETTINGS = {
  completedVerbs: 'LMS_XAPI_COMPLETED_VERBS',
  startedVerbs: 'LMS_XAPI_STARTED_VERBS',
  enrolledVerbs: 'LMS_XAPI_ENROLLED_VERBS',
  withdrawnVerbs: 'LMS_XAPI_WITHDRAWN_VERBS',
  progressSources: 'LMS_XAPI_PROGRESS_EXTENSIONS',
  dueDays: 'LMS_XAPI_DUE_DAYS',
} as const;

/** The assignmentType of assignments, for every adapter whose LMS has no such notion. */
export const ASSIGNMENT_TYPE = 'LMS_ASSIGNMENT_TYPE';

export type VerbCategory = 'completed' | 'started' | 'enrolled' | 'withdrawn';

export interface XapiOptions {
  /** Verb IRI → what it means. */
  readonly verbs: ReadonlyMap<string, VerbCategory>;
  readonly progressSources: readonly string[];
  /** The assignmentType of an enrollment the LRS shows as assigned (an enrolled verb). */
  readonly assignmentType: AssignmentType;
  /** Due date = assignedAt + this many days; none when undefined. */
  readonly dueDays: number | undefined;
  /** LMS_COURSE_IDS: only these course IRIs. */
  readonly courseIds: ReadonlySet<string> | undefined;
}

const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/;

function readList(extra: Readonly<Record<string, string>>, name: string, defaults: readonly string[], problems: SettingProblem[], what: string): readonly string[] {
  const raw = extra[name];
  if (raw === undefined || raw.trim() === '') return defaults;
  const extend = raw.trim().startsWith('+');
  const items = raw.trim().replace(/^\+/, '').split(/[\s,]+/).filter((s) => s !== '');
  const bad = items.filter((s) => s !== SCORE_SCALED && !IRI.test(s));
  if (bad.length > 0) problems.push({ setting: name, problem: `must list absolute ${what} IRIs separated by commas or spaces (not an IRI: ${bad.map((b) => JSON.stringify(b)).join(', ')})` });
  if (items.includes(SCORE_SCALED) && name !== XAPI_SETTINGS.progressSources) problems.push({ setting: name, problem: `${SCORE_SCALED} is only meaningful in ${XAPI_SETTINGS.progressSources}` });
  if (items.length === 0) problems.push({ setting: name, problem: `lists no ${what} IRI` });
  return extend ? [...new Set([...defaults, ...items])] : [...new Set(items)];
}

/** Reads and checks LMS_XAPI_* (and LMS_COURSE_IDS); throws a ConfigError naming every bad one. */
export function readXapiOptions(settings: ApiLmsSettings): XapiOptions {
  const extra = settings.extra;
  const problems: SettingProblem[] = [];
  const known = new Set<string>(Object.values(XAPI_SETTINGS));
  for (const name of Object.keys(extra)) {
    if (name.startsWith('LMS_XAPI_') && !known.has(name)) problems.push({ setting: name, problem: `is not an xAPI adapter setting (known: ${[...known].join(', ')})` });
  }
  const lists: [VerbCategory, string, readonly string[]][] = [
    ['withdrawn', XAPI_SETTINGS.withdrawnVerbs, DEFAULT_WITHDRAWN_VERBS],
    ['completed', XAPI_SETTINGS.completedVerbs, DEFAULT_COMPLETED_VERBS],
    ['enrolled', XAPI_SETTINGS.enrolledVerbs, DEFAULT_ENROLLED_VERBS],
    ['started', XAPI_SETTINGS.startedVerbs, DEFAULT_STARTED_VERBS],
  ];
  const verbs = new Map<string, VerbCategory>();
  const owner = new Map<string, string>();
  for (const [category, name, defaults] of lists) {
    for (const verb of readList(extra, name, defaults, problems, 'verb')) {
      const other = owner.get(verb);
      if (other !== undefined) {
        problems.push({ setting: name, problem: `lists ${verb}, which ${other} also lists; a verb can mean only one thing` });
        continue;
      }
      if (verb === VOIDED_VERB) {
        problems.push({ setting: name, problem: `must not list the voided verb (${VOIDED_VERB}); voiding is always handled` });
        continue;
      }
      owner.set(verb, name);
      verbs.set(verb, category);
    }
  }
  const progressSources = readList(extra, XAPI_SETTINGS.progressSources, DEFAULT_PROGRESS_SOURCES, problems, 'result extension');

  // LMS_ASSIGNMENT_TYPE: shared by every adapter (as Canvas and Moodle read it).
  let assignmentType: AssignmentType = 'required';
  const type = extra[ASSIGNMENT_TYPE]?.trim();
  if (type !== undefined && type !== '') {
    if (type === 'required' || type === 'recommended') assignmentType = type;
    else problems.push({ setting: ASSIGNMENT_TYPE, problem: `must be required or recommended (got ${JSON.stringify(type)})` });
  }

  let dueDays: number | undefined;
  const due = extra[XAPI_SETTINGS.dueDays]?.trim();
  if (due !== undefined && due !== '') {
    if (/^\d+$/.test(due) && Number(due) >= 1 && Number(due) <= 3650) dueDays = Number(due);
    else problems.push({ setting: XAPI_SETTINGS.dueDays, problem: `must be a whole number of days from 1 to 3650 (got ${JSON.stringify(due)})` });
  }

  const badCourses = (settings.courseIds ?? []).filter((id) => !IRI.test(id));
  if (badCourses.length > 0) problems.push({ setting: 'LMS_COURSE_IDS', problem: `must list course activity IRIs for LMS_ADAPTER=xapi (not an IRI: ${badCourses.map((b) => JSON.stringify(b)).join(', ')})` });

  if (settings.username === undefined) problems.push({ setting: 'LMS_USERNAME', problem: 'is required when LMS_ADAPTER=xapi (the LRS key)' });
  if (settings.password === undefined) problems.push({ setting: 'LMS_PASSWORD', problem: 'is required when LMS_ADAPTER=xapi (the LRS secret)' });
  if (settings.baseUrl === '') problems.push({ setting: 'LMS_BASE_URL', problem: 'is required when LMS_ADAPTER=xapi (the LRS endpoint that serves statements)' });

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    verbs,
    progressSources,
    assignmentType,
    dueDays,
    courseIds: settings.courseIds !== undefined && settings.courseIds.length > 0 ? new Set(settings.courseIds) : undefined,
  };
}
