/**
 * Body validation of learningCourseActivity, learningContent and learningProvider.
 *
 * Property names, types, nullability and enum members come from Microsoft's metadata at run time
 * (csdl.ts reads metadata/graph-learning-csdl.xml): an unknown property, a value of the wrong
 * type, a misspelled enum member or a missing `Nullable="false"` property is refused here without
 * any list of properties written in this file. Where the documentation is stricter than the
 * metadata, its rule is added below and names its source (keys of shared/reference/graph-learning-api.md
 * §0: A-CRE create page, A-UPD update page, A-LCU content upsert, R-* resource pages, ERR error codes).
 * Where the sources disagree the stricter reading wins. Pure functions: no state, no I/O.
 */

import { learningMetadata, type EdmModel, type EdmProperty, type EdmStructuredType, type EdmTypeRef } from './csdl.js';
import { isDateTimeOffset, isEdmDuration, isInt32, isLocalDateTime } from './odata.js';
import { fieldEmpty, fieldInvalid, fieldRequired, unknownProperty, type Reply } from './replies.js';
import type {
  ActivityODataType,
  ActivityRecord,
  ContentRecord,
  JsonObject,
  JsonValue,
  LearningAssignmentRecord,
  LearningSelfInitiatedCourseRecord,
  ProviderRecord,
} from './types.js';

export const ASSIGNMENT_TYPE = '#microsoft.graph.learningAssignment';
export const SELF_INITIATED_TYPE = '#microsoft.graph.learningSelfInitiatedCourse';

const ACTIVITY = 'microsoft.graph.learningCourseActivity';
const CONTENT = 'microsoft.graph.learningContent';
const PROVIDER = 'microsoft.graph.learningProvider';

/** Distinguishes a validation failure (a Reply) from a value. */
export function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'kind' in v && 'status' in v;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(body: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key);
}

/**
 * `checks: false` skips every body rule (GraphStandInOptions.validateBodies = false): only for the
 * test that proves the conformance tests fail without the validator.
 */
