/**
 * The routes of the stand-in: employeeExperience learning providers, contents and course
 * activities, and the few /users reads the connector needs. Synchronous and I/O-free: the
 * transport (server.ts) does HTTP, auth, throttling, faults, latency and $batch.
 */

import { randomUUID } from 'node:crypto';
import { parseSelect, parseSimpleFilter, sameName, splitPath, stableContentId, type Segment } from './odata.js';
import {
  MESSAGES,
  empty,
  fieldInvalid,
  graphError,
  json,
  methodNotAllowed,
  segmentNotFound,
  selectUnknown,
  type Reply,
} from './replies.js';
import type { StandInStore } from './store.js';
import type { ActivityRecord, ContentRecord, JsonObject, ProviderRecord, StandInUser } from './types.js';
import {
  activityType,
  isJsonObject,
  isReply,
  validateActivityCreate,
  validateActivityUpdate,
  validateContent,
  validateProvider,
} from './validate.js';

/** The request body as the transport read it. */
export type RequestBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** Not JSON, or not declared as application/json. */
  | { kind: 'invalid' };

export interface RouteRequest {
  method: string;
  /** The path after the version segment, still percent-encoded, starting with '/'. */
  rawPath: string;
  query: URLSearchParams;
  /** Header lookup by lower-case name. */
  header(name: string): string | undefined;
  body: RequestBody;
  /** e.g. "http://127.0.0.1:43121/v1.0": the base of @odata.context and Location. */
  serviceRoot: string;
}

/** A content addressed by Viva id or by its alternate key. */
type ContentRef = { id: string } | { externalId: string };

const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function ok(status: number, body: object, headers?: Record<string, string>): Reply {
  return json(status, body, { 'Content-Type': ODATA_JSON, 'OData-Version': '4.0', ...headers });
}

function readJsonObject(body: RequestBody): JsonObject | Reply {
  if (body.kind === 'json' && isJsonObject(body.value)) return body.value;
  return graphError(400, 'BadRequest', MESSAGES.invalidJson);
}

/** OData `$select`: keeps @odata.* and the selected properties (names matched case-insensitively). */
function applySelect(entity: Record<string, unknown>, req: RouteRequest, typeName: string): Record<string, unknown> | Reply {
  const select = parseSelect(req.query.get('$select'));
  if (select === undefined || select.length === 0 || select.includes('*')) return entity;
  const names = Object.keys(entity);
  const out: Record<string, unknown> = {};
  for (const n of names) if (n.startsWith('@odata.')) out[n] = entity[n];
  for (const wanted of select) {
    const name = names.find((n) => sameName(n, wanted));
    if (name === undefined || name.startsWith('@')) return selectUnknown(wanted, typeName);
    out[name] = entity[name];
  }
  return out;
}

/** True when the segment has no key and its name is `name` (case-insensitive, as Graph's URL parser). */
function is(seg: Segment | undefined, name: string): boolean {
  return seg !== undefined && seg.key === undefined && sameName(seg.name, name);
}

function keyed(seg: Segment | undefined, name: string): seg is Segment & { key: NonNullable<Segment['key']> } {
  return seg !== undefined && seg.key !== undefined && sameName(seg.name, name);
}

/** Which methods a path accepts, for 405 answers. */
function only(req: RouteRequest, handlers: Partial<Record<string, () => Reply>>): Reply {
  const handler = handlers[req.method];
  if (handler) return handler();
  return methodNotAllowed(Object.keys(handlers));
}

export class Routes {
  private readonly store: StandInStore;
  /** See GraphStandInOptions.refuseProviderRegistration. */
  refuseProviderRegistration = false;
  /** See GraphStandInOptions.validateBodies. */
  validateBodies = true;

  constructor(store: StandInStore) {
    this.store = store;
  }

