/**
 * The xapi adapter against the LRS stand-in (real HTTP: Basic auth, version header, `more`,
 * Consistent-Through, voiding, 401/429/503, a malformed page), then the whole engine from the
 * stand-in to the Graph stand-in and Azurite. Statements are the real Moodle and cmi5 ones
 * from shared/reference/data/xapi.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { isLmsRequestError } from '../../src/lms/http/errors.js';
import type { ChangePage, LmsAdapter, SourceItem } from '../../src/lms/types.js';
import { createXapiAdapter } from '../../src/lms/xapi/index.js';
import type { EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { XapiStandIn, type XapiStatement } from '../../src/sandbox/lms/xapiStandIn.js';
import { LRS_KEY, LRS_SECRET, LmsHarness, asLearner, cmi5Scenario, moodleStatements } from '../support/lmsHarness.js';

const COURSE = 'http://www.example.org/course/view.php?id=2';
const enrolled = moodleStatements('user-enrolment-created');
const moduleDone = moodleStatements('course-module-completion-updated-completed');
const courseDone = moodleStatements('course-completed');
const left = moodleStatements('user-enrolment-deleted');

/** The Moodle statements for another course id (the plugin's fixtures all use course 2). */
function inCourse(statements: readonly XapiStatement[], id: number): XapiStatement[] {
  return JSON.parse(JSON.stringify(statements).replaceAll('course/view.php?id=2', `course/view.php?id=${id}`).replaceAll('"test_name"', `"Course ${id}"`)) as XapiStatement[];
}

function as(email: string, statements: readonly XapiStatement[]): XapiStatement[] {
  return statements.map((s) => asLearner(s, email));
}

const idOf = (email: string, course = COURSE): string => `xapi:mbox:${email}:${course}`;

let lrs: XapiStandIn | undefined;
let harness: LmsHarness<XapiStandIn> | undefined;
afterEach(async () => {
  await lrs?.stop();
  await harness?.close();
  lrs = undefined;
  harness = undefined;
});

async function startLrs(options: { maxLimit?: number } = {}): Promise<{ lrs: XapiStandIn; adapter: (extra?: Record<string, string>, lookbackMs?: number, password?: string) => LmsAdapter }> {
  const server = new XapiStandIn({ username: LRS_KEY, password: LRS_SECRET, ...options });
  lrs = server;
  const baseUrl = await server.start();
  const adapter = (extra: Record<string, string> = {}, lookbackMs = 3_600_000, password = LRS_SECRET): LmsAdapter => {
    const settings: ApiLmsSettings = { adapter: 'xapi', baseUrl, username: LRS_KEY, password, extra };
    return createXapiAdapter({ settings, cwd: '.', lookbackMs, http: { minBackoffMs: 5, maxRetries: 3 } });
  };
  return { lrs: server, adapter };
}

async function pages(adapter: LmsAdapter, cursor?: string, maxPageSize = 200): Promise<ChangePage[]> {
  const out: ChangePage[] = [];
  for await (const page of adapter.listChanges(cursor === undefined ? {} : { cursor }).byPage({ maxPageSize })) out.push(page);
  return out;
}

function records(list: readonly ChangePage[]): EnrollmentRecord[] {
  return list.flatMap((p) => p.items).flatMap((i: SourceItem) => (i.kind === 'record' ? [i.record] : []));
}

function latest(list: readonly EnrollmentRecord[]): Map<string, EnrollmentRecord> {
  const map = new Map<string, EnrollmentRecord>();
  for (const r of list) if ((map.get(r.enrollmentId)?.updatedAt ?? '') <= r.updatedAt) map.set(r.enrollmentId, r);
  return map;
}