export interface ValidateOptions {
  readonly checks?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Metadata-driven checks
// ---------------------------------------------------------------------------------------------

/**
 * `create`: a new entity (POST): every Nullable=false property except the key is required.
 * `replace`: the content upsert, which "replaces the metadata of the existing content" [A-LCU]:
 * as create. `update`: PATCH: only what is sent is checked; Nullable=false ones cannot be null.
 */
type Mode = 'create' | 'replace' | 'update';

/**
 * Spellings the documentation uses where the metadata spells a property differently. Every
 * documented body and response writes `externalCourseActivityId` [A-CRE, A-UPD, A-GET]; the
 * metadata declares `externalcourseActivityId` [CSDL1]. Both are accepted (payload names are
 * otherwise case-sensitive), and records answer in the documented spelling.
 */
const DOCUMENTED_SPELLING: Readonly<Record<string, string>> = { externalcourseActivityId: 'externalCourseActivityId' };

function spellingsOf(prop: string): string[] {
  const documented = DOCUMENTED_SPELLING[prop];
  return documented === undefined ? [prop] : [documented, prop];
}

/** The name a field is reported under: the documented spelling when there is one. */
function reported(prop: string, prefix: string): string {
  return `${prefix}${DOCUMENTED_SPELLING[prop] ?? prop}`;
}

/** Instance annotations ("@odata.context", "x@odata.type", …) are not properties; OData readers skip them. */
function isAnnotation(key: string): boolean {
  return key.includes('@');
}

/** The checked values of a body, by metadata property name, with enum members in canonical case. */
type Checked = Map<string, JsonValue>;

function checkPrimitive(type: string, value: JsonValue, field: string, nullable: boolean): JsonValue | Reply {
  switch (type) {
    case 'Edm.String':
      if (typeof value !== 'string') return fieldInvalid(field);
      // [ERR] "Input field {fieldName} shouldn't be empty": applied to the Nullable=false strings.
      if (!nullable && value.trim().length === 0) return fieldEmpty(field);
      return value;
    case 'Edm.Int32':
      return isInt32(value) ? value : fieldInvalid(field);
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? value : fieldInvalid(field);
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && isDateTimeOffset(value) ? value : fieldInvalid(field);
    case 'Edm.Duration':
      // OData JSON writes Edm.Duration as an ISO 8601 duration literal, e.g. "PT20M" [A-LCU].
      return typeof value === 'string' && isEdmDuration(value) ? value : fieldInvalid(field);
    default:
      return fieldInvalid(field);
  }
}

/**
 * An enum member by name. Matched case-insensitively because the documented content upsert sends
 * "Beginner" for the member `beginner` and is answered 202 [A-LCU]; stored as the member name.
 * Members from `unknownFutureValue` on are refused: the sentinel is not a value a client may
 * send, and later members (peerRecommended) exist only for readers that opt in with
 * `Prefer: include-unknown-enum-members` [R-LA, A-LIST; Graph evolvable enums].
 */
function checkEnum(model: EdmModel, typeName: string, value: JsonValue, field: string): JsonValue | Reply {
  const members = model.enumType(typeName)?.members ?? [];
  const sentinel = members.indexOf('unknownFutureValue');
  const writable = sentinel >= 0 ? members.slice(0, sentinel) : members;
  if (typeof value !== 'string') return fieldInvalid(field);
  return writable.find((m) => m.toLowerCase() === value.toLowerCase()) ?? fieldInvalid(field);
}

function checkValue(model: EdmModel, type: EdmTypeRef, nullable: boolean, value: JsonValue, field: string): JsonValue | Reply {
  if (type.collection) {
    // A collection is never null (OData CSDL 4.01 §7.2.1); each item is checked as the element type.
    if (!Array.isArray(value)) return fieldInvalid(field);
    const items: JsonValue[] = [];
    for (const item of value) {
      if (item === null) return fieldInvalid(field);
      const checked = checkValue(model, { name: type.name, collection: false }, true, item, field);
      if (isReply(checked)) return checked;
      items.push(checked);
    }
    return items;
  }
  if (type.name.startsWith('Edm.')) return checkPrimitive(type.name, value, field, nullable);
  if (model.enumType(type.name)) return checkEnum(model, type.name, value, field);
  const complex = model.structured(type.name);
  if (!complex || !isJsonObject(value)) return fieldInvalid(field);
  // A complex value is sent whole, so its own Nullable=false members are required.
  const inner = checkStructured(model, complex, value, 'create', `${field}.`);
  return isReply(inner) ? inner : (Object.fromEntries(inner) as JsonObject);
}

/** Reads one property under any accepted spelling; two spellings with different values are refused. */
function readProperty(body: JsonObject, prop: EdmProperty, field: string): { present: false } | { present: true; value: JsonValue } | Reply {
  let found: { present: true; value: JsonValue } | undefined;
  for (const name of spellingsOf(prop.name)) {
    if (!has(body, name)) continue;
    const value = body[name] ?? null;
    if (found && JSON.stringify(found.value) !== JSON.stringify(value)) return fieldInvalid(field);
    found = { present: true, value };
  }
  return found ?? { present: false };
}

/**
 * Checks a body against a structured type of the metadata: property names (unknown ones refused
 * with OData's reader message), types, enum members, and the Nullable=false properties.
 */
function checkStructured(model: EdmModel, type: EdmStructuredType, body: JsonObject, mode: Mode, prefix = ''): Checked | Reply {
  const known = new Set<string>();
  for (const prop of type.properties.values()) for (const name of spellingsOf(prop.name)) known.add(name);
  for (const key of Object.keys(body)) {
    if (isAnnotation(key)) continue;
    if (!known.has(key)) return unknownProperty(key, type.name);
  }
  const out: Checked = new Map();
  for (const prop of type.properties.values()) {
    const field = reported(prop.name, prefix);
    const read = readProperty(body, prop, field);
    if (isReply(read)) return read;
    if (!read.present) {
      // The key (`id`) is generated by the service, never required of a client.
      if (mode !== 'update' && !prop.nullable && prop.name !== 'id') return fieldRequired(field);
      continue;
    }
    if (read.value === null) {
      if (!prop.nullable) return fieldRequired(field);
      if (prop.type.collection) return fieldInvalid(field);
      out.set(prop.name, null);
      continue;
    }
    const value = checkValue(model, prop.type, prop.nullable, read.value, field);
    if (isReply(value)) return value;
    out.set(prop.name, value);
  }
  return out;
}

/** A record holding every property of the type: what was sent, else `fallback`, else null / []. */
function materialize(type: EdmStructuredType, model: EdmModel, checked: Checked, fallback?: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const prop of type.properties.values()) {
    const outName = DOCUMENTED_SPELLING[prop.name] ?? prop.name;
    let value: unknown = checked.has(prop.name) ? checked.get(prop.name) : fallback?.[outName];
    if (value === undefined) value = prop.type.collection ? [] : null;
    const complex = !prop.type.collection && value !== null && model.structured(prop.type.name);
    if (complex && isJsonObject(value)) {
      value = materialize(complex, model, new Map(Object.entries(value)));
    }
    record[outName] = value;
  }
  return record;
}

