/**
 * Body validation of learningCourseActivity, learningContent and learningProvider, as the
 * documentation states it (shared/reference/graph-learning-api.md §2, §3) and the metadata types it
 * (graph-learning-csdl.xml). Pure functions: no state, no I/O.
 */

import { isDateTimeOffset, isEdmDuration, isInt32, isLocalDateTime } from './odata.js';
import { fieldEmpty, fieldInvalid, fieldRequired, unknownProperty, type Reply } from './replies.js';
import type {
  ActivityODataType,
  ActivityRecord,
  AssignmentType,
  BodyType,
  ContentLevel,
  ContentRecord,
  CourseStatus,
  DateTimeTimeZoneRecord,
  ItemBodyRecord,
  JsonObject,
  JsonValue,
  LearningAssignmentRecord,
  LearningSelfInitiatedCourseRecord,
  ProviderRecord,
  SelfInitiatedCourseStatus,
} from './types.js';

export const ASSIGNMENT_TYPE = '#microsoft.graph.learningAssignment';
export const SELF_INITIATED_TYPE = '#microsoft.graph.learningSelfInitiatedCourse';

/** Distinguishes a validation failure (a Reply) from a value. */
export function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'kind' in v && 'status' in v;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Instance annotations ("@odata.context", "x@odata.type", …) other than the top-level
 * "@odata.type" are ignored, as OData readers do by default.
 */
function isAnnotation(key: string): boolean {
  return key.includes('@');
}

function findUnknown(body: JsonObject, allowed: ReadonlySet<string>, typeName: string): Reply | undefined {
  for (const key of Object.keys(body)) {
    if (key === '@odata.type' || isAnnotation(key)) continue;
    if (!allowed.has(key)) return unknownProperty(key, typeName);
  }
  return undefined;
}

function has(body: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key);
}

// ---------------------------------------------------------------------------------------------
// Field readers. Each returns the value, or a Reply describing the documented 400.
// ---------------------------------------------------------------------------------------------

function requiredString(body: JsonObject, field: string): string | Reply {
  const v = body[field];
  if (v === undefined || v === null) return fieldRequired(field);
  if (typeof v !== 'string') return fieldInvalid(field);
  if (v.trim().length === 0) return fieldEmpty(field);
  return v;
}

/** undefined when absent, null when null. */
function optionalString(body: JsonObject, field: string): string | null | undefined | Reply {
  const v = body[field];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') return fieldInvalid(field);
  return v;
}

function optionalDate(body: JsonObject, field: string): string | null | undefined | Reply {
  const v = optionalString(body, field);
  if (typeof v === 'string' && !isDateTimeOffset(v)) return fieldInvalid(field);
  return v;
}

function optionalBoolean(body: JsonObject, field: string): boolean | null | undefined | Reply {
  const v = body[field];
  if (v === undefined || v === null || typeof v === 'boolean') return v;
  return fieldInvalid(field);
}

function optionalStringArray(body: JsonObject, field: string): string[] | null | undefined | Reply {
  const v = body[field];
  if (v === undefined || v === null) return v;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) return fieldInvalid(field);
  return [...v];
}

function optionalPercentage(body: JsonObject, field: string): number | null | undefined | Reply {
  const v = body[field];
  if (v === undefined || v === null) return v;
  if (!isInt32(v) || v < 0 || v > 100) return fieldInvalid(field);
  return v;
}

function dueDateTime(body: JsonObject): DateTimeTimeZoneRecord | null | undefined | Reply {
  const v = body.dueDateTime;
  if (v === undefined || v === null) return v;
  if (!isJsonObject(v)) return fieldInvalid('dueDateTime');
  const unknown = findUnknown(v, DATE_TIME_TIME_ZONE_PROPS, 'microsoft.graph.dateTimeTimeZone');
  if (unknown) return unknown;
  const dt = v.dateTime;
  if (dt === undefined || dt === null) return fieldRequired('dueDateTime.dateTime');
  if (typeof dt !== 'string' || !isLocalDateTime(dt)) return fieldInvalid('dueDateTime');
  const tz = v.timeZone;
  if (tz !== undefined && tz !== null && (typeof tz !== 'string' || tz.trim().length === 0)) return fieldInvalid('dueDateTime');
  return { dateTime: dt, timeZone: tz ?? null };
}