describe('xapi adapter against the LRS stand-in', () => {
  it('follows `more` with Basic auth and the version header, folds each touched enrollment from the LRS, oldest first', async () => {
    const { lrs: server, adapter } = await startLrs({ maxLimit: 4 });
    const learners = ['ada@contoso.example', 'grace@contoso.example', 'alan@contoso.example'];
    for (const email of learners) server.store(as(email, [...enrolled, ...moduleDone]));
    server.store(as('ada@contoso.example', courseDone));
    const list = await pages(adapter(), undefined, 4);
    expect(list.length).toBeGreaterThanOrEqual(2);
    const byId = latest(records(list));
    expect([...byId.keys()].sort()).toEqual(learners.map((e) => idOf(e)).sort());
    expect(byId.get(idOf('ada@contoso.example'))).toMatchObject({ status: 'completed', source: 'assigned' });
    expect(byId.get(idOf('grace@contoso.example'))).toMatchObject({ status: 'inProgress' });
    for (const page of list) {
      const times = page.items.map((i) => (i.kind === 'record' ? i.record.updatedAt : ''));
      expect(times).toEqual([...times].sort());
    }
    const calls = server.requests().filter((r) => r.path === '/xapi/statements');
    expect(calls[0]?.query).toMatchObject({ ascending: 'true', limit: '4' });
    expect(calls.every((c) => c.status === 200)).toBe(true);
    // The change stream, then one history per touched enrollment: agent + activity + related_activities.
    expect(calls.some((c) => c.query['related_activities'] === 'true' && c.query['activity'] === COURSE && JSON.parse(c.query['agent'] ?? '{}').mbox === 'mailto:grace@contoso.example')).toBe(true);
    // The last page has no continuation; the cursor is the last stored time seen.
    expect(list[list.length - 1]?.continuationToken).toBeUndefined();
    expect(list[list.length - 1]?.cursor).toBe(server.statements().at(-1)?.['stored']);
  });

  it('resumes a listing from a continuation token', async () => {
    const { lrs: server, adapter } = await startLrs({ maxLimit: 3 });
    const emails = ['a@contoso.example', 'b@contoso.example', 'c@contoso.example', 'd@contoso.example'];
    for (const email of emails) server.store(as(email, enrolled));
    const first = await adapter().listChanges().byPage({ maxPageSize: 3 }).next();
    const page = first.value as ChangePage;
    expect(page.continuationToken).toBeDefined();
    const rest: ChangePage[] = [];
    for await (const p of adapter().listChanges().byPage({ maxPageSize: 3, ...(page.continuationToken !== undefined ? { continuationToken: page.continuationToken } : {}) })) rest.push(p);
    expect(records([page, ...rest]).map((r) => r.enrollmentId).sort()).toEqual(emails.map((e) => idOf(e)));
    expect(rest.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps the cursor at or below Consistent-Through, and reads late commits again through the look-back', async () => {
    const { lrs: server, adapter } = await startLrs();
    server.store(as('ada@contoso.example', enrolled), { stored: '2026-11-02T10:00:00.000Z' });
    server.store(as('grace@contoso.example', enrolled), { stored: '2026-11-02T10:05:00.000Z' });
    // A commit in flight: what was stored after 10:02 is not visible yet, and Consistent-Through says so.
    server.visibleThrough = '2026-11-02T10:02:00.000Z';
    const first = await pages(adapter());
    expect(records(first).map((r) => r.enrollmentId)).toEqual([idOf('ada@contoso.example')]);
    const cursor = first.at(-1)?.cursor;
    expect(cursor).toBe('2026-11-02T10:00:00.000Z');
    server.visibleThrough = undefined;
    // A statement stored before the cursor arrives late (an offline device, a slow transaction).
    server.store(as('alan@contoso.example', enrolled), { stored: '2026-11-02T09:30:00.000Z' });
    const second = await pages(adapter(), cursor);
    expect(records(second).map((r) => r.enrollmentId).sort()).toEqual([idOf('ada@contoso.example'), idOf('alan@contoso.example'), idOf('grace@contoso.example')].sort());
    expect(server.requests().find((r) => r.query['since'] !== undefined)?.query['since']).toBe('2026-11-02T09:00:00.000Z');
  });

  it('reads every statement that shares one stored time across page boundaries', async () => {
    const { lrs: server, adapter } = await startLrs({ maxLimit: 2 });
    const learners = Array.from({ length: 7 }, (_, i) => `tie${i}@contoso.example`);
    for (const email of learners) server.store(as(email, enrolled), { stored: '2026-11-02T10:00:00.000Z' });
    const list = await pages(adapter(), undefined, 2);
    expect(new Set(records(list).map((r) => r.enrollmentId)).size).toBe(7);
    expect(list.every((p) => p.cursor === '2026-11-02T10:00:00.000Z')).toBe(true);
  });

  it('recomputes an enrollment when a statement is voided, and withdraws it when nothing is left', async () => {
    const { lrs: server, adapter } = await startLrs();
    const ids = server.store(as('ada@contoso.example', [...moduleDone, ...courseDone]));
    const [cmi5Launched] = server.store(as('grace@contoso.example', cmi5Scenario('17-abandoned_session').slice(0, 1)));
    const first = await pages(adapter());
    expect(latest(records(first)).get(idOf('ada@contoso.example'))).toMatchObject({ status: 'completed' });
    const cursor = first.at(-1)?.cursor;
    server.void(ids[1] ?? '');
    server.void(cmi5Launched ?? '');
    const second = latest(records(await pages(adapter(), cursor)));
    expect(second.get(idOf('ada@contoso.example'))).toMatchObject({ status: 'inProgress' });
    expect(second.get(idOf('ada@contoso.example'))).not.toHaveProperty('deleted');
    const graceId = 'xapi:mbox:grace@contoso.example:http://example.org/cmi5/au-lms-id/4756b42214cb0cb4825b3c9b5c15053d6a6cf7f5';
    expect(second.get(graceId)).toMatchObject({ deleted: true });
    expect(server.requests().filter((r) => r.query['voidedStatementId'] !== undefined)).toHaveLength(2);
  });

  it('reads one enrollment back by id; an unknown or foreign id is undefined', async () => {
    const { lrs: server, adapter } = await startLrs();
    server.store(as('ada@contoso.example', [...enrolled, ...courseDone]));
    const item = await adapter().getEnrollment(idOf('ada@contoso.example'));
    expect(item?.kind === 'record' && item.record).toMatchObject({ status: 'completed', learner: { email: 'ada@contoso.example' } });
    expect(await adapter().getEnrollment(idOf('nobody@contoso.example'))).toBeUndefined();
    expect(await adapter().getEnrollment('e-00001')).toBeUndefined();
  });

  it('speaks 2.0.0 to an LRS whose /about lists it, 1.0.3 otherwise, with Basic auth', async () => {
    const { lrs: server, adapter } = await startLrs();
    server.store(as('ada@contoso.example', enrolled));
    expect(records(await pages(adapter()))).toHaveLength(1);
    expect(server.requests()[0]?.path).toBe('/xapi/about');
    const calls = server.requests().filter((r) => r.path === '/xapi/statements');
    expect(calls.map((c) => c.headers['x-experience-api-version'])).toEqual(calls.map(() => '2.0.0'));
    expect(calls.every((c) => c.headers['authorization'] === 'Basic (hidden)')).toBe(true);
    await server.stop();

    const older = new XapiStandIn({ username: LRS_KEY, password: LRS_SECRET, versions: ['1.0.3'] });
    lrs = older;
    const baseUrl = await older.start();
    older.store(as('ada@contoso.example', enrolled));
    const adapter103 = createXapiAdapter({ settings: { adapter: 'xapi', baseUrl, username: LRS_KEY, password: LRS_SECRET, extra: {} }, cwd: '.', lookbackMs: 0 });
    expect(records(await pages(adapter103))).toHaveLength(1);
    expect(older.requests().filter((r) => r.path === '/xapi/statements').every((c) => c.headers['x-experience-api-version'] === '1.0.3')).toBe(true);
  });

  it('dead-letters a relevant statement whose actor has no identifier; Groups are not learners', async () => {
    const { lrs: server, adapter } = await startLrs();
    const [anonymous] = server.store([{ ...enrolled[0], actor: { objectType: 'Agent', name: 'No identifier' } }]);
    server.store([{ ...enrolled[0], actor: { objectType: 'Group', name: 'Team', member: [{ mbox: 'mailto:a@contoso.example' }] } }]);
    const items = (await pages(adapter())).flatMap((p) => p.items);
    expect(items).toEqual([expect.objectContaining({ kind: 'invalid', key: `xapi-statement:${anonymous}`, reason: expect.stringMatching(/actor has no mbox/) })]);
  });
});

describe('xapi adapter error cases', () => {
  it('401: wrong LRS credentials fail the listing with a clear error that never shows the secret', async () => {
    const { adapter } = await startLrs();
    const err = await pages(adapter({}, 0, 'wrong-secret')).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.statusCode).toBe(401);
    expect(String((err as Error).message)).toMatch(/GET \/statements answered 401/);
    expect(String((err as Error).message)).not.toContain('wrong-secret');
  });

  it('429 and 503 with Retry-After are waited out; a malformed page fails the listing', async () => {
    const { lrs: server, adapter } = await startLrs();
    server.store(as('ada@contoso.example', enrolled));
    server.inject({ kind: 'throttle', retryAfterSeconds: 1 }, 1, '/xapi/statements');
    server.inject({ kind: 'unavailable', retryAfterSeconds: 0 }, 1, '/xapi/statements');
    const started = Date.now();
    expect(records(await pages(adapter()))).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(server.requests().filter((r) => r.status === 429 || r.status === 503)).toHaveLength(2);

    server.inject({ kind: 'malformed' }, 1, '/xapi/statements');
    const err = await pages(adapter()).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.code).toBe('malformedResponse');
  });

  it('stops after a bounded number of retries when the LRS keeps throttling', async () => {
    const { lrs: server, adapter } = await startLrs();
    server.inject({ kind: 'throttle', retryAfterSeconds: 0 }, 10, '/xapi/statements');
    const err = await pages(adapter()).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.statusCode).toBe(429);
    expect(server.requests().filter((r) => r.status === 429)).toHaveLength(4);
  });

  it('a Retry-After longer than the wait limit is not sat through', async () => {
    const { lrs: server } = await startLrs();
    const settings: ApiLmsSettings = { adapter: 'xapi', baseUrl: server.endpoint, username: LRS_KEY, password: LRS_SECRET, extra: {} };
    const adapter = createXapiAdapter({ settings, cwd: '.', lookbackMs: 0, http: { maxRetryAfterMs: 1000, minBackoffMs: 5 } });
    server.inject({ kind: 'throttle', retryAfterSeconds: 3600 }, 1, '/xapi/statements');
    const started = Date.now();
    const err = await pages(adapter).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.retryAfterMs).toBe(3_600_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never follows a `more` link to another host with the LRS credentials', async () => {
    const server = new XapiStandIn({ username: LRS_KEY, password: LRS_SECRET, maxLimit: 1, linkOrigin: 'http://127.0.0.2:9' });
    lrs = server;
    const baseUrl = await server.start();
    server.store(as('ada@contoso.example', enrolled));
    server.store(as('grace@contoso.example', enrolled));
    const adapter = createXapiAdapter({ settings: { adapter: 'xapi', baseUrl, username: LRS_KEY, password: LRS_SECRET, extra: {} }, cwd: '.', lookbackMs: 0 });
    const err = await pages(adapter, undefined, 1).catch((e: unknown) => e);
    expect(isLmsRequestError(err) && err.code).toBe('foreignLink');
    expect((err as Error).message).toMatch(/outside LMS_BASE_URL/);
  });

  it('rejects bad LMS_XAPI_* settings when created, naming them', () => {
    const settings: ApiLmsSettings = { adapter: 'xapi', baseUrl: 'https://lrs.example/xapi/', username: 'k', password: 's', extra: { LMS_XAPI_DUE_DAYS: '0' } };
    expect(() => createXapiAdapter({ settings, cwd: '.', lookbackMs: 0 })).toThrow(/LMS_XAPI_DUE_DAYS must be a whole number/);
  });
});