  handle(req: RouteRequest): Reply {
    const segs = splitPath(req.rawPath);
    if (segs === undefined) return graphError(400, 'BadRequest', 'The request URI is not valid: malformed percent-encoding.');
    const [first, ...rest] = segs;
    if (first === undefined) return segmentNotFound('');
    if (is(first, 'employeeExperience')) return this.employeeExperience(req, rest);
    if (is(first, 'users')) return this.users(req, rest);
    if (is(first, 'me')) return graphError(400, 'BadRequest', MESSAGES.meWithoutDelegation);
    if (is(first, '$batch')) return graphError(400, 'BadRequest', 'Nested $batch requests are not supported.');
    return segmentNotFound(first.text);
  }

  // ===========================================================================================
  // employeeExperience
  // ===========================================================================================

  private employeeExperience(req: RouteRequest, segs: Segment[]): Reply {
    const [a, b, c, d, e, ...more] = segs;
    if (a === undefined) {
      return only(req, { GET: () => ok(200, { '@odata.context': `${req.serviceRoot}/$metadata#employeeExperience` }) });
    }
    if (is(a, 'learningCourseActivities')) {
      // Tenant root: only GET by id is documented (list and the alternate key are OpenAPI-only).
      if (b === undefined || c !== undefined) return b === undefined ? methodNotAllowed([]) : segmentNotFound(c?.text ?? '');
      if (b.key !== undefined) return segmentNotFound(b.text);
      return only(req, { GET: () => this.getActivityById(req, b.text) });
    }
    if (keyed(a, 'learningCourseActivities')) return methodNotAllowed([]);
    if (!is(a, 'learningProviders')) return segmentNotFound(a.text);

    if (b === undefined) {
      return only(req, { GET: () => this.listProviders(req), POST: () => this.createProvider(req) });
    }
    if (b.key !== undefined) return segmentNotFound(b.text);
    const pid = b.text;
    if (c === undefined) {
      return only(req, {
        GET: () => this.getProvider(req, pid),
        PATCH: () => this.updateProvider(req, pid),
        DELETE: () => this.deleteProvider(pid),
      });
    }

    // --- learningContents -------------------------------------------------------------------
    if (is(c, 'learningContents')) {
      if (d === undefined) return only(req, { GET: () => this.listContents(req, pid) });
      if (d.key !== undefined) return segmentNotFound(d.text);
      if (e === undefined) {
        return only(req, {
          GET: () => this.getContent(req, pid, { id: d.text }),
          PATCH: () => this.updateContentById(req, pid, d.text),
        });
      }
      if (is(e, '$ref') && more.length === 0) return only(req, { DELETE: () => this.deleteContent(pid, { id: d.text }) });
      return segmentNotFound(e.text);
    }
    if (keyed(c, 'learningContents')) {
      const k = c.key;
      // Positional key = the primary key (Viva id); named key must be the alternate key externalId.
      const ref: ContentRef | undefined =
        k.name === undefined ? { id: k.value } : sameName(k.name, 'externalId') ? { externalId: k.value } : undefined;
      if (ref === undefined) return segmentNotFound(c.text);
      if (d === undefined) {
        return only(req, {
          GET: () => this.getContent(req, pid, ref),
          PATCH: () => ('externalId' in ref ? this.upsertContent(req, pid, ref.externalId) : this.updateContentById(req, pid, ref.id)),
        });
      }
      if (is(d, '$ref') && e === undefined) return only(req, { DELETE: () => this.deleteContent(pid, ref) });
      return segmentNotFound(d.text);
    }

    // --- learningCourseActivities -------------------------------------------------------------
    if (is(c, 'learningCourseActivities')) {
      if (d === undefined) return only(req, { POST: () => this.createActivity(req, pid) });
      if (d.key !== undefined || e !== undefined) return segmentNotFound((e ?? d).text);
      return only(req, {
        PATCH: () => this.updateActivity(req, pid, d.text),
        DELETE: () => this.deleteActivity(pid, d.text),
      });
    }
    if (keyed(c, 'learningCourseActivities')) {
      // `externalCourseActivityId` (documentation) and `externalcourseActivityId` (metadata alias)
      // both match: Graph's URL parser is case-insensitive.
      if (c.key.name === undefined || !sameName(c.key.name, 'externalCourseActivityId') || d !== undefined) {
        return segmentNotFound((d ?? c).text);
      }
      const ext = c.key.value;
      return only(req, { GET: () => this.getActivityByExternalId(req, pid, ext) });
    }
    return segmentNotFound(c.text);
  }