function notes(body: JsonObject): ItemBodyRecord | null | undefined | Reply {
  const v = body.notes;
  if (v === undefined || v === null) return v;
  if (!isJsonObject(v)) return fieldInvalid('notes');
  const unknown = findUnknown(v, ITEM_BODY_PROPS, 'microsoft.graph.itemBody');
  if (unknown) return unknown;
  const ct = v.contentType;
  let contentType: BodyType | null = null;
  if (ct !== undefined && ct !== null) {
    if (ct !== 'text' && ct !== 'html') return fieldInvalid('notes');
    contentType = ct;
  }
  const content = v.content;
  if (content !== undefined && content !== null && typeof content !== 'string') return fieldInvalid('notes');
  return { contentType, content: content ?? null };
}

const DATE_TIME_TIME_ZONE_PROPS: ReadonlySet<string> = new Set(['dateTime', 'timeZone']);
const ITEM_BODY_PROPS: ReadonlySet<string> = new Set(['contentType', 'content']);

// ---------------------------------------------------------------------------------------------
// learningCourseActivity
// ---------------------------------------------------------------------------------------------

/**
 * The metadata spells the property `externalcourseActivityId`; every documented body spells it
 * `externalCourseActivityId`. Both are accepted; nothing else (payload names are case-sensitive).
 */
const EXTERNAL_ID_SPELLINGS = ['externalCourseActivityId', 'externalcourseActivityId'] as const;

const BASE_ACTIVITY_PROPS = [
  'id',
  ...EXTERNAL_ID_SPELLINGS,
  'learningContentId',
  'learnerUserId',
  'learningProviderId',
  'status',
  'completionPercentage',
  'completedDateTime',
];
const ASSIGNMENT_PROPS: ReadonlySet<string> = new Set([
  ...BASE_ACTIVITY_PROPS,
  'assignedDateTime',
  'assignerUserId',
  'assignmentType',
  'dueDateTime',
  'notes',
]);
const SELF_INITIATED_PROPS: ReadonlySet<string> = new Set([...BASE_ACTIVITY_PROPS, 'startedDateTime']);

const COURSE_STATUS: readonly CourseStatus[] = ['notStarted', 'inProgress', 'completed'];
const SELF_STATUS: readonly SelfInitiatedCourseStatus[] = ['inProgress', 'completed'];
/**
 * The create page lists required / recommended (and the unknownFutureValue sentinel, which a
 * client cannot meaningfully send); peerRecommended is an evolvable member the documentation only
 * mentions for reads with `Prefer: include-unknown-enum-members`, so it is refused on writes.
 */
const ASSIGNMENT_TYPES: readonly AssignmentType[] = ['required', 'recommended'];

/** Reads and checks `@odata.type` (required on create and update), then rejects unknown properties. */
export function activityType(body: JsonObject): ActivityODataType | Reply {
  const t = body['@odata.type'];
  if (t === undefined || t === null) return fieldRequired('@odata.type');
  if (t !== ASSIGNMENT_TYPE && t !== SELF_INITIATED_TYPE) return fieldInvalid('@odata.type');
  const unknown =
    t === ASSIGNMENT_TYPE
      ? findUnknown(body, ASSIGNMENT_PROPS, 'microsoft.graph.learningAssignment')
      : findUnknown(body, SELF_INITIATED_PROPS, 'microsoft.graph.learningSelfInitiatedCourse');
  return unknown ?? t;
}

function externalActivityId(body: JsonObject): string | null | undefined | Reply {
  let found: string | null | undefined;
  for (const spelling of EXTERNAL_ID_SPELLINGS) {
    if (!has(body, spelling)) continue;
    const v = body[spelling];
    if (v !== null && typeof v !== 'string') return fieldInvalid('externalCourseActivityId');
    if (typeof v === 'string' && v.trim().length === 0) return fieldEmpty('externalCourseActivityId');
    if (found !== undefined && found !== v) return fieldInvalid('externalCourseActivityId');
    found = v ?? null;
  }
  return found;
}