describe('the engine from the LRS stand-in to Viva Learning', () => {
  const people = ['megan.bowen@contoso.example', 'adele.vance@contoso.example', 'alex.wilber@contoso.example'];

  it('first sync exact, re-sync writes nothing, a change propagates, a withdrawal deletes', async () => {
    harness = await LmsHarness.xapi({ maxLimit: 5 });
    harness.addLearners(...people);
    const [megan, adele, alex] = people as [string, string, string];
    harness.lms.store(as(megan, [...enrolled, ...moduleDone]));
    harness.lms.store(as(adele, [...enrolled, ...moduleDone, ...courseDone]));
    harness.lms.store(as(alex, [...inCourse(enrolled, 7)]));
    harness.lms.store(as(megan, cmi5Scenario('13-progress_usage').slice(0, 5).map(({ id: _id, ...s }) => s)));

    const first = await harness.run({ pageSize: 5 });
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ created: 4, failed: 0 });
    const activities = harness.sync.activitiesByExternalId();
    expect([...activities.keys()].sort()).toEqual([idOf(adele), idOf(alex, 'http://www.example.org/course/view.php?id=7'), idOf(megan), 'xapi:mbox:megan.bowen@contoso.example:http://example.org/cmi5/au-lms-id/4756b42214cb0cb4825b3c9b5c15053d6a6cf7f5'].sort());
    expect(activities.get(idOf(megan))?.[0]).toMatchObject({ status: 'inProgress', '@odata.type': '#microsoft.graph.learningAssignment', learnerUserId: harness.sync.userId(megan) });
    expect(activities.get(idOf(adele))?.[0]).toMatchObject({ status: 'completed', completionPercentage: 100 });
    expect(activities.get('xapi:mbox:megan.bowen@contoso.example:http://example.org/cmi5/au-lms-id/4756b42214cb0cb4825b3c9b5c15053d6a6cf7f5')?.[0]).toMatchObject({ status: 'inProgress', completionPercentage: 75, '@odata.type': '#microsoft.graph.learningSelfInitiatedCourse' });
    expect(first.cursor.after).toBe(harness.lms.statements().at(-1)?.['stored']);

    harness.sync.standIn.resetStats();
    const again = await harness.run({ pageSize: 5 });
    expect(again.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    expect(harness.sync.standIn.stats().writes).toBe(0);

    harness.lms.store(as(megan, courseDone));
    harness.lms.store(as(alex, inCourse(left, 7)));
    const changed = await harness.run({ pageSize: 5 });
    expect(changed.counts).toMatchObject({ updated: 1, deleted: 1, created: 0, failed: 0 });
    const after = harness.sync.activitiesByExternalId();
    expect(after.get(idOf(megan))?.[0]).toMatchObject({ status: 'completed' });
    expect(after.has(idOf(alex, 'http://www.example.org/course/view.php?id=7'))).toBe(false);
  });

  it('survives throttling during a run, and `viva-sync sync --dry-run` prints the plan without writing', async () => {
    harness = await LmsHarness.xapi();
    harness.addLearners(...people);
    for (const email of people) harness.lms.store(as(email, [...enrolled, ...moduleDone]));
    harness.lms.inject({ kind: 'throttle', retryAfterSeconds: 1 }, 1, '/xapi/statements');
    const dry = await harness.cli(['sync', '--dry-run']);
    expect(dry.stderr).not.toContain(LRS_SECRET);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run');
    for (const email of people) expect(dry.stdout).toContain(`would POST create activity: ${idOf(email)}`);
    expect(dry.stdout).toContain(`would PATCH upsert content: ${COURSE}`);
    expect(harness.sync.standIn.stats().total).toBe(0);
    const real = await harness.run();
    expect(real.counts).toMatchObject({ created: 3, failed: 0 });
  });

  it('a run stopped after its first page resumes from the stored cursor and ends exact', async () => {
    harness = await LmsHarness.xapi({ maxLimit: 3 });
    const learners = Array.from({ length: 8 }, (_, i) => `learner${i}@contoso.example`);
    harness.addLearners(...learners);
    for (const email of learners) harness.lms.store(as(email, enrolled));
    const controller = new AbortController();
    const stopped = await harness.run({ pageSize: 3, abortSignal: controller.signal, onProgress: (p) => p.pages === 1 && controller.abort(new Error('killed')) }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(Error);
    const saved = (await (await harness.sync.state()).cursor.get()).value;
    expect(saved).toBe(harness.lms.statements()[2]?.['stored']);
    const resumed = await harness.run({ pageSize: 3 });
    expect(resumed.cursor.before).toBe(saved);
    const activities = harness.sync.activitiesByExternalId();
    expect([...activities.keys()].sort()).toEqual(learners.map((e) => idOf(e)).sort());
    expect([...activities.values()].every((list) => list.length === 1)).toBe(true);
  });

  it('an LRS refusing the credentials fails the run (exit 1) saying so, without the secret', async () => {
    harness = await LmsHarness.xapi();
    const result = await harness.cli(['sync'], { LMS_PASSWORD: 'wrong-password-value' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GET \/statements answered 401/);
    expect(result.stderr).not.toContain('wrong-password-value');
  });

  it('names a missing setting and exits 2', async () => {
    harness = await LmsHarness.xapi();
    const result = await harness.cli(['sync'], { LMS_PASSWORD: '', LMS_ASSIGNMENT_TYPE: 'optional' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('LMS_PASSWORD is required');
  });
});