  // --- providers ---------------------------------------------------------------------------------

  private providerJson(req: RouteRequest, p: ProviderRecord, context: string): object {
    return { '@odata.context': `${req.serviceRoot}/$metadata#${context}`, ...p };
  }

  private listProviders(req: RouteRequest): Reply {
    return ok(200, {
      '@odata.context': `${req.serviceRoot}/$metadata#employeeExperience/learningProviders`,
      value: this.store.allProviders(),
    });
  }

  private createProvider(req: RouteRequest): Reply {
    if (this.refuseProviderRegistration) return graphError(403, 'Forbidden', MESSAGES.noServicePlan);
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const record = validateProvider(body, undefined, randomUUID(), { checks: this.validateBodies });
    if (isReply(record)) return record;
    this.store.putProvider(record);
    return ok(201, this.providerJson(req, record, 'learningProviders/$entity'), {
      Location: `${req.serviceRoot}/employeeExperience/learningProviders('${record.id}')`,
    });
  }

  /** [stand-in] The provider pages document no 404; Graph's usual notFound shape is used. */
  private getProvider(req: RouteRequest, pid: string): Reply {
    const p = this.store.provider(pid);
    if (!p) return graphError(404, 'notFound', MESSAGES.providerNotFound);
    const entity = applySelect(this.providerJson(req, p, 'employeeExperience/learningProviders/$entity') as Record<string, unknown>, req, 'microsoft.graph.learningProvider');
    return isReply(entity) ? entity : ok(200, entity);
  }

  private updateProvider(req: RouteRequest, pid: string): Reply {
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const existing = this.store.provider(pid);
    if (!existing) return graphError(404, 'notFound', MESSAGES.providerNotFound);
    const record = validateProvider(body, existing, existing.id, { checks: this.validateBodies });
    if (isReply(record)) return record;
    this.store.putProvider(record);
    return empty(204);
  }

  /** Deleting a registration removes its contents and course activities with it. */
  private deleteProvider(pid: string): Reply {
    return this.store.deleteProvider(pid) ? empty(204) : graphError(404, 'notFound', MESSAGES.providerNotFound);
  }

  /** [doc] an unknown registrationId is a 400 on every learning path that names it. */
  private registeredProvider(pid: string): ProviderRecord | Reply {
    return this.store.provider(pid) ?? graphError(400, 'badRequest', MESSAGES.providerNotRegistered);
  }

  /** Course activities also need isCourseActivitySyncEnabled = true. */
  private activityProvider(pid: string): ProviderRecord | Reply {
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    if (!p.isCourseActivitySyncEnabled) return graphError(400, 'badRequest', MESSAGES.providerNotEnabled);
    return p;
  }

  // --- contents ----------------------------------------------------------------------------------

  private contentJson(req: RouteRequest, pid: string, c: ContentRecord): Record<string, unknown> {
    return { '@odata.context': `${req.serviceRoot}/$metadata#learningProviders('${pid}')/learningContents/$entity`, ...c };
  }

  private findContent(pid: string, ref: ContentRef): ContentRecord | undefined {
    if ('externalId' in ref) return this.store.contentByExternalId(pid, ref.externalId);
    const found = this.store.contentById(ref.id);
    return found && found.providerKey === pid.toLowerCase() ? found.record : undefined;
  }

  private listContents(req: RouteRequest, pid: string): Reply {
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    return ok(200, {
      '@odata.context': `${req.serviceRoot}/$metadata#employeeExperience/learningProviders('${p.id}')/learningContents`,
      value: this.store.contentsOf(p.id),
    });
  }

  /** [stand-in] no 404 is documented for contents; notFound as Graph usually answers. */
  private getContent(req: RouteRequest, pid: string, ref: ContentRef): Reply {
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    const c = this.findContent(p.id, ref);
    if (!c) return graphError(404, 'notFound', MESSAGES.contentNotFound);
    const entity = applySelect(this.contentJson(req, p.id, c), req, 'microsoft.graph.learningContent');
    return isReply(entity) ? entity : ok(200, entity);
  }

