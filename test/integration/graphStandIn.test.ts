/**
 * The Viva Learning (Graph) stand-in over real HTTP: every route's success and documented error
 * cases, the documented example bodies (shared/reference/graph-learning-examples.md) accepted
 * verbatim, $batch, throttling, faults, latency and restart.
 */
import { Client, HTTPMessageHandler, type Context, type GraphError, type Middleware } from '@microsoft/microsoft-graph-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GraphStandIn,
  STAND_IN_MESSAGES,
  stableContentId,
  type GraphStandInOptions,
  type LearningAssignmentRecord,
  type LearningSelfInitiatedCourseRecord,
} from '../../src/sandbox/graphStandIn.js';

// ---------------------------------------------------------------------------------------------
// The documentation's ids
// ---------------------------------------------------------------------------------------------
const PROVIDER = '01e8f81b-3060-4dec-acf0-0389665a0a38'; // activity examples
const CONTENT_PROVIDER = '13727311-e7bb-470d-8b20-6a23d9030d70'; // content examples
const LEARNER = '7ba2228a-e020-11ec-9d64-0242ac120002';
const CONTENT = '57baf9dc-e020-11ec-9d64-0242ac120002';
const DOC_CONTENT = '77029588-a660-46b6-ba58-3ce4d21d5678';
const DISABLED_PROVIDER = 'aaaaaaaa-0000-4000-8000-000000000001';
const OTHER_CONTENT = 'bbbbbbbb-0000-4000-8000-000000000002';
const UNLICENSED = 'cccccccc-0000-4000-8000-000000000003';
const TOKEN = 'test-token';
const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

// ---------------------------------------------------------------------------------------------
// The documentation's bodies, verbatim
// ---------------------------------------------------------------------------------------------
const EX_1A_ASSIGNMENT = {
  '@odata.type': '#microsoft.graph.learningAssignment',
  assignedDateTime: '2021-05-11T22:57:17+00:00',
  assignmentType: 'required',
  assignerUserId: 'cea1684d-57dc-438d-a9d1-e666ec1a7f3d',
  completedDateTime: null,
  completionPercentage: 20,
  dueDateTime: { dateTime: '2022-09-22T16:05:00.0000000', timeZone: 'UTC' },
  externalCourseActivityId: '12a2228a-e020-11ec-9d64-0242ac120002',
  learningContentId: '57baf9dc-e020-11ec-9d64-0242ac120002',
  learningProviderId: '01e8f81b-3060-4dec-acf0-0389665a0a38',
  learnerUserId: '7ba2228a-e020-11ec-9d64-0242ac120002',
  notes: { contentType: 'text', content: 'required assignment added for user' },
  status: 'notStarted',
};
const EX_1B_SELF = {
  '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse',
  completedDateTime: null,
  completionPercentage: 20,
  externalCourseActivityId: '12a2228a-e020-11ec-9d64-0242ac120002',
  learningContentId: '57baf9dc-e020-11ec-9d64-0242ac120002',
  learnerUserId: '7ba2228a-e020-11ec-9d64-0242ac120002',
  startedDateTime: '2021-05-21T22:57:17+00:00',
  status: 'inProgress',
};
const EX_2A_UPDATE = {
  '@odata.type': '#microsoft.graph.learningAssignment',
  assignedDateTime: '2021-05-11T22:57:17+00:00',
  assignmentType: 'required',
  assignerUserId: 'cea1684d-57dc-438d-a9d1-e666ec1a7f3d',
  completedDateTime: null,
  completionPercentage: 20,
  learningProviderId: '01e8f81b-3060-4dec-acf0-0389665a0a38',
  dueDateTime: { dateTime: '2022-09-22T16:05:00.0000000', timeZone: 'UTC' },
  externalCourseActivityId: '12a2228a-e020-11ec-9d64-0242ac120002',
  learningContentId: '57baf9dc-e020-11ec-9d64-0242ac120002',
  learnerUserId: '7ba2228a-e020-11ec-9d64-0242ac120002',
  notes: { contentType: 'text', content: 'required assignment added for user' },
  status: 'inProgress',
};
const EX_2B_UPDATE_SELF = {
  '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse',
  completedDateTime: null,
  completionPercentage: 30,
  externalCourseActivityId: '12a2228a-e020-11ec-9d64-0242ac120002',
  learningContentId: '57baf9dc-e020-11ec-9d64-0242ac120002',
  learningProviderId: '01e8f81b-3060-4dec-acf0-0389665a0a38',
  startedDateTime: '2021-05-11T22:57:17+00:00',
  status: 'inProgress',
};
const EX_5_CONTENT = {
  title: 'Manage classes, resources, assessment, and planning in Microsoft Teams with Beedle',
  description:
    'A module to guide users through the various teaching and learning enhancements that Beedle provides within Microsoft Teams, with many examples of everyday application.',
  contentWebUrl: 'https://learn.microsoft.com/learn/modules/manage-classes-resources-assessment-planning-beedle/',
  sourceName: 'MsLearn',
  thumbnailWebUrl: 'https://syndetics.com/index.aspx?isbn=9783319672175/LC.GIF',
  languageTag: 'en-us',
  numberOfPages: 9,
  duration: 'PT20M',
  format: 'Book',
  level: 'Beginner',
  createdDateTime: '2018-01-01T00:00:00',
  lastModifiedDateTime: '2021-04-01T04:26:06.1995367Z',
  contributors: ['Lina Wagner', 'Lisa Richter'],
  additionalTags: ['Create private or public teams', 'Add members to teams'],
  skillTags: ['Create teams', 'Teams channels', 'Teams members'],
  isActive: true,
  isPremium: false,
  isSearchable: true,
};
/**
 * The documented upsert body with the `externalId` the metadata (Nullable="false") and the
 * property table require: the documentation's example leaves it out, so it is added here.
 */
const content5 = (externalId = 'LP4471'): Record<string, unknown> => ({ ...EX_5_CONTENT, externalId });
/** The documented self-initiated create (1b) with the learningProviderId its property table requires. */
const EX_1B_SELF_WITH_PROVIDER = { ...EX_1B_SELF, learningProviderId: PROVIDER };
const LOGO = 'https://support.content.office.net/en-us/media/4c531d12-4c13-4782-a6e4-4b8f991801a3.png';
const EX_6A_PROVIDER = {
  displayName: 'Microsoft',
  squareLogoWebUrlForDarkTheme: LOGO,
  longLogoWebUrlForDarkTheme: LOGO,
  squareLogoWebUrlForLightTheme: LOGO,
  longLogoWebUrlForLightTheme: LOGO,
  loginWebUrl: 'https://www.linkedin.com/learning-login/teams',
  isCourseActivitySyncEnabled: true,
};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------
interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  /** The body as a record (for property access in assertions). */
  json: Record<string, unknown>;
}

let standIn: GraphStandIn;
let base: string;

