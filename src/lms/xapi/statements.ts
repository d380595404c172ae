/**
 * Reading xAPI statements (xAPI-Data.md §2): who the learner is, which course a statement is
 * about, and the enrollment id the two make. Pure; statements are untrusted JSON, so every
 * field is checked before use.
 */
import { createHash } from 'node:crypto';
import { normalizeDateTime } from '../../mapping/enrollment.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The learner behind an Agent actor, by its inverse functional identifier (xAPI-Data.md §2.4.2.3). */
export interface XapiActor {
  /** Stable and decodable: "mbox:ada@contoso.example", "account:<homePage>:<name>", "openid:<url>", "sha1:<hex>". */
  readonly key: string;
  /** The `agent` query parameter that selects this learner's statements. */
  readonly agent: JsonObject;
  readonly learnerId: string;
  readonly email?: string;
}

const EMAIL = /^[^@\s:]+@[^@\s:]+\.[^@\s:]+$/;

/** `:` and `%` escaped, so the parts of a key can be split again. */
function esc(value: string): string {
  return value.replace(/%/g, '%25').replace(/:/g, '%3A');
}

function unesc(value: string): string {
  return value.replace(/%3A/gi, ':').replace(/%25/g, '%');
}

/** The learner of an Agent; undefined for a Group (Viva activities belong to one person) or an actor with no identifier. */
export function actorOf(actor: unknown): XapiActor | undefined {
  if (!isObject(actor)) return undefined;
  if (actor['objectType'] !== undefined && actor['objectType'] !== 'Agent') return undefined;
  const mbox = str(actor['mbox']);
  if (mbox !== undefined) {
    const address = mbox.replace(/^mailto:/i, '');
    return { key: `mbox:${esc(address)}`, agent: { mbox }, learnerId: address, ...(EMAIL.test(address) ? { email: address } : {}) };
  }
  const account = actor['account'];
  if (isObject(account)) {
    const homePage = str(account['homePage']);
    const name = str(account['name']);
    if (homePage === undefined || name === undefined) return undefined;
    // An LRS account named by an e-mail address (or a UPN) is the usual way to name Entra users.
    return { key: `account:${esc(homePage)}:${esc(name)}`, agent: { account: { homePage, name } }, learnerId: name, ...(EMAIL.test(name) ? { email: name } : {}) };
  }
  const openid = str(actor['openid']);
  if (openid !== undefined) return { key: `openid:${esc(openid)}`, agent: { openid }, learnerId: openid };
  const sha1 = str(actor['mbox_sha1sum']);
  if (sha1 !== undefined) return { key: `sha1:${esc(sha1)}`, agent: { mbox_sha1sum: sha1 }, learnerId: sha1 };
  return undefined;
}

/** Activity types that mark a course (cmi5, ADL vocabulary, TinCan registry). */
export const COURSE_TYPES: ReadonlySet<string> = new Set([
  'https://w3id.org/xapi/cmi5/activitytype/course',
  'http://adlnet.gov/expapi/activities/course',
  'http://id.tincanapi.com/activitytype/lms/course',
]);

export interface CourseRef {
  readonly iri: string;
  /** `course`: the statement is about the course itself; `child`: about an activity inside it. */
  readonly level: 'course' | 'child';
  readonly definition: JsonObject | undefined;
}

function activityType(activity: JsonObject): string | undefined {
  const definition = activity['definition'];
  return isObject(definition) ? str(definition['type']) : undefined;
}

/**
 * The course a statement is about:
 * 1. the object, when its definition type is a course type;
 * 2. else a course-typed parent or grouping activity in the context (a Moodle module, quiz
 *    attempt or SCO inside a course): the statement is about a child of that course;
 * 3. else the object activity itself (a cmi5 AU, a Totara program, a content package).
 * Undefined when the object is not an Activity (an Agent, a SubStatement, a StatementRef).
 */