  /** PATCH learningContents(externalId='…'): create or replace; 202 with the content (and its Viva id). */
  private upsertContent(req: RouteRequest, pid: string, externalId: string): Reply {
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    if (externalId.length === 0) return fieldInvalid('externalId');
    const existing = this.store.contentByExternalId(p.id, externalId);
    const record = validateContent(body, externalId, existing?.id ?? stableContentId(p.id, externalId), { checks: this.validateBodies });
    if (isReply(record)) return record;
    this.store.putContent(p.id, record);
    return ok(202, this.contentJson(req, p.id, record));
  }

  /** PATCH learningContents/{id}: replace an existing content (202). */
  private updateContentById(req: RouteRequest, pid: string, id: string): Reply {
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    const existing = this.findContent(p.id, { id });
    if (!existing) return graphError(404, 'notFound', MESSAGES.contentNotFound);
    const record = validateContent(body, existing.externalId, existing.id, { checks: this.validateBodies });
    if (isReply(record)) return record;
    this.store.putContent(p.id, record);
    return ok(202, this.contentJson(req, p.id, record));
  }

  /**
   * DELETE …/learningContents/{id}/$ref or (externalId='…')/$ref, as documented. (The OpenAPI
   * also lists the form without /$ref; the documentation does not, so it is answered 405.)
   */
  private deleteContent(pid: string, ref: ContentRef): Reply {
    const p = this.registeredProvider(pid);
    if (isReply(p)) return p;
    const c = this.findContent(p.id, ref);
    if (!c) return graphError(404, 'notFound', MESSAGES.contentNotFound);
    this.store.deleteContent(c.id);
    return empty(204);
  }

  // --- course activities -------------------------------------------------------------------------

  private activityJson(req: RouteRequest, a: ActivityRecord): Record<string, unknown> {
    const context = `${req.serviceRoot}/$metadata#learningProviders('${a.learningProviderId}')/learningCourseActivities('${a.id}')$entity`;
    const { '@odata.type': type, ...rest } = a;
    return { '@odata.type': type, '@odata.context': context, ...rest };
  }

  private activityReply(req: RouteRequest, a: ActivityRecord): Reply {
    const entity = applySelect(this.activityJson(req, a), req, a['@odata.type'].slice(1));
    return isReply(entity) ? entity : ok(200, entity);
  }

  private createActivity(req: RouteRequest, pid: string): Reply {
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const type = activityType(body);
    if (isReply(type)) return type;
    const p = this.activityProvider(pid);
    if (isReply(p)) return p;
    const draft = validateActivityCreate(body, type, p.id, { checks: this.validateBodies });
    if (isReply(draft)) return draft;

    const content = this.store.contentById(draft.learningContentId);
    if (!content) return fieldInvalid('learningContentId');
    if (content.providerKey !== p.id.toLowerCase()) return graphError(403, 'Forbidden', MESSAGES.contentOfOtherProvider);
    // Not documented: an unknown learner is refused as an invalid field (Graph cannot store an
    // activity for a user that is not in the tenant; the documentation states no wording for it).
    const learner = this.store.userById(draft.learnerUserId);
    if (!learner) return fieldInvalid('learnerUserId');
    if (learner.licensed === false) return graphError(403, 'Forbidden', MESSAGES.licenseInvalidCreate);

    // The documented create response shows the id as {learnerUserId}:{guid}.
    // No 409 is documented for a duplicate externalCourseActivityId: a second activity is stored.
    const record = { ...draft, id: `${draft.learnerUserId}:${randomUUID()}` } as ActivityRecord;
    this.store.putActivity(p.id, record);
    return ok(201, this.activityJson(req, record), {
      Location: `${req.serviceRoot}/employeeExperience/learningProviders/${encodeURIComponent(p.id)}/learningCourseActivities/${encodeURIComponent(record.id)}`,
    });
  }

  private getActivityByExternalId(req: RouteRequest, pid: string, externalId: string): Reply {
    const p = this.activityProvider(pid);
    if (isReply(p)) return p;
    const a = this.store.activityByExternalId(p.id, externalId);
    if (!a) return graphError(404, 'notFound', MESSAGES.activityNotFoundGet);
    return this.activityReply(req, a);
  }