function seed(options: GraphStandInOptions = {}): GraphStandIn {
  const s = new GraphStandIn({
    token: TOKEN,
    providers: [
      { id: PROVIDER, displayName: 'Doc provider', isCourseActivitySyncEnabled: true },
      { id: CONTENT_PROVIDER, displayName: 'Doc content provider', isCourseActivitySyncEnabled: true },
      { id: DISABLED_PROVIDER, displayName: 'Not enabled', isCourseActivitySyncEnabled: false },
    ],
    users: [
      { id: LEARNER, userPrincipalName: 'Adele.Vance@contoso.com', mail: 'Adele.Vance@contoso.com', employeeId: 'E-100', displayName: 'Adele Vance' },
      { id: UNLICENSED, userPrincipalName: 'no.licence@contoso.com', mail: 'no.licence@contoso.com', licensed: false },
    ],
    ...options,
  });
  s.addContent(PROVIDER, { id: CONTENT, externalId: 'course-57', title: 'Course 57', contentWebUrl: 'https://lms.example/c/57', languageTag: 'en-US' });
  s.addContent(CONTENT_PROVIDER, { id: DOC_CONTENT, externalId: 'LP4471', title: 'Old title', contentWebUrl: 'https://lms.example/LP4471', languageTag: 'en-us' });
  s.addContent(CONTENT_PROVIDER, { id: OTHER_CONTENT, externalId: 'other', title: 'Other', contentWebUrl: 'https://lms.example/other', languageTag: 'en-us' });
  return s;
}

async function call(
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; token?: string | null; signal?: AbortSignal } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? TOKEN}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(init.signal ? { signal: init.signal } : {}) });
  const text = await res.text();
  const parsed: unknown = text.length > 0 ? JSON.parse(text) : undefined;
  const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body: parsed, json };
}

function errorOf(a: Answer): { code: string; message: string; innerError: Record<string, string> } {
  return (a.json as { error: { code: string; message: string; innerError: Record<string, string> } }).error;
}

const providerPath = (pid: string = PROVIDER): string => `/v1.0/employeeExperience/learningProviders/${pid}`;
const activitiesPath = (pid: string = PROVIDER): string => `${providerPath(pid)}/learningCourseActivities`;
const activityPath = (id: string, pid: string = PROVIDER): string => `${activitiesPath(pid)}/${encodeURIComponent(id)}`;
const byExternal = (ext: string, pid: string = PROVIDER, keyName = 'externalCourseActivityId'): string =>
  `${activitiesPath(pid)}(${keyName}=${encodeURIComponent(`'${ext.replace(/'/g, "''")}'`)})`;
const contentByExternal = (ext: string, pid: string = CONTENT_PROVIDER): string =>
  `${providerPath(pid)}/learningContents(externalId=${encodeURIComponent(`'${ext.replace(/'/g, "''")}'`)})`;

function assignment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...EX_1A_ASSIGNMENT, ...overrides };
}

async function create(body: Record<string, unknown> = EX_1A_ASSIGNMENT): Promise<string> {
  const a = await call('POST', activitiesPath(), { body });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  return a.json.id as string;
}

beforeEach(async () => {
  standIn = seed();
  base = await standIn.start(0);
});

afterEach(async () => {
  await standIn.stop();
});

// =============================================================================================
describe('transport: auth, versions, routing, error shape', () => {
  it('starts on 127.0.0.1 with a free port and exposes url/port', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(standIn.url).toBe(base);
    expect(standIn.port).toBe(Number(base.split(':')[2]));
  });

  it('answers 401 "Access token is empty." without a token, in Graph\'s error shape', async () => {
    const a = await call('GET', '/v1.0/employeeExperience/learningProviders', { token: null, headers: { 'client-request-id': 'my-client-id' } });
    expect(a.status).toBe(401);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    expect(a.headers.get('client-request-id')).toBe('my-client-id');
    const requestId = a.headers.get('request-id');
    expect(requestId).toMatch(new RegExp(`^${GUID}$`));
    const err = errorOf(a);
    expect(err.code).toBe('InvalidAuthenticationToken');
    expect(err.message).toBe('Access token is empty.');
    expect(err.innerError['request-id']).toBe(requestId);
    expect(err.innerError['client-request-id']).toBe('my-client-id');
    expect(err.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  it('answers 401 "Access token validation failure. Invalid audience." for a wrong token, even on unknown paths', async () => {
    for (const path of ['/v1.0/employeeExperience/learningProviders', '/v9/nothing']) {
      const a = await call('GET', path, { token: 'wrong' });
      expect(a.status).toBe(401);
      expect(errorOf(a)).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' });
    }
  });

  it('generates a client-request-id when the client sends none', async () => {
    const a = await call('GET', '/v1.0/users/nobody@contoso.com');
    expect(a.headers.get('client-request-id')).toMatch(new RegExp(`^${GUID}$`));
    expect(errorOf(a).innerError['client-request-id']).toBe(a.headers.get('client-request-id'));
  });

  it('serves /beta like /v1.0 and refuses an unknown version', async () => {
    const beta = await call('GET', '/beta/employeeExperience/learningProviders');
    expect(beta.status).toBe(200);
    expect(beta.json['@odata.context']).toBe(`${base}/beta/$metadata#employeeExperience/learningProviders`);
    const bad = await call('GET', '/v2.0/employeeExperience/learningProviders');
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe('BadRequest');
  });

  it('answers an unknown segment 400 "Resource not found for the segment …"', async () => {
    const a = await call('GET', '/v1.0/employeeExperience/learningThings');
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'BadRequest', message: "Resource not found for the segment 'learningThings'." });
  });

  it('answers a wrong method on a known path 405 methodNotAllowed with Allow', async () => {
    const a = await call('PUT', activityPath('x'), { body: {} });
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe('PATCH, DELETE');
    expect(errorOf(a)).toMatchObject({ code: 'methodNotAllowed', message: STAND_IN_MESSAGES.methodNotAllowed });
    // Listing activities of a provider is not a documented operation.
    expect((await call('GET', activitiesPath())).status).toBe(405);
  });

  it('refuses /me for an app-only caller', async () => {
    const a = await call('GET', '/v1.0/me/employeeExperience/learningCourseActivities/x');
    expect(a.status).toBe(400);
    expect(errorOf(a).message).toBe('/me request is only valid with delegated authentication flow.');
  });

  it('refuses a body that is not JSON', async () => {
    const a = await call('POST', activitiesPath(), { body: '{not json', headers: { 'Content-Type': 'application/json' } });
    expect(a.status).toBe(400);
    expect(errorOf(a).code).toBe('BadRequest');
    const plain = await call('POST', activitiesPath(), { body: JSON.stringify(EX_1A_ASSIGNMENT), headers: { 'Content-Type': 'text/plain' } });
    expect(plain.status).toBe(400);
    expect(standIn.activities()).toHaveLength(0);
  });

  it('delays every response, errors included, by latencyMs', async () => {
    standIn.setOptions({ latencyMs: 150 });
    const t0 = performance.now();
    const a = await call('GET', '/v1.0/employeeExperience/learningProviders', { token: null });
    expect(a.status).toBe(401);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });
});