function structured(model: EdmModel, name: string): EdmStructuredType {
  const t = model.structured(name);
  if (!t) throw new Error(`The metadata does not declare ${name}.`);
  return t;
}

/** `@odata.type` of a content or provider body, when sent, must name the type itself (OData). */
function checkOwnODataType(body: JsonObject, typeName: string): Reply | undefined {
  const t = body['@odata.type'];
  if (t === undefined || t === `#${typeName}`) return undefined;
  return fieldInvalid('@odata.type');
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// learningCourseActivity
// ---------------------------------------------------------------------------------------------

/**
 * [A-CRE, A-UPD, R-LA, R-SI] `@odata.type` is required in create and update bodies to pick the
 * subtype; the metadata decides which names are subtypes of learningCourseActivity.
 */
export function activityType(body: JsonObject): ActivityODataType | Reply {
  const t = body['@odata.type'];
  if (t === undefined || t === null) return fieldRequired('@odata.type');
  if (typeof t !== 'string' || !t.startsWith('#')) return fieldInvalid('@odata.type');
  const model = learningMetadata();
  const name = t.slice(1);
  if (!model.structured(name) || name === ACTIVITY || !model.derivesFrom(name, ACTIVITY)) return fieldInvalid('@odata.type');
  return t as ActivityODataType;
}

/** Fields of a new activity, before the stand-in assigns its id. */
export type ActivityDraft = Omit<LearningAssignmentRecord, 'id'> | Omit<LearningSelfInitiatedCourseRecord, 'id'>;

/** Rules the documentation adds to the metadata for every activity body (create and update). */
function documentedActivityRules(checked: Checked, type: ActivityODataType): Reply | undefined {
  // [R-CA, A-CRE, A-UPD] status is Required (the metadata leaves it nullable).
  const status = checked.get('status');
  if (status === undefined || status === null) return fieldRequired('status');
  // [R-SI, A-UPD] a self-initiated course is inProgress or completed, never notStarted.
  if (type === SELF_INITIATED_TYPE && status === 'notStarted') return fieldInvalid('status');
  // [R-LA, R-SI, A-CRE, A-UPD] completionPercentage, when provided, is 0–100 inclusive (metadata: any Int32).
  const pct = checked.get('completionPercentage');
  if (typeof pct === 'number' && (pct < 0 || pct > 100)) return fieldInvalid('completionPercentage');
  // [A-CRE, OAS3P] dueDateTime.dateTime is "{date}T{time}", e.g. 2022-09-22T16:05:00.0000000 (metadata: Edm.String).
  const due = checked.get('dueDateTime');
  if (isJsonObject(due) && typeof due.dateTime === 'string' && !isLocalDateTime(due.dateTime)) return fieldInvalid('dueDateTime.dateTime');
  return undefined;
}

/**
 * POST body → activity fields. `@odata.type` must already have been read with activityType().
 * References (content, learner) are checked by the caller, which owns the state.
 */
export function validateActivityCreate(body: JsonObject, type: ActivityODataType, providerId: string, options: ValidateOptions = {}): ActivityDraft | Reply {
  const bodyChecksEnabled = options.checks !== false;
  const model = learningMetadata();
  const t = structured(model, type.slice(1));
  const checked = bodyChecksEnabled ? checkStructured(model, t, body, 'create') : uncheckedMap(body);
  if (isReply(checked)) return checked;
  if (bodyChecksEnabled) {
    const rule = documentedActivityRules(checked, type);
    if (rule) return rule;
    // [A-CRE] learningProviderId is Required in the create table (metadata: nullable). The
    // documentation's self-initiated example omits it; the strictest reading is enforced.
    const lp = checked.get('learningProviderId');
    if (lp === undefined || lp === null) return fieldRequired('learningProviderId');
    // [stand-in] the activity belongs to the registration of the path.
    if (typeof lp === 'string' && !sameId(lp, providerId)) return fieldInvalid('learningProviderId');
  }
  checked.delete('id');
  const record = materialize(t, model, checked);
  delete record.id;
  record.learningProviderId = providerId;
  return { '@odata.type': type, ...record } as unknown as ActivityDraft;
}

/**
 * [A-UPD] What a PATCH may change: assignments assignedDateTime, completedDateTime,
 * completionPercentage, dueDateTime, notes, status; self-initiated completedDateTime,
 * completionPercentage, status, startedDateTime. The documented examples resend the other fields
 * unchanged; changing one of them is not documented, so the stand-in refuses it as an invalid
 * field (Graph would at best ignore it) to catch a connector that relies on it.
 */
const UPDATABLE: Readonly<Record<ActivityODataType, ReadonlySet<string>>> = {
  [ASSIGNMENT_TYPE]: new Set(['assignedDateTime', 'completedDateTime', 'completionPercentage', 'dueDateTime', 'notes', 'status']),
  [SELF_INITIATED_TYPE]: new Set(['completedDateTime', 'completionPercentage', 'status', 'startedDateTime']),
};
/** Ids compared case-insensitively (GUIDs). */
const ID_PROPERTIES: ReadonlySet<string> = new Set(['id', 'learningContentId', 'learnerUserId', 'learningProviderId']);

/** PATCH body → the updated activity. `@odata.type` and `status` are required [A-UPD]. */
export function validateActivityUpdate(
  body: JsonObject,
  type: ActivityODataType,
  stored: ActivityRecord,
  providerId: string,
  options: ValidateOptions = {},
): ActivityRecord | Reply {
  const bodyChecksEnabled = options.checks !== false;
  if (type !== stored['@odata.type']) return fieldInvalid('@odata.type');
  const model = learningMetadata();
  const t = structured(model, type.slice(1));
  const checked = bodyChecksEnabled ? checkStructured(model, t, body, 'update') : uncheckedMap(body);
  if (isReply(checked)) return checked;
  if (bodyChecksEnabled) {
    const rule = documentedActivityRules(checked, type);
    if (rule) return rule;
  }
  const current = stored as unknown as Record<string, unknown>;
  for (const [name, value] of checked) {
    if (UPDATABLE[type].has(name) || !bodyChecksEnabled) continue;
    const outName = DOCUMENTED_SPELLING[name] ?? name;
    const was = name === 'learningProviderId' ? providerId : current[outName];
    const same =
      ID_PROPERTIES.has(name) && typeof value === 'string' && typeof was === 'string'
        ? sameId(value, was)
        : JSON.stringify(value) === JSON.stringify(was ?? null);
    // learningProviderId may be sent as null by a client that leaves it out of the update.
    if (!same && !(name === 'learningProviderId' && value === null)) return fieldInvalid(reported(name, ''));
    checked.delete(name);
  }
  const record = materialize(t, model, checked, current);
  return { '@odata.type': type, ...record, id: stored.id, learningProviderId: stored.learningProviderId } as unknown as ActivityRecord;
}

// ---------------------------------------------------------------------------------------------
// learningContent
// ---------------------------------------------------------------------------------------------

/**
 * The upsert body → the whole new record ("this operation replaces the metadata of the existing
 * content" [A-LCU]): omitted optional properties are reset to null / [] or the documented
 * defaults isActive true, isPremium false, isSearchable true [R-LC]. `externalId` is required in
 * the body too (metadata Nullable=false, [A-LCU] property table "Required"; only the page's
 * example leaves it out) and must be the key of the URL. The learningContent pages document no
 * error table; the stand-in answers with the learningCourseActivity field-validation wording.
 */
export function validateContent(body: JsonObject, externalId: string, id: string, options: ValidateOptions = {}): ContentRecord | Reply {
  const bodyChecksEnabled = options.checks !== false;
  const model = learningMetadata();
  const t = structured(model, CONTENT);
  const checked = bodyChecksEnabled ? checkStructured(model, t, body, 'replace') : uncheckedMap(body);
  if (isReply(checked)) return checked;
  if (bodyChecksEnabled) {
    const ownType = checkOwnODataType(body, CONTENT);
    if (ownType) return ownType;
    // [stand-in] the id is the service's; a body may repeat it but not change it.
    const sentId = checked.get('id');
    if (typeof sentId === 'string' && !sameId(sentId, id)) return fieldInvalid('id');
    // [stand-in, OData] the alternate key in the URL and the property in the body must agree.
    if (checked.get('externalId') !== externalId) return fieldInvalid('externalId');
  }
  const record = materialize(t, model, checked);
  record.id = id;
  record.externalId = externalId;
  record.isActive ??= true;
  record.isPremium ??= false;
  record.isSearchable ??= true;
  return record as unknown as ContentRecord;
}

// ---------------------------------------------------------------------------------------------
// learningProvider
// ---------------------------------------------------------------------------------------------

/**
 * POST (create: every Nullable=false property — displayName and the four logo URLs — required
 * [metadata; A-LPC]) or PATCH (update: only what is sent changes; Nullable=false ones cannot be
 * cleared). The provider pages document no error table; the learningCourseActivity
 * field-validation wording is used.
 */
export function validateProvider(body: JsonObject, existing: ProviderRecord | undefined, id: string, options: ValidateOptions = {}): ProviderRecord | Reply {
  const bodyChecksEnabled = options.checks !== false;
  const model = learningMetadata();
  const t = structured(model, PROVIDER);
  const checked = bodyChecksEnabled ? checkStructured(model, t, body, existing ? 'update' : 'create') : uncheckedMap(body);
  if (isReply(checked)) return checked;
  if (bodyChecksEnabled) {
    const ownType = checkOwnODataType(body, PROVIDER);
    if (ownType) return ownType;
    const sentId = checked.get('id');
    if (existing && typeof sentId === 'string' && sentId !== existing.id) return fieldInvalid('id');
  }
  checked.delete('id');
  const record = materialize(t, model, checked, existing as unknown as Record<string, unknown> | undefined);
  record.id = id;
  // [R-LP] isCourseActivitySyncEnabled defaults to false.
  record.isCourseActivitySyncEnabled ??= false;
  return record as unknown as ProviderRecord;
}

/** With checks switched off: the body as sent (annotations dropped), so that nothing is refused. */
function uncheckedMap(body: JsonObject): Checked {
  const out: Checked = new Map();
  for (const [key, value] of Object.entries(body)) {
    if (isAnnotation(key)) continue;
    const metadataName = Object.entries(DOCUMENTED_SPELLING).find(([, doc]) => doc === key)?.[0] ?? key;
    out.set(metadataName, value);
  }
  return out;
}