  private getActivityById(req: RouteRequest, id: string): Reply {
    const a = this.store.activity(id);
    if (!a) return graphError(404, 'notFound', MESSAGES.activityNotFoundGet);
    return this.activityReply(req, a.record);
  }

  private updateActivity(req: RouteRequest, pid: string, id: string): Reply {
    const body = readJsonObject(req.body);
    if (isReply(body)) return body;
    const type = activityType(body);
    if (isReply(type)) return type;
    const p = this.activityProvider(pid);
    if (isReply(p)) return p;
    const stored = this.store.activity(id);
    if (!stored || stored.providerKey !== p.id.toLowerCase()) return graphError(404, 'notFound', MESSAGES.activityNotFoundUpdate);
    const updated = validateActivityUpdate(body, type, stored.record, p.id, { checks: this.validateBodies });
    if (isReply(updated)) return updated;
    const learner = this.store.userById(updated.learnerUserId);
    if (learner?.licensed === false) return graphError(403, 'Forbidden', MESSAGES.licenseInvalidUpdate);
    this.store.putActivity(p.id, updated);
    return empty(204);
  }

  private deleteActivity(pid: string, id: string): Reply {
    const p = this.activityProvider(pid);
    if (isReply(p)) return p;
    const stored = this.store.activity(id);
    if (!stored || stored.providerKey !== p.id.toLowerCase()) return graphError(404, 'notFound', MESSAGES.activityNotFoundDelete);
    this.store.deleteActivity(stored.record.id);
    return empty(204);
  }

  // ===========================================================================================
  // users
  // ===========================================================================================

  private users(req: RouteRequest, segs: Segment[]): Reply {
    const [a, b, c, d, ...more] = segs;
    if (a === undefined) return only(req, { GET: () => this.listUsers(req) });
    if (a.key !== undefined) return segmentNotFound(a.text);
    if (b === undefined) return only(req, { GET: () => this.getUser(req, a.text) });
    if (is(b, 'employeeExperience') && is(c, 'learningCourseActivities')) {
      if (d === undefined) {
        // List is delegated-only (application: not supported); the stand-in serves an app-only connector.
        return only(req, { GET: () => graphError(403, 'Forbidden', MESSAGES.noAccess) });
      }
      if (d.key !== undefined || more.length > 0) return segmentNotFound((more[0] ?? d).text);
      return only(req, { GET: () => this.getUserActivity(req, a.text, d.text) });
    }
    return segmentNotFound(b.text);
  }

  private userNotFound(idOrUpn: string): Reply {
    return graphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }

  private getUser(req: RouteRequest, idOrUpn: string): Reply {
    const user = this.store.userByIdOrUpn(idOrUpn);
    if (!user) return this.userNotFound(idOrUpn);
    const select = parseSelect(req.query.get('$select'));
    const projected = projectUser(user, select);
    if (isReply(projected)) return projected;
    const context = `${req.serviceRoot}/$metadata#users${select && select.length > 0 ? `(${select.join(',')})` : ''}/$entity`;
    return ok(200, { '@odata.context': context, ...projected });
  }

  private getUserActivity(req: RouteRequest, idOrUpn: string, activityId: string): Reply {
    const user = this.store.userByIdOrUpn(idOrUpn);
    if (!user) return this.userNotFound(idOrUpn);
    const a = this.store.activity(activityId);
    if (!a || a.record.learnerUserId.toLowerCase() !== user.id.toLowerCase()) {
      return graphError(404, 'notFound', MESSAGES.activityNotFoundGet);
    }
    return this.activityReply(req, a.record);
  }