// =============================================================================================
describe('learningProviders', () => {
  it('lists the registrations', async () => {
    const a = await call('GET', '/v1.0/employeeExperience/learningProviders');
    expect(a.status).toBe(200);
    const value = a.json.value as { id: string; isCourseActivitySyncEnabled: boolean }[];
    expect(value.map((p) => p.id)).toEqual([PROVIDER, CONTENT_PROVIDER, DISABLED_PROVIDER]);
  });

  it('creates one from the documented body (201) and reads, updates and deletes it', async () => {
    const created = await call('POST', '/v1.0/employeeExperience/learningProviders', { body: EX_6A_PROVIDER });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...EX_6A_PROVIDER, '@odata.context': `${base}/v1.0/$metadata#learningProviders/$entity` });
    const id = created.json.id as string;
    expect(id).toMatch(new RegExp(`^${GUID}$`));

    const got = await call('GET', providerPath(id));
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id, displayName: 'Microsoft', isCourseActivitySyncEnabled: true });

    // The documented update body (6b), verbatim.
    const updated = await call('PATCH', providerPath(id), { body: { ...EX_6A_PROVIDER, displayName: 'Microsoft', isCourseActivitySyncEnabled: true } });
    expect(updated.status).toBe(204);
    const partial = await call('PATCH', providerPath(id), { body: { isCourseActivitySyncEnabled: false } });
    expect(partial.status).toBe(204);
    expect(standIn.providers().find((p) => p.id === id)).toMatchObject({ displayName: 'Microsoft', isCourseActivitySyncEnabled: false });

    expect((await call('DELETE', providerPath(id))).status).toBe(204);
    const gone = await call('GET', providerPath(id));
    expect(gone.status).toBe(404);
    expect((await call('DELETE', providerPath(id))).status).toBe(404);
  });

  it('requires displayName and the four logo URLs, and rejects unknown properties', async () => {
    const { squareLogoWebUrlForLightTheme: _omit, ...noLogo } = EX_6A_PROVIDER;
    const a = await call('POST', '/v1.0/employeeExperience/learningProviders', { body: noLogo });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'badRequest', message: 'Input field squareLogoWebUrlForLightTheme is required' });
    const b = await call('POST', '/v1.0/employeeExperience/learningProviders', { body: { ...EX_6A_PROVIDER, colour: 'red' } });
    expect(b.status).toBe(400);
    expect(errorOf(b).message).toBe(
      "The property 'colour' does not exist on type 'microsoft.graph.learningProvider'. Make sure to only use property names that are defined by the type or mark the type as open type.",
    );
    const c = await call('PATCH', providerPath(), { body: { displayName: '' } });
    expect(c.status).toBe(400);
    expect(standIn.providers()).toHaveLength(3);
  });

  it('deleting a provider removes its contents and activities', async () => {
    await create();
    expect((await call('DELETE', providerPath())).status).toBe(204);
    expect(standIn.activities()).toHaveLength(0);
    expect(standIn.contents(PROVIDER)).toHaveLength(0);
    expect((await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT })).status).toBe(400);
  });
});

// =============================================================================================
describe('learningContents', () => {
  it('refuses the documented upsert body (5b) as printed, without externalId: 400 "Input field externalId is required"', async () => {
    const a = await call('PATCH', contentByExternal('LP4471'), { body: EX_5_CONTENT });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'badRequest', message: 'Input field externalId is required' });
    expect(standIn.contents(CONTENT_PROVIDER).find((c) => c.id === DOC_CONTENT)?.title).toBe('Old title');
  });

  it('accepts the documented upsert (5b) with externalId added: 202 with the Viva id and @odata.context', async () => {
    const a = await call('PATCH', contentByExternal('LP4471'), { body: content5() });
    expect(a.status).toBe(202);
    expect(a.json).toMatchObject({
      '@odata.context': `${base}/v1.0/$metadata#learningProviders('${CONTENT_PROVIDER}')/learningContents/$entity`,
      id: DOC_CONTENT,
      externalId: 'LP4471',
      title: EX_5_CONTENT.title,
      level: 'beginner',
      duration: 'PT20M',
      numberOfPages: 9,
      skillTags: EX_5_CONTENT.skillTags,
    });
  });

  it('accepts the documented update by Viva id (5a) with externalId added: 202', async () => {
    const a = await call('PATCH', `${providerPath(CONTENT_PROVIDER)}/learningContents/${DOC_CONTENT}`, {
      body: { ...content5(), createdDateTime: '2018-01-01T00:00:00Z' },
    });
    expect(a.status).toBe(202);
    expect(a.json).toMatchObject({ id: DOC_CONTENT, externalId: 'LP4471', createdDateTime: '2018-01-01T00:00:00Z' });
  });

  it('creates new content with a stable GUID per provider and externalId; a second upsert replaces the whole record', async () => {
    const first = await call('PATCH', contentByExternal('new-course'), { body: content5('new-course') });
    expect(first.status).toBe(202);
    const id = first.json.id as string;
    expect(id).toMatch(new RegExp(`^${GUID}$`));
    expect(id).toBe(stableContentId(CONTENT_PROVIDER, 'new-course'));

    const second = await call('PATCH', contentByExternal('new-course'), {
      body: { externalId: 'new-course', title: 'Renamed', contentWebUrl: 'https://lms.example/new', languageTag: 'fr-FR' },
    });
    expect(second.status).toBe(202);
    expect(second.json).toMatchObject({ id, title: 'Renamed', description: null, skillTags: [], isActive: true, isPremium: false, level: null });
    expect(standIn.contents(CONTENT_PROVIDER).filter((c) => c.externalId === 'new-course')).toHaveLength(1);
  });

  it('reads content by externalId and by id, 404 when unknown', async () => {
    const byExt = await call('GET', contentByExternal('LP4471'));
    expect(byExt.status).toBe(200);
    expect(byExt.json).toMatchObject({ id: DOC_CONTENT, externalId: 'LP4471' });
    const byId = await call('GET', `${providerPath(CONTENT_PROVIDER)}/learningContents/${DOC_CONTENT}`);
    expect(byId.status).toBe(200);
    expect(byId.json.externalId).toBe('LP4471');
    expect((await call('GET', contentByExternal('nope'))).status).toBe(404);
    // A content of another provider is not found under this one.
    expect((await call('GET', `${providerPath(PROVIDER)}/learningContents/${DOC_CONTENT}`)).status).toBe(404);
    const list = await call('GET', `${providerPath(CONTENT_PROVIDER)}/learningContents`);
    expect((list.json.value as unknown[]).length).toBe(2);
  });

  it('round-trips an externalId with a quote, a colon, #, ?, %, a space and non-ASCII', async () => {
    const ext = "O'Brien intro:1#a?b%20c-é";
    const up = await call('PATCH', contentByExternal(ext), { body: content5(ext) });
    expect(up.status).toBe(202);
    expect(up.json.externalId).toBe(ext);
    const got = await call('GET', contentByExternal(ext));
    expect(got.status).toBe(200);
    expect(got.json.id).toBe(up.json.id);
  });

  it('validates required fields, types and unknown properties', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...content5(), title: undefined }, 'Input field title is required'],
      [{ ...content5(), contentWebUrl: null }, 'Input field contentWebUrl is required'],
      [{ ...content5(), languageTag: undefined }, 'Input field languageTag is required'],
      [{ ...content5(), duration: '20 minutes' }, 'Input field duration is invalid'],
      [{ ...content5(), duration: 'P1Y' }, 'Input field duration is invalid'],
      [{ ...content5(), level: 'expert' }, 'Input field level is invalid'],
      [{ ...content5(), numberOfPages: 9.5 }, 'Input field numberOfPages is invalid'],
      [{ ...content5(), isActive: 'true' }, 'Input field isActive is invalid'],
      [{ ...content5(), skillTags: 'Teams' }, 'Input field skillTags is invalid'],
      [{ ...content5(), createdDateTime: 'yesterday' }, 'Input field createdDateTime is invalid'],
      [{ ...content5(), externalId: 'another' }, 'Input field externalId is invalid'],
    ];
    for (const [body, message] of cases) {
      const a = await call('PATCH', contentByExternal('LP4471'), { body });
      expect(a.status, message).toBe(400);
      expect(errorOf(a).message).toBe(message);
    }
    const unknown = await call('PATCH', contentByExternal('LP4471'), { body: { ...content5(), rating: 5 } });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown)).toEqual(
      expect.objectContaining({
        code: 'BadRequest',
        message:
          "The property 'rating' does not exist on type 'microsoft.graph.learningContent'. Make sure to only use property names that are defined by the type or mark the type as open type.",
      }),
    );
    expect(standIn.contents(CONTENT_PROVIDER).find((c) => c.id === DOC_CONTENT)?.title).toBe('Old title');
  });

  it('answers an unknown provider with the documented registrationId message', async () => {
    const a = await call('PATCH', contentByExternal('x', '99999999-0000-4000-8000-000000000000'), { body: content5('x') });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'badRequest', message: STAND_IN_MESSAGES.providerNotRegistered });
  });

  it('deletes with the documented /$ref forms (204), 404 after, 405 without /$ref', async () => {
    expect((await call('DELETE', `${providerPath(CONTENT_PROVIDER)}/learningContents/${DOC_CONTENT}`)).status).toBe(405);
    expect((await call('DELETE', `${providerPath(CONTENT_PROVIDER)}/learningContents/${DOC_CONTENT}/$ref`)).status).toBe(204);
    expect((await call('DELETE', `${providerPath(CONTENT_PROVIDER)}/learningContents/${DOC_CONTENT}/$ref`)).status).toBe(404);
    expect((await call('DELETE', `${contentByExternal('other')}/$ref`)).status).toBe(204);
    expect((await call('GET', contentByExternal('other'))).status).toBe(404);
    expect(standIn.contents(CONTENT_PROVIDER)).toHaveLength(0);
  });
});