function status(body: JsonObject, type: ActivityODataType): CourseStatus | Reply {
  const v = body.status;
  if (v === undefined || v === null) return fieldRequired('status');
  const allowed: readonly string[] = type === SELF_INITIATED_TYPE ? SELF_STATUS : COURSE_STATUS;
  if (typeof v !== 'string' || !allowed.includes(v)) return fieldInvalid('status');
  return v as CourseStatus;
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Fields of a new activity, before the stand-in assigns its id. */
export type ActivityDraft =
  | Omit<LearningAssignmentRecord, 'id'>
  | Omit<LearningSelfInitiatedCourseRecord, 'id'>;

/**
 * POST body → activity fields. `@odata.type` must already have been read with activityType().
 * Checks required fields (learningContentId, learnerUserId, status; assignmentType for
 * assignments), formats and enums, and that learningProviderId, when sent, is the path's.
 * References (content, learner) are checked by the caller, which owns the state.
 */
export function validateActivityCreate(
  body: JsonObject,
  type: ActivityODataType,
  providerId: string,
): ActivityDraft | Reply {
  const learningContentId = requiredString(body, 'learningContentId');
  if (isReply(learningContentId)) return learningContentId;
  const learnerUserId = requiredString(body, 'learnerUserId');
  if (isReply(learnerUserId)) return learnerUserId;
  const st = status(body, type);
  if (isReply(st)) return st;

  let assignmentType: AssignmentType | undefined;
  if (type === ASSIGNMENT_TYPE) {
    const at = body.assignmentType;
    if (at === undefined || at === null) return fieldRequired('assignmentType');
    if (typeof at !== 'string' || !(ASSIGNMENT_TYPES as readonly string[]).includes(at)) return fieldInvalid('assignmentType');
    assignmentType = at as AssignmentType;
  }

  const ext = externalActivityId(body);
  if (isReply(ext)) return ext;
  const lp = optionalString(body, 'learningProviderId');
  if (isReply(lp)) return lp;
  if (typeof lp === 'string' && !sameId(lp, providerId)) return fieldInvalid('learningProviderId');
  const pct = optionalPercentage(body, 'completionPercentage');
  if (isReply(pct)) return pct;
  const completed = optionalDate(body, 'completedDateTime');
  if (isReply(completed)) return completed;
  if (body.id !== undefined && body.id !== null && typeof body.id !== 'string') return fieldInvalid('id');

  const base = {
    externalCourseActivityId: ext ?? null,
    learningContentId,
    learningProviderId: providerId,
    learnerUserId,
    completedDateTime: completed ?? null,
    completionPercentage: pct ?? null,
  };

  if (type === SELF_INITIATED_TYPE) {
    const started = optionalDate(body, 'startedDateTime');
    if (isReply(started)) return started;
    return {
      '@odata.type': SELF_INITIATED_TYPE,
      ...base,
      status: st as SelfInitiatedCourseStatus,
      startedDateTime: started ?? null,
    };
  }

  const assigned = optionalDate(body, 'assignedDateTime');
  if (isReply(assigned)) return assigned;
  const assigner = optionalString(body, 'assignerUserId');
  if (isReply(assigner)) return assigner;
  const due = dueDateTime(body);
  if (isReply(due)) return due;
  const nt = notes(body);
  if (isReply(nt)) return nt;
  return {
    '@odata.type': ASSIGNMENT_TYPE,
    ...base,
    status: st,
    assignmentType: assignmentType ?? 'required',
    assignedDateTime: assigned ?? null,
    assignerUserId: assigner ?? null,
    dueDateTime: due ?? null,
    notes: nt ?? null,
  };
}

function jsonEquals(a: JsonValue | undefined, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * PATCH body → the updated activity. The documentation lists what may change (assignment:
 * assignedDateTime, completedDateTime, completionPercentage, dueDateTime, notes, status;
 * self-initiated: completedDateTime, completionPercentage, status, startedDateTime), makes
 * `@odata.type` and `status` required, and its examples resend the other fields unchanged.
 * Changing one of those others is not documented; the stand-in refuses it as an invalid field so
 * that a connector relying on it is caught (Graph would at best ignore it).
 */
export function validateActivityUpdate(
  body: JsonObject,
  type: ActivityODataType,
  stored: ActivityRecord,
  providerId: string,
): ActivityRecord | Reply {
  if (type !== stored['@odata.type']) return fieldInvalid('@odata.type');
  const st = status(body, type);
  if (isReply(st)) return st;

  // Not updatable: accepted only when equal to the stored value.
  if (body.id !== undefined && body.id !== stored.id) return fieldInvalid('id');
  const ext = externalActivityId(body);
  if (isReply(ext)) return ext;
  if (ext !== undefined && ext !== stored.externalCourseActivityId) return fieldInvalid('externalCourseActivityId');
  for (const field of ['learningContentId', 'learnerUserId'] as const) {
    const v = body[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !sameId(v, stored[field])) return fieldInvalid(field);
  }
  const lp = body.learningProviderId;
  if (lp !== undefined && lp !== null && (typeof lp !== 'string' || !sameId(lp, providerId))) {
    return fieldInvalid('learningProviderId');
  }

  const pct = optionalPercentage(body, 'completionPercentage');
  if (isReply(pct)) return pct;
  const completed = optionalDate(body, 'completedDateTime');
  if (isReply(completed)) return completed;

  if (stored['@odata.type'] === SELF_INITIATED_TYPE) {
    const started = optionalDate(body, 'startedDateTime');
    if (isReply(started)) return started;
    return {
      ...stored,
      status: st as SelfInitiatedCourseStatus,
      completionPercentage: pct === undefined ? stored.completionPercentage : pct,
      completedDateTime: completed === undefined ? stored.completedDateTime : completed,
      startedDateTime: started === undefined ? stored.startedDateTime : started,
    };
  }

  for (const field of ['assignmentType', 'assignerUserId'] as const) {
    if (has(body, field) && !jsonEquals(body[field], stored[field])) return fieldInvalid(field);
  }
  const assigned = optionalDate(body, 'assignedDateTime');
  if (isReply(assigned)) return assigned;
  const due = dueDateTime(body);
  if (isReply(due)) return due;
  const nt = notes(body);
  if (isReply(nt)) return nt;
  return {
    ...stored,
    status: st,
    completionPercentage: pct === undefined ? stored.completionPercentage : pct,
    completedDateTime: completed === undefined ? stored.completedDateTime : completed,
    assignedDateTime: assigned === undefined ? stored.assignedDateTime : assigned,
    dueDateTime: due === undefined ? stored.dueDateTime : due,
    notes: nt === undefined ? stored.notes : nt,
  };
}

// ---------------------------------------------------------------------------------------------
// learningContent
// ---------------------------------------------------------------------------------------------

const CONTENT_PROPS: ReadonlySet<string> = new Set([
  'id',
  'externalId',
  'title',
  'description',
  'contentWebUrl',
  'sourceName',
  'thumbnailWebUrl',
  'languageTag',
  'numberOfPages',
  'duration',
  'format',
  'level',
  'createdDateTime',
  'lastModifiedDateTime',
  'contributors',
  'additionalTags',
  'skillTags',
  'isActive',
  'isPremium',
  'isSearchable',
]);

const LEVELS: readonly ContentLevel[] = ['beginner', 'intermediate', 'advanced'];

/**
 * The upsert body → the whole new record ("this operation replaces the metadata of the existing
 * content"): omitted optional properties are reset (null, [], or the documented defaults isActive
 * true / isPremium false / isSearchable true). The learningContent pages document no error table;
 * the stand-in answers with the learningCourseActivity field-validation wording.
 * `level` is matched case-insensitively (the documented body sends "Beginner") and stored as the
 * enum member name, which is how OData serializes it.
 */
export function validateContent(body: JsonObject, externalId: string, id: string): ContentRecord | Reply {
  const unknown = findUnknown(body, CONTENT_PROPS, 'microsoft.graph.learningContent');
  if (unknown) return unknown;
  if (body.id !== undefined && body.id !== null && (typeof body.id !== 'string' || !sameId(body.id, id))) return fieldInvalid('id');
  if (body.externalId !== undefined && body.externalId !== null && body.externalId !== externalId) return fieldInvalid('externalId');

  const title = requiredString(body, 'title');
  if (isReply(title)) return title;
  const contentWebUrl = requiredString(body, 'contentWebUrl');
  if (isReply(contentWebUrl)) return contentWebUrl;
  const languageTag = requiredString(body, 'languageTag');
  if (isReply(languageTag)) return languageTag;

  const strings: Record<'description' | 'sourceName' | 'thumbnailWebUrl' | 'format', string | null> = {
    description: null,
    sourceName: null,
    thumbnailWebUrl: null,
    format: null,
  };
  for (const field of ['description', 'sourceName', 'thumbnailWebUrl', 'format'] as const) {
    const v = optionalString(body, field);
    if (isReply(v)) return v;
    strings[field] = v ?? null;
  }

  const pages = body.numberOfPages;
  if (pages !== undefined && pages !== null && !isInt32(pages)) return fieldInvalid('numberOfPages');
  const duration = optionalString(body, 'duration');
  if (isReply(duration)) return duration;
  if (typeof duration === 'string' && !isEdmDuration(duration)) return fieldInvalid('duration');

  const levelRaw = body.level;
  let level: ContentLevel | null = null;
  if (levelRaw !== undefined && levelRaw !== null) {
    const found = typeof levelRaw === 'string' ? LEVELS.find((l) => l === levelRaw.toLowerCase()) : undefined;
    if (!found) return fieldInvalid('level');
    level = found;
  }

  const created = optionalDate(body, 'createdDateTime');
  if (isReply(created)) return created;
  const modified = optionalDate(body, 'lastModifiedDateTime');
  if (isReply(modified)) return modified;

  const arrays: Record<'contributors' | 'additionalTags' | 'skillTags', string[]> = {
    contributors: [],
    additionalTags: [],
    skillTags: [],
  };
  for (const field of ['contributors', 'additionalTags', 'skillTags'] as const) {
    const v = optionalStringArray(body, field);
    if (isReply(v)) return v;
    arrays[field] = v ?? [];
  }

  const flags: Record<'isActive' | 'isPremium' | 'isSearchable', boolean> = {
    isActive: true,
    isPremium: false,
    isSearchable: true,
  };
  for (const field of ['isActive', 'isPremium', 'isSearchable'] as const) {
    const v = optionalBoolean(body, field);
    if (isReply(v)) return v;
    if (typeof v === 'boolean') flags[field] = v;
  }

  return {
    id,
    externalId,
    title,
    description: strings.description,
    contentWebUrl,
    sourceName: strings.sourceName,
    thumbnailWebUrl: strings.thumbnailWebUrl,
    languageTag,
    numberOfPages: typeof pages === 'number' ? pages : null,
    duration: duration ?? null,
    format: strings.format,
    level,
    createdDateTime: created ?? null,
    lastModifiedDateTime: modified ?? null,
    contributors: arrays.contributors,
    additionalTags: arrays.additionalTags,
    skillTags: arrays.skillTags,
    isActive: flags.isActive,
    isPremium: flags.isPremium,
    isSearchable: flags.isSearchable,
  };
}

// ---------------------------------------------------------------------------------------------
// learningProvider
// ---------------------------------------------------------------------------------------------

const LOGO_FIELDS = [
  'squareLogoWebUrlForDarkTheme',
  'longLogoWebUrlForDarkTheme',
  'squareLogoWebUrlForLightTheme',
  'longLogoWebUrlForLightTheme',
] as const;

const PROVIDER_PROPS: ReadonlySet<string> = new Set([
  'id',
  'displayName',
  ...LOGO_FIELDS,
  'loginWebUrl',
  'isCourseActivitySyncEnabled',
]);

/**
 * POST (create: displayName and the four logo URLs required) or PATCH (update: only what is sent
 * changes; required properties cannot be cleared). The provider pages document no error table;
 * the learningCourseActivity field-validation wording is used.
 */
export function validateProvider(
  body: JsonObject,
  existing: ProviderRecord | undefined,
  id: string,
): ProviderRecord | Reply {
  const unknown = findUnknown(body, PROVIDER_PROPS, 'microsoft.graph.learningProvider');
  if (unknown) return unknown;
  if (existing && body.id !== undefined && body.id !== null && body.id !== existing.id) return fieldInvalid('id');

  const readRequired = (field: 'displayName' | (typeof LOGO_FIELDS)[number]): string | Reply => {
    if (existing && !has(body, field)) return existing[field];
    return requiredString(body, field);
  };
  const displayName = readRequired('displayName');
  if (isReply(displayName)) return displayName;
  const logos: Record<(typeof LOGO_FIELDS)[number], string> = {
    squareLogoWebUrlForDarkTheme: '',
    longLogoWebUrlForDarkTheme: '',
    squareLogoWebUrlForLightTheme: '',
    longLogoWebUrlForLightTheme: '',
  };
  for (const field of LOGO_FIELDS) {
    const v = readRequired(field);
    if (isReply(v)) return v;
    logos[field] = v;
  }
  const login = optionalString(body, 'loginWebUrl');
  if (isReply(login)) return login;
  const sync = optionalBoolean(body, 'isCourseActivitySyncEnabled');
  if (isReply(sync)) return sync;

  return {
    id,
    displayName,
    ...logos,
    loginWebUrl: login === undefined ? (existing?.loginWebUrl ?? null) : login,
    // Default false (learningProvider resource page).
    isCourseActivitySyncEnabled: sync === undefined || sync === null ? (existing?.isCourseActivitySyncEnabled ?? false) : sync,
  };
}