  /**
   * `GET /users` with `$filter=prop eq 'value'` on id, userPrincipalName, mail, employeeId or
   * displayName. Per Graph's "advanced query" table (includes/filter-directory-objects.md) `eq` on
   * these works by default; `ne` needs the advanced query parameters (ConsistencyLevel: eventual
   * and $count=true); `$count` itself needs ConsistencyLevel: eventual. Comparisons are
   * case-insensitive, as in Entra.
   */
  private listUsers(req: RouteRequest): Reply {
    const eventual = (req.header('consistencylevel') ?? '').toLowerCase() === 'eventual';
    const countParam = req.query.get('$count');
    const count = countParam !== null && countParam.toLowerCase() === 'true';
    if (countParam !== null && !eventual) return graphError(400, 'Request_BadRequest', MESSAGES.countNotSupported);
    const advanced = eventual && count;

    let users = this.store.allUsers();
    const filter = req.query.get('$filter');
    if (filter !== null) {
      const f = parseSimpleFilter(filter);
      if (!f || f.value === undefined) return graphError(400, 'BadRequest', `Invalid filter clause: ${filter}`);
      const property = FILTERABLE.find((p) => sameName(p, f.property));
      if (property === undefined) {
        const known = USER_PROPERTIES.some((p) => sameName(p, f.property));
        return known
          ? unsupportedFilter(f.property)
          : graphError(400, 'BadRequest', `Could not find a property named '${f.property}' on type 'microsoft.graph.user'.`);
      }
      if (f.operator === 'eq') users = this.store.usersWhere(property, f.value);
      else if (f.operator === 'ne' && advanced) {
        const excluded = new Set(this.store.usersWhere(property, f.value));
        users = users.filter((u) => !excluded.has(u));
      } else return unsupportedFilter(f.property);
    }

    const topParam = req.query.get('$top');
    if (topParam !== null) {
      const top = Number(topParam);
      if (!Number.isInteger(top) || top < 1 || top > 999) {
        return graphError(400, 'Request_BadRequest', `Invalid page size specified: '${topParam}'. Must be between 1 and 999 inclusive.`);
      }
      users = users.slice(0, top);
    }

    const select = parseSelect(req.query.get('$select'));
    const value: Record<string, unknown>[] = [];
    for (const u of users) {
      const projected = projectUser(u, select);
      if (isReply(projected)) return projected;
      value.push(projected);
    }
    const body: Record<string, unknown> = {
      '@odata.context': `${req.serviceRoot}/$metadata#users${select && select.length > 0 ? `(${select.join(',')})` : ''}`,
    };
    if (advanced) body['@odata.count'] = value.length;
    body.value = value;
    return ok(200, body);
  }
}

const FILTERABLE = ['id', 'userPrincipalName', 'mail', 'employeeId', 'displayName'] as const;

function unsupportedFilter(property: string): Reply {
  return graphError(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`,
  );
}

/** The v1.0 default property set of a user (returned without $select). */
const USER_DEFAULT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

/** Properties the stand-in can $select (employeeId is "returned only on $select"). */
const USER_PROPERTIES = [
  ...USER_DEFAULT,
  'employeeId',
  'accountEnabled',
  'userType',
  'otherMails',
  'proxyAddresses',
  'department',
  'companyName',
  'employeeType',
  'usageLocation',
  'onPremisesImmutableId',
] as const;

function userValue(u: StandInUser, property: (typeof USER_PROPERTIES)[number]): unknown {
  switch (property) {
    case 'id':
      return u.id;
    case 'userPrincipalName':
      return u.userPrincipalName;
    case 'mail':
      return u.mail ?? null;
    case 'displayName':
      return u.displayName ?? null;
    case 'employeeId':
      return u.employeeId ?? null;
    case 'accountEnabled':
      return true;
    case 'userType':
      return 'Member';
    case 'businessPhones':
    case 'otherMails':
      return [];
    case 'proxyAddresses':
      return u.mail ? [`SMTP:${u.mail}`] : [];
    default:
      return null;
  }
}

function projectUser(u: StandInUser, select: string[] | undefined): Record<string, unknown> | Reply {
  const out: Record<string, unknown> = {};
  if (select === undefined || select.length === 0) {
    for (const p of USER_DEFAULT) out[p] = userValue(u, p);
    return out;
  }
  for (const wanted of select) {
    const p = USER_PROPERTIES.find((n) => sameName(n, wanted));
    if (p === undefined) return selectUnknown(wanted, 'microsoft.graph.user');
    out[p] = userValue(u, p);
  }
  return out;
}