// =============================================================================================
describe('learningCourseActivities: documented examples', () => {
  it('creates the documented assignment (1a) verbatim: 201, id {learnerUserId}:{guid}, @odata.context', async () => {
    const a = await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT });
    expect(a.status).toBe(201);
    const id = a.json.id as string;
    expect(id).toMatch(new RegExp(`^${LEARNER}:${GUID}$`));
    const { '@odata.type': _t, ...fields } = EX_1A_ASSIGNMENT;
    expect(a.json).toMatchObject({ ...fields, '@odata.type': '#microsoft.graph.learningAssignment' });
    expect(a.json['@odata.context']).toBe(`${base}/v1.0/$metadata#learningProviders('${PROVIDER}')/learningCourseActivities('${id}')$entity`);
    expect(Object.keys(a.json).slice(0, 2)).toEqual(['@odata.type', '@odata.context']);
    const stored = standIn.activities();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toEqual({ ...EX_1A_ASSIGNMENT, id });
  });

  it('creates the documented self-initiated course (1b) once the learningProviderId its table requires is added', async () => {
    // The printed example omits learningProviderId; the create table says Required: the stricter reading is enforced.
    const printed = await call('POST', activitiesPath(), { body: EX_1B_SELF });
    expect(printed.status).toBe(400);
    expect(errorOf(printed).message).toBe('Input field learningProviderId is required');
    const a = await call('POST', activitiesPath(), { body: EX_1B_SELF_WITH_PROVIDER });
    expect(a.status).toBe(201);
    expect(a.json).toMatchObject({ ...EX_1B_SELF, learningProviderId: PROVIDER });
    const stored = standIn.activities()[0] as LearningSelfInitiatedCourseRecord;
    expect(stored['@odata.type']).toBe('#microsoft.graph.learningSelfInitiatedCourse');
    expect(stored.startedDateTime).toBe('2021-05-21T22:57:17+00:00');
  });

  it('serves the documented beta create the same way', async () => {
    const a = await call('POST', activitiesPath().replace('/v1.0/', '/beta/'), { body: EX_1A_ASSIGNMENT });
    expect(a.status).toBe(201);
    expect(a.json['@odata.context']).toMatch(new RegExp(`^${base}/beta/\\$metadata#learningProviders`));
  });

  it('applies the documented updates (2a, 2b) verbatim to percent-encoded ids with ":" (204)', async () => {
    const assignmentId = await create(EX_1A_ASSIGNMENT);
    const selfId = await create(EX_1B_SELF_WITH_PROVIDER);
    expect(assignmentId).toContain(':');
    const a = await call('PATCH', activityPath(assignmentId), { body: EX_2A_UPDATE });
    expect(a.status).toBe(204);
    expect(a.body).toBeUndefined();
    const b = await call('PATCH', activityPath(selfId), { body: EX_2B_UPDATE_SELF });
    expect(b.status).toBe(204);
    const [first, second] = standIn.activities();
    expect(first).toMatchObject({ id: assignmentId, status: 'inProgress', completionPercentage: 20 });
    expect(second).toMatchObject({ id: selfId, completionPercentage: 30, startedDateTime: '2021-05-11T22:57:17+00:00' });
  });

  it('gets by id at the tenant root (3a) and by externalCourseActivityId (3b), quoted, metadata-spelled and unquoted', async () => {
    const id = await create();
    const root = await call('GET', `/v1.0/employeeExperience/learningCourseActivities/${encodeURIComponent(id)}`);
    expect(root.status).toBe(200);
    expect(root.json).toMatchObject({ id, '@odata.type': '#microsoft.graph.learningAssignment', status: 'notStarted' });
    const rawColon = await call('GET', `/v1.0/employeeExperience/learningCourseActivities/${id}`);
    expect(rawColon.json.id).toBe(id);

    const ext = EX_1A_ASSIGNMENT.externalCourseActivityId;
    for (const path of [
      byExternal(ext),
      byExternal(ext, PROVIDER, 'externalcourseActivityId'),
      `${activitiesPath()}(externalCourseActivityId='${ext}')`,
      `${activitiesPath()}(externalCourseActivityId=${ext})`,
    ]) {
      const a = await call('GET', path);
      expect(a.status, path).toBe(200);
      expect(a.json.id).toBe(id);
    }
    const forUser = await call('GET', `/v1.0/users/${LEARNER}/employeeExperience/learningCourseActivities/${encodeURIComponent(id)}`);
    expect(forUser.status).toBe(200);
    expect((await call('GET', `/v1.0/users/${UNLICENSED}/employeeExperience/learningCourseActivities/${encodeURIComponent(id)}`)).status).toBe(404);
  });

  it('deletes (4) with 204, then answers 404 with the documented message', async () => {
    const id = await create();
    expect((await call('DELETE', activityPath(id))).status).toBe(204);
    const again = await call('DELETE', activityPath(id));
    expect(again.status).toBe(404);
    expect(errorOf(again)).toMatchObject({ code: 'notFound', message: "The requested assignment ID doesn't exist." });
    const get = await call('GET', byExternal(EX_1A_ASSIGNMENT.externalCourseActivityId));
    expect(get.status).toBe(404);
    expect(errorOf(get)).toMatchObject({ code: 'notFound', message: 'The requested assignment ID doesn\u2019t exist.' });
    const root = await call('GET', `/v1.0/employeeExperience/learningCourseActivities/${encodeURIComponent(id)}`);
    expect(root.status).toBe(404);
    const patch = await call('PATCH', activityPath(id), { body: EX_2A_UPDATE });
    expect(patch.status).toBe(404);
    expect(errorOf(patch).message).toBe('The assignment ID requested doesn\u2019t exist.');
  });

  it('accepts a duplicate externalCourseActivityId (no 409 is documented); lookup returns the first', async () => {
    const first = await create();
    const second = await create();
    expect(second).not.toBe(first);
    expect(standIn.activities().filter((a) => a.externalCourseActivityId === EX_1A_ASSIGNMENT.externalCourseActivityId)).toHaveLength(2);
    expect((await call('GET', byExternal(EX_1A_ASSIGNMENT.externalCourseActivityId))).json.id).toBe(first);
    await call('DELETE', activityPath(first));
    expect((await call('GET', byExternal(EX_1A_ASSIGNMENT.externalCourseActivityId))).json.id).toBe(second);
  });

  it('round-trips an externalCourseActivityId with quotes, spaces, #, ?, percent signs and non-ASCII', async () => {
    const ext = "enr 'A'#2024?x 100%:x-ü";
    const id = await create(assignment({ externalCourseActivityId: ext }));
    const a = await call('GET', byExternal(ext));
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ id, externalCourseActivityId: ext });
  });

  it('decodes a key once, as Graph does: %2F is a path separator (400), %252F stays "%2F"', async () => {
    const slashed = "enr/2024";
    await create(assignment({ externalCourseActivityId: slashed }));
    const a = await call('GET', byExternal(slashed));
    expect(a.status).toBe(400);
    expect(errorOf(a).message).toMatch(/^Resource not found for the segment /);
    const literal = 'enr%2F2024';
    const id = await create(assignment({ externalCourseActivityId: literal }));
    const b = await call('GET', byExternal(literal));
    expect(b.status).toBe(200);
    expect(b.json).toMatchObject({ id, externalCourseActivityId: literal });
  });

  it('accepts the metadata spelling externalcourseActivityId in bodies', async () => {
    const { externalCourseActivityId: ext, ...rest } = EX_1A_ASSIGNMENT;
    const id = await create({ ...rest, externalcourseActivityId: `${ext}-meta` });
    expect((await call('GET', byExternal(`${ext}-meta`))).json.id).toBe(id);
  });
});