export function courseOf(statement: JsonObject): CourseRef | undefined {
  const object = statement['object'];
  if (!isObject(object)) return undefined;
  if (object['objectType'] !== undefined && object['objectType'] !== 'Activity') return undefined;
  const iri = str(object['id']);
  if (iri === undefined) return undefined;
  const definition = isObject(object['definition']) ? object['definition'] : undefined;
  const type = activityType(object);
  if (type !== undefined && COURSE_TYPES.has(type)) return { iri, level: 'course', definition };
  const context = statement['context'];
  const contextActivities = isObject(context) && isObject(context['contextActivities']) ? context['contextActivities'] : undefined;
  for (const kind of ['parent', 'grouping'] as const) {
    const list = contextActivities?.[kind];
    const activities = Array.isArray(list) ? list : isObject(list) ? [list] : [];
    for (const activity of activities) {
      if (!isObject(activity)) continue;
      const ancestorType = activityType(activity);
      const ancestorIri = str(activity['id']);
      if (ancestorIri !== undefined && ancestorType !== undefined && COURSE_TYPES.has(ancestorType)) {
        return ancestorIri === iri ? { iri, level: 'course', definition } : { iri: ancestorIri, level: 'child', definition: isObject(activity['definition']) ? activity['definition'] : undefined };
      }
    }
  }
  return { iri, level: 'course', definition };
}

export function verbOf(statement: JsonObject): string | undefined {
  const verb = statement['verb'];
  return isObject(verb) ? str(verb['id']) : undefined;
}

/** `stored` (the LRS's receipt time, what `since` filters on), normalised; undefined when absent or unreadable. */
export function storedOf(statement: JsonObject): string | undefined {
  const stored = str(statement['stored']);
  return stored === undefined ? undefined : normalizeDateTime(stored);
}

/** When it happened: `timestamp`, else `stored`. */
export function whenOf(statement: JsonObject): string | undefined {
  const timestamp = str(statement['timestamp']);
  return (timestamp === undefined ? undefined : normalizeDateTime(timestamp)) ?? storedOf(statement);
}

const MAX_ID = 400;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** "xapi:<actor key>:<course IRI>", or "xapi:sha256:<hex>" when that would pass 400 characters. */
export function enrollmentIdFor(actorKey: string, courseIri: string): string {
  const id = `xapi:${actorKey}:${courseIri}`;
  return id.length <= MAX_ID ? id : `xapi:sha256:${sha256(`${actorKey}\n${courseIri}`)}`;
}

/** The course's id in Viva (the content's externalId): the IRI, hashed when longer than 400 characters. */
export function courseIdFor(courseIri: string): string {
  return courseIri.length <= MAX_ID ? courseIri : `xapi-course:sha256:${sha256(courseIri)}`;
}

export interface EnrollmentKey {
  readonly actorKey: string;
  readonly agent: JsonObject;
  readonly courseIri: string;
}

/** Reads an id made by `enrollmentIdFor` back; undefined for hashed or foreign ids. */
export function parseEnrollmentId(enrollmentId: string): EnrollmentKey | undefined {
  const match = /^xapi:(mbox|openid|sha1):([^:]+):(.+)$/.exec(enrollmentId) ?? /^xapi:(account):([^:]+:[^:]+):(.+)$/.exec(enrollmentId);
  if (match === null) return undefined;
  const [, kind, encoded, courseIri] = match;
  if (kind === undefined || encoded === undefined || courseIri === undefined) return undefined;
  const actorKey = `${kind}:${encoded}`;
  switch (kind) {
    case 'mbox':
      return { actorKey, agent: { mbox: `mailto:${unesc(encoded)}` }, courseIri };
    case 'openid':
      return { actorKey, agent: { openid: unesc(encoded) }, courseIri };
    case 'sha1':
      return { actorKey, agent: { mbox_sha1sum: unesc(encoded) }, courseIri };
    default: {
      const [homePage, name] = encoded.split(':');
      if (homePage === undefined || name === undefined) return undefined;
      return { actorKey, agent: { account: { homePage: unesc(homePage), name: unesc(name) } }, courseIri };
    }
  }
}

/** A language map's text: en-US, then en, then the first entry; with its language tag. */
export function pickLanguage(map: unknown): { text: string; language: string } | undefined {
  if (!isObject(map)) return undefined;
  const entries = Object.entries(map).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '');
  const chosen = entries.find(([k]) => k === 'en-US') ?? entries.find(([k]) => k.toLowerCase().startsWith('en')) ?? entries[0];
  return chosen === undefined ? undefined : { text: chosen[1].trim(), language: chosen[0] };
}

export function isHttpUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