// =============================================================================================
describe('learningCourseActivities: documented errors', () => {
  it('answers an unknown provider and a provider without course-activity sync with the documented 400s', async () => {
    const unknown = await call('POST', activitiesPath('99999999-0000-4000-8000-000000000000'), { body: assignment({ learningProviderId: undefined }) });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown)).toMatchObject({ code: 'badRequest', message: STAND_IN_MESSAGES.providerNotRegistered });
    for (const [method, path] of [
      ['POST', activitiesPath(DISABLED_PROVIDER)],
      ['GET', byExternal('x', DISABLED_PROVIDER)],
      ['PATCH', activityPath('x', DISABLED_PROVIDER)],
      ['DELETE', activityPath('x', DISABLED_PROVIDER)],
    ] as const) {
      const a = await call(method, path, method === 'POST' || method === 'PATCH' ? { body: assignment({ learningProviderId: undefined }) } : {});
      expect(a.status, `${method} ${path}`).toBe(400);
      expect(errorOf(a).message).toBe("This provider isn't enabled for the given tenant.");
    }
    expect(standIn.activities()).toHaveLength(0);
  });

  it('validates a create body with the documented field messages', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [assignment({ '@odata.type': undefined }), 'Input field @odata.type is required'],
      [assignment({ '@odata.type': '#microsoft.graph.learningCourseActivity' }), 'Input field @odata.type is invalid'],
      [assignment({ learningContentId: undefined }), 'Input field learningContentId is required'],
      [assignment({ learningContentId: '' }), "Input field learningContentId shouldn't be empty"],
      [assignment({ learnerUserId: null }), 'Input field learnerUserId is required'],
      [assignment({ status: undefined }), 'Input field status is required'],
      [assignment({ assignmentType: undefined }), 'Input field assignmentType is required'],
      [assignment({ assignmentType: 'mandatory' }), 'Input field assignmentType is invalid'],
      [assignment({ status: 'done' }), 'Input field status is invalid'],
      [assignment({ status: 'unknownFutureValue' }), 'Input field status is invalid'],
      [{ ...EX_1B_SELF, status: 'notStarted' }, 'Input field status is invalid'],
      [assignment({ completionPercentage: 101 }), 'Input field completionPercentage is invalid'],
      [assignment({ completionPercentage: -1 }), 'Input field completionPercentage is invalid'],
      [assignment({ completionPercentage: 20.5 }), 'Input field completionPercentage is invalid'],
      [assignment({ completionPercentage: '20' }), 'Input field completionPercentage is invalid'],
      [assignment({ assignedDateTime: '2021-13-11T22:57:17Z' }), 'Input field assignedDateTime is invalid'],
      [assignment({ completedDateTime: '11/05/2021' }), 'Input field completedDateTime is invalid'],
      [assignment({ dueDateTime: '2022-09-22T16:05:00Z' }), 'Input field dueDateTime is invalid'],
      [assignment({ dueDateTime: { timeZone: 'UTC' } }), 'Input field dueDateTime.dateTime is required'],
      [assignment({ notes: 'a note' }), 'Input field notes is invalid'],
      [assignment({ notes: { contentType: 'markdown', content: 'x' } }), 'Input field notes.contentType is invalid'],
      [assignment({ learningProviderId: CONTENT_PROVIDER }), 'Input field learningProviderId is invalid'],
      [assignment({ learningContentId: '00000000-0000-4000-8000-000000000000' }), 'Input field learningContentId is invalid'],
      // Not documented: a learner who is not a user of the tenant.
      [assignment({ learnerUserId: '00000000-0000-4000-8000-00000000beef' }), 'Input field learnerUserId is invalid'],
    ];
    for (const [body, message] of cases) {
      const a = await call('POST', activitiesPath(), { body });
      expect(a.status, message).toBe(400);
      expect(errorOf(a).message, message).toBe(message);
    }
    expect(standIn.activities()).toHaveLength(0);
  });

  it('rejects unknown properties in Graph\'s wording (including a self-initiated field on an assignment)', async () => {
    const a = await call('POST', activitiesPath(), { body: assignment({ startedDateTime: '2021-05-21T22:57:17+00:00' }) });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({
      code: 'BadRequest',
      message:
        "The property 'startedDateTime' does not exist on type 'microsoft.graph.learningAssignment'. Make sure to only use property names that are defined by the type or mark the type as open type.",
    });
    const nested = await call('POST', activitiesPath(), { body: assignment({ dueDateTime: { dateTime: '2022-09-22T16:05:00', tz: 'UTC' } }) });
    expect(errorOf(nested).message).toMatch(/^The property 'tz' does not exist on type 'microsoft.graph.dateTimeTimeZone'/);
  });

  it('answers content of another provider 403 and an unlicensed learner 403 with the documented messages', async () => {
    const other = await call('POST', activitiesPath(), { body: assignment({ learningContentId: OTHER_CONTENT }) });
    expect(other.status).toBe(403);
    expect(errorOf(other)).toMatchObject({ code: 'Forbidden', message: "The provider isn't valid to create course activity for the given learning content" });
    const unlicensed = await call('POST', activitiesPath(), { body: assignment({ learnerUserId: UNLICENSED }) });
    expect(unlicensed.status).toBe(403);
    expect(errorOf(unlicensed)).toMatchObject({ code: 'Forbidden', message: "The user license isn't valid to perform the operation" });

    // A learner who loses the licence can no longer be updated.
    const id = await create();
    standIn.addUser({ id: LEARNER, userPrincipalName: 'Adele.Vance@contoso.com', licensed: false });
    const patch = await call('PATCH', activityPath(id), { body: EX_2A_UPDATE });
    expect(patch.status).toBe(403);
    expect(errorOf(patch).message).toBe('The user license is not valid to perform the operation');
  });

  it('validates an update: @odata.type and status required, the type must match, immutable fields must not change', async () => {
    const id = await create();
    const cases: [Record<string, unknown>, string][] = [
      [{ status: 'completed' }, 'Input field @odata.type is required'],
      [{ '@odata.type': '#microsoft.graph.learningAssignment' }, 'Input field status is required'],
      [{ '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse', status: 'completed' }, 'Input field @odata.type is invalid'],
      [{ ...EX_2A_UPDATE, completionPercentage: 150 }, 'Input field completionPercentage is invalid'],
      [{ ...EX_2A_UPDATE, learnerUserId: UNLICENSED }, 'Input field learnerUserId is invalid'],
      [{ ...EX_2A_UPDATE, externalCourseActivityId: 'changed' }, 'Input field externalCourseActivityId is invalid'],
      [{ ...EX_2A_UPDATE, assignmentType: 'recommended' }, 'Input field assignmentType is invalid'],
      [{ ...EX_2A_UPDATE, learningProviderId: CONTENT_PROVIDER }, 'Input field learningProviderId is invalid'],
    ];
    for (const [body, message] of cases) {
      const a = await call('PATCH', activityPath(id), { body });
      expect(a.status, message).toBe(400);
      expect(errorOf(a).message, message).toBe(message);
    }
    expect(standIn.activities()[0]).toMatchObject({ status: 'notStarted', completionPercentage: 20 });

    // A minimal update changes only what it sends; null clears.
    const minimal = await call('PATCH', activityPath(id), {
      body: { '@odata.type': '#microsoft.graph.learningAssignment', status: 'completed', completedDateTime: '2024-01-02T03:04:05Z', notes: null },
    });
    expect(minimal.status).toBe(204);
    const stored = standIn.activities()[0] as LearningAssignmentRecord;
    expect(stored).toMatchObject({ status: 'completed', completedDateTime: '2024-01-02T03:04:05Z', notes: null, completionPercentage: 20 });
    expect(stored.dueDateTime).toEqual(EX_1A_ASSIGNMENT.dueDateTime);
  });

  it('does not find an activity under another provider', async () => {
    const id = await create();
    const a = await call('DELETE', activityPath(id, CONTENT_PROVIDER));
    expect(a.status).toBe(404);
    expect(standIn.activities()).toHaveLength(1);
  });
});

// =============================================================================================
describe('users', () => {
  it('gets a user by userPrincipalName (case-insensitive) with $select=id', async () => {
    const a = await call('GET', `/v1.0/users/${encodeURIComponent('adele.vance@CONTOSO.com')}?$select=id`);
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ '@odata.context': `${base}/v1.0/$metadata#users(id)/$entity`, id: LEARNER });
  });

  it('gets a user by id with the default properties (employeeId only on $select)', async () => {
    const a = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ id: LEARNER, userPrincipalName: 'Adele.Vance@contoso.com', mail: 'Adele.Vance@contoso.com', displayName: 'Adele Vance' });
    expect(a.json).not.toHaveProperty('employeeId');
    const sel = await call('GET', `/v1.0/users/${LEARNER}?$select=id,employeeId`);
    expect(sel.json).toMatchObject({ id: LEARNER, employeeId: 'E-100' });
    const bad = await call('GET', `/v1.0/users/${LEARNER}?$select=shoeSize`);
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toBe("Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.");
  });

  it('answers an unknown user 404 Request_ResourceNotFound in Graph\'s wording', async () => {
    const a = await call('GET', `/v1.0/users/${encodeURIComponent('ghost@contoso.com')}?$select=id`);
    expect(a.status).toBe(404);
    expect(errorOf(a)).toMatchObject({
      code: 'Request_ResourceNotFound',
      message: "Resource 'ghost@contoso.com' does not exist or one of its queried reference-property objects are not present.",
    });
  });

  it('filters on mail (case-insensitive) and on employeeId, with and without the advanced query parameters', async () => {
    const mail = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "mail eq 'ADELE.VANCE@contoso.com'", $select: 'id' }).toString()}`);
    expect(mail.status).toBe(200);
    expect(mail.json.value).toEqual([{ id: LEARNER }]);

    const emp = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "employeeId eq 'E-100'", $select: 'id' }).toString()}`);
    expect(emp.json.value).toEqual([{ id: LEARNER }]);

    const advanced = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "employeeId eq 'E-100'", $select: 'id', $count: 'true' }).toString()}`, {
      headers: { ConsistencyLevel: 'eventual' },
    });
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ '@odata.count': 1, value: [{ id: LEARNER }] });

    const noHeader = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "employeeId eq 'E-100'", $count: 'true' }).toString()}`);
    expect(noHeader.status).toBe(400);
    expect(errorOf(noHeader)).toMatchObject({ code: 'Request_BadRequest', message: '$count is not currently supported.' });

    const ne = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "employeeId ne 'E-100'" }).toString()}`);
    expect(ne.status).toBe(400);
    expect(errorOf(ne).code).toBe('Request_UnsupportedQuery');

    const none = await call('GET', `/v1.0/users?${new URLSearchParams({ $filter: "mail eq 'o''hara@contoso.com'" }).toString()}`);
    expect(none.json.value).toEqual([]);
  });
});

// =============================================================================================
describe('$batch', () => {
  it('dispatches each sub-request through the same handlers and answers 200 with per-item responses', async () => {
    const a = await call('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/users/${encodeURIComponent('Adele.Vance@contoso.com')}?$select=id` },
          { id: '2', method: 'POST', url: `/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`, headers: { 'Content-Type': 'application/json' }, body: EX_1A_ASSIGNMENT },
          { id: '3', method: 'GET', url: `employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities(externalCourseActivityId='nope')` },
          { id: '4', method: 'POST', url: `/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`, headers: { 'content-type': 'application/json' }, body: assignment({ status: 'done' }) },
        ],
      },
    });
    expect(a.status).toBe(200);
    const responses = a.json.responses as { id: string; status: number; headers: Record<string, string>; body: Record<string, unknown> }[];
    expect(responses.map((r) => [r.id, r.status])).toEqual([
      ['1', 200],
      ['2', 201],
      ['3', 404],
      ['4', 400],
    ]);
    expect(responses[0]?.body).toMatchObject({ id: LEARNER });
    expect(responses[1]?.body.id).toMatch(new RegExp(`^${LEARNER}:`));
    expect(responses[2]?.body).toMatchObject({ error: { code: 'notFound' } });
    expect(responses[3]?.body).toMatchObject({ error: { message: 'Input field status is invalid' } });
    expect(standIn.activities()).toHaveLength(1);
    const log = standIn.requests();
    expect(log.filter((r) => r.batched)).toHaveLength(4);
    expect(log.find((r) => !r.batched)).toMatchObject({ method: 'POST', path: '/v1.0/$batch', status: 200 });
  });

  it('refuses more than 20 requests', async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: `/users/${LEARNER}` }));
    const a = await call('POST', '/v1.0/$batch', { body: { requests } });
    expect(a.status).toBe(400);
    expect(errorOf(a).code).toBe('BadRequest');
    const ok = await call('POST', '/v1.0/$batch', { body: { requests: requests.slice(0, 20) } });
    expect(ok.status).toBe(200);
  });

  it('answers a sub-request url with "/v1.0/" 400 "Resource not found for the segment \'v1.0\'", as Graph does', async () => {
    const a = await call('POST', '/v1.0/$batch', { body: { requests: [{ id: '1', method: 'GET', url: `/v1.0/users/${LEARNER}` }] } });
    expect(a.status).toBe(200);
    const [r] = a.json.responses as { status: number; body: { error: { message: string } } }[];
    expect(r?.status).toBe(400);
    expect(r?.body.error.message).toBe("Resource not found for the segment 'v1.0'.");
  });

  it('answers a throttled sub-request 429 with its own Retry-After while the envelope is 200; the throttled item changes nothing', async () => {
    standIn.setOptions({ rateLimit: { requestsPerSecond: 1, burst: 2 } });
    const requests = ['a', 'b', 'c'].map((ext, i) => ({
      id: String(i + 1),
      method: 'POST',
      url: `/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`,
      headers: { 'Content-Type': 'application/json' },
      body: assignment({ externalCourseActivityId: ext }),
    }));
    const a = await call('POST', '/v1.0/$batch', { body: { requests } });
    expect(a.status).toBe(200);
    const responses = a.json.responses as { status: number; headers: Record<string, string>; body: { error?: { code: string; message: string } } }[];
    expect(responses.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(responses[2]?.headers['Retry-After']).toBe('1');
    expect(responses[2]?.body.error).toMatchObject({ code: 'tooManyRequests', message: 'Retry after 1 minutes' });
    expect(standIn.activities().map((x) => x.externalCourseActivityId)).toEqual(['a', 'b']);
    expect(standIn.stats().throttled).toBe(1);
  });

  it('answers a request whose dependency failed 424, and refuses a write without Content-Type', async () => {
    const a = await call('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/users/ghost@contoso.com` },
          { id: '2', method: 'GET', url: `/users/${LEARNER}`, dependsOn: ['1'] },
        ],
      },
    });
    expect((a.json.responses as { status: number }[]).map((r) => r.status)).toEqual([404, 424]);
    const b = await call('POST', '/v1.0/$batch', {
      body: { requests: [{ id: '7', method: 'POST', url: `/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`, body: EX_1A_ASSIGNMENT }] },
    });
    expect(b.status).toBe(400);
    expect(errorOf(b).message).toBe('Write request id : 7 does not contain Content-Type header or body.');
    expect(standIn.activities()).toHaveLength(0);
  });

  it('uses the envelope\'s auth', async () => {
    const a = await call('POST', '/v1.0/$batch', { token: 'wrong', body: { requests: [{ id: '1', method: 'GET', url: `/users/${LEARNER}` }] } });
    expect(a.status).toBe(401);
  });
});

// =============================================================================================
describe('throttling (token bucket)', () => {
  it('answers beyond the bucket 429 tooManyRequests with Retry-After and "Retry after {n} minutes"; refused requests change nothing', async () => {
    standIn.setOptions({ rateLimit: { requestsPerSecond: 1, burst: 2 } });
    expect((await call('GET', `/v1.0/users/${LEARNER}`)).status).toBe(200);
    expect((await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT })).status).toBe(201);
    const refused = await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(errorOf(refused)).toMatchObject({ code: 'tooManyRequests', message: 'Retry after 1 minutes' });
    expect(standIn.activities()).toHaveLength(1);

    await new Promise((r) => setTimeout(r, 1050));
    expect((await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT })).status).toBe(201);
    expect(standIn.stats()).toMatchObject({ throttled: 1, writes: 2, byStatus: { 200: 1, 201: 2, 429: 1 } });
  });

  it('states a long wait in whole seconds and in rounded-up minutes', async () => {
    standIn.setOptions({ rateLimit: { requestsPerSecond: 1 / 90, burst: 1 } });
    await call('GET', `/v1.0/users/${LEARNER}`);
    const refused = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers.get('retry-after'));
    expect(seconds).toBeGreaterThan(60);
    expect(seconds).toBeLessThanOrEqual(90);
    expect(errorOf(refused).message).toBe('Retry after 2 minutes');
  });

  it('follows retryAfterStyle', async () => {
    standIn.setOptions({ rateLimit: { requestsPerSecond: 1, burst: 1 }, faults: { retryAfterStyle: 'header' } });
    await call('GET', `/v1.0/users/${LEARNER}`);
    const headerOnly = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(headerOnly.headers.get('retry-after')).toBe('1');
    expect(errorOf(headerOnly).message).not.toMatch(/minutes/);

    standIn.setOptions({ faults: { retryAfterStyle: 'body-minutes' } });
    const bodyOnly = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(bodyOnly.status).toBe(429);
    expect(bodyOnly.headers.get('retry-after')).toBeNull();
    expect(errorOf(bodyOnly).message).toBe('Retry after 1 minutes');

    standIn.setOptions({ faults: { retryAfterStyle: 'none' } });
    const none = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(none.headers.get('retry-after')).toBeNull();
    expect(errorOf(none).message).not.toMatch(/minutes/);
  });
});

// =============================================================================================
describe('faults', () => {
  async function statuses(seed: number, n: number): Promise<number[]> {
    standIn.setOptions({ faults: { seed, throttleRate: 0.2, unavailableRate: 0.1, serverErrorRate: 0.1, retryAfterSeconds: 2 } });
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await call('GET', `/v1.0/users/${LEARNER}?$select=id`)).status);
    return out;
  }

  it('draws random faults deterministically from the seed', async () => {
    const first = await statuses(7, 40);
    const again = await statuses(7, 40);
    const other = await statuses(8, 40);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first).toContain(429);
    expect(first).toContain(503);
    expect(first).toContain(500);
    expect(first).toContain(200);
  });

  it('gives random 429/503 the configured Retry-After, 500 internalServerError', async () => {
    standIn.setOptions({ faults: { seed: 1, retryAfterSeconds: 120, decide: ({ index }) => (['throttle', 'unavailable', 'serverError'] as const)[index] } });
    const t = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(t.status).toBe(429);
    expect(t.headers.get('retry-after')).toBe('120');
    expect(errorOf(t)).toMatchObject({ code: 'tooManyRequests', message: 'Retry after 2 minutes' });
    const u = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(u.status).toBe(503);
    expect(u.headers.get('retry-after')).toBe('120');
    expect(errorOf(u)).toMatchObject({ code: 'serviceUnavailable', message: 'Retry after 2 minutes' });
    const e = await call('GET', `/v1.0/users/${LEARNER}`);
    expect(e.status).toBe(500);
    expect(errorOf(e)).toMatchObject({ code: 'internalServerError', message: 'Internal server error.' });
    expect((await call('GET', `/v1.0/users/${LEARNER}`)).status).toBe(200);
  });

  it('targets faults with decide; faulted requests change no state', async () => {
    const seen: { method: string; path: string; index: number; body: unknown }[] = [];
    standIn.setOptions({
      faults: {
        decide: (req) => {
          seen.push(req);
          return req.method === 'POST' ? 'throttle' : undefined;
        },
      },
    });
    const a = await call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT });
    expect(a.status).toBe(429);
    expect(standIn.activities()).toHaveLength(0);
    expect(seen[0]).toMatchObject({ method: 'POST', path: activitiesPath(), index: 0, body: EX_1A_ASSIGNMENT });
  });

  it('resets the socket without an answer, and without a state change', async () => {
    standIn.setOptions({ faults: { decide: () => 'reset' } });
    await expect(call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT })).rejects.toThrow();
    expect(standIn.activities()).toHaveLength(0);
    expect(standIn.requests().at(-1)).toMatchObject({ status: 0 });
  });

  it('loses the response of a processed request (lostResponse): the state changed, the client saw a failure', async () => {
    standIn.setOptions({ faults: { decide: () => 'lostResponse' } });
    await expect(call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT })).rejects.toThrow();
    expect(standIn.activities()).toHaveLength(1);
  });

  it('hangs until stop()', async () => {
    standIn.setOptions({ faults: { decide: () => 'hang' } });
    const pending = call('POST', activitiesPath(), { body: EX_1A_ASSIGNMENT });
    const outcome = await Promise.race([pending.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('pending'), 300))]);
    expect(outcome).toBe('pending');
    const t0 = performance.now();
    await standIn.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
    await expect(pending).rejects.toThrow();
    expect(standIn.activities()).toHaveLength(0);
    base = await standIn.start(standIn.port);
  });

  it('applies faults per $batch sub-request', async () => {
    standIn.setOptions({ faults: { decide: (r) => (r.batched && r.path.endsWith('/learningCourseActivities') ? 'unavailable' : undefined) } });
    const a = await call('POST', '/v1.0/$batch', {
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/users/${LEARNER}` },
          { id: '2', method: 'POST', url: `/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`, headers: { 'Content-Type': 'application/json' }, body: EX_1A_ASSIGNMENT },
        ],
      },
    });
    expect(a.status).toBe(200);
    const responses = a.json.responses as { status: number; headers: Record<string, string> }[];
    expect(responses.map((r) => r.status)).toEqual([200, 503]);
    expect(responses[1]?.headers['Retry-After']).toBe('1');
    expect(standIn.activities()).toHaveLength(0);
  });
});

// =============================================================================================
describe('restart, log and state', () => {
  it('keeps the state across stop() / start(samePort)', async () => {
    const id = await create();
    const port = standIn.port;
    await standIn.stop();
    await expect(fetch(`${base}/v1.0/users/${LEARNER}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).rejects.toThrow();
    const again = await standIn.start(port);
    expect(again).toBe(base);
    const a = await call('GET', byExternal(EX_1A_ASSIGNMENT.externalCourseActivityId));
    expect(a.status).toBe(200);
    expect(a.json.id).toBe(id);
  });

  it('logs every request and counts by status; resetStats clears the log', async () => {
    await call('GET', `/v1.0/users/${LEARNER}`, { token: null });
    await create();
    await call('GET', `/v1.0/users/${LEARNER}`);
    const log = standIn.requests();
    expect(log.map((r) => [r.method, r.status, r.batched])).toEqual([
      ['GET', 401, false],
      ['POST', 201, false],
      ['GET', 200, false],
    ]);
    expect(log[1]?.path).toBe(activitiesPath());
    expect(standIn.stats()).toEqual({ total: 3, byStatus: { 401: 1, 201: 1, 200: 1 }, throttled: 0, writes: 1 });
    standIn.resetStats();
    expect(standIn.requests()).toEqual([]);
    expect(standIn.stats().total).toBe(0);
    expect(standIn.activities()).toHaveLength(1);
  });

  it('exports and imports its data', async () => {
    const id = await create();
    const snapshot = JSON.parse(JSON.stringify(standIn.exportState())) as ReturnType<GraphStandIn['exportState']>;
    const other = new GraphStandIn({ token: TOKEN });
    other.importState(snapshot);
    expect(other.activities()).toEqual(standIn.activities());
    expect(other.contents()).toEqual(standIn.contents());
    const url = await other.start(0);
    try {
      const res = await fetch(`${url}/v1.0/employeeExperience/learningCourseActivities/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
    } finally {
      await other.stop();
    }
  });
});

// =============================================================================================
describe('the production Graph client (@microsoft/microsoft-graph-client) runs unchanged against it', () => {
  class Bearer implements Middleware {
    private next: Middleware | undefined;
    async execute(context: Context): Promise<void> {
      const headers = new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]);
      headers.set('Authorization', `Bearer ${TOKEN}`);
      context.options = { ...context.options, headers: Object.fromEntries(headers.entries()) };
      await this.next?.execute(context);
    }
    setNext(next: Middleware): void {
      this.next = next;
    }
  }
  const client = (): Client => Client.initWithMiddleware({ baseUrl: `${base}/`, middleware: [new Bearer(), new HTTPMessageHandler()] });

  it('upserts content (202 JSON), creates, finds, updates and deletes an activity', async () => {
    const c = client();
    const content = (await c.api(`/employeeExperience/learningProviders/${PROVIDER}/learningContents(externalId=${encodeURIComponent("'course-1'")})`).version('v1.0').patch({
      externalId: 'course-1',
      title: 'Course 1',
      contentWebUrl: 'https://lms.example/c/1',
      languageTag: 'en-US',
      duration: 'PT45M',
    })) as { id: string };
    expect(content.id).toBe(stableContentId(PROVIDER, 'course-1'));

    const created = (await c.api(`/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities`).post(
      assignment({ learningContentId: content.id, externalCourseActivityId: "enr-1:'x'" }),
    )) as { id: string };
    const found = (await c
      .api(`/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities(externalCourseActivityId=${encodeURIComponent("'enr-1:''x'''")})`)
      .get()) as { id: string };
    expect(found.id).toBe(created.id);
    await c.api(`/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities/${encodeURIComponent(created.id)}`).patch(
      { '@odata.type': '#microsoft.graph.learningAssignment', status: 'completed' },
    );
    expect(standIn.activities()[0]?.status).toBe('completed');
    await c.api(`/employeeExperience/learningProviders/${PROVIDER}/learningCourseActivities/${encodeURIComponent(created.id)}`).delete();
    expect(standIn.activities()).toHaveLength(0);

    const users = (await c.api(`/users?${new URLSearchParams({ $filter: "mail eq 'adele.vance@contoso.com'", $select: 'id' }).toString()}`).get()) as {
      value: { id: string }[];
    };
    expect(users.value).toEqual([{ id: LEARNER }]);
    const byUpn = (await c.api(`/users/${encodeURIComponent('adele.vance@contoso.com')}?$select=id`).get()) as Record<string, unknown>;
    expect(byUpn.id).toBe(LEARNER);
    const byEmployeeId = (await c
      .api(`/users?${new URLSearchParams({ $filter: "employeeId eq 'E-100'", $select: 'id', $count: 'true' }).toString()}`)
      .header('ConsistencyLevel', 'eventual')
      .get()) as { value: { id: string }[] };
    expect(byEmployeeId.value).toEqual([{ id: LEARNER }]);
  });

  it('surfaces errors as GraphError with status, code, message and the Retry-After header', async () => {
    const c = client();
    standIn.setOptions({ faults: { decide: () => 'throttle', retryAfterSeconds: 3 } });
    const err = (await c.api(`/users/${LEARNER}`).get().then(
      () => undefined,
      (e: unknown) => e,
    )) as GraphError;
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('tooManyRequests');
    expect(err.message).toBe('Retry after 1 minutes');
    expect(err.headers?.get('retry-after')).toBe('3');
    expect(typeof err.requestId).toBe('string');

    standIn.setOptions({ faults: undefined });
    const notFound = (await c.api(`/employeeExperience/learningCourseActivities/${encodeURIComponent('x:y')}`).get().then(
      () => undefined,
      (e: unknown) => e,
    )) as GraphError;
    expect(notFound.statusCode).toBe(404);
    expect(notFound.code).toBe('notFound');
  });
});
