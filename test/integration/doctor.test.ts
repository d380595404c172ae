import { afterEach, describe, expect, it } from 'vitest';
import { doctorEndpoint } from '../../src/doctor/httpEndpoint.js';
import { runDoctor } from '../../src/doctor/runDoctor.js';
import { silentLogger } from '../../src/sync/logger.js';
import type { CheckResult, DoctorReport } from '../../src/doctor/types.js';
import { REQUIRED_GRAPH_ROLES } from '../../src/graph/tokenClaims.js';
import { CanvasStandIn } from '../../src/sandbox/lms/canvasStandIn.js';
import { createDoctorStore } from '../../src/state/doctorStore.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

/** An app-only access token as Entra issues one (unsigned here: the stand-in compares it whole). */
function appToken(roles: readonly string[]): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part({ aud: 'https://graph.microsoft.com', tid: 'contoso', appid: 'app', roles })}.signature`;
}

const ADA = 'ada@contoso.example';
let harness: SyncHarness | undefined;
let canvas: CanvasStandIn | undefined;
afterEach(async () => {
  await harness?.close();
  await canvas?.stop();
  harness = undefined;
  canvas = undefined;
});

/** A harness whose Graph stand-in accepts a JWT carrying these roles, with Ada in the LMS and in Entra. */
async function setUp(roles: readonly string[] = REQUIRED_GRAPH_ROLES): Promise<{ h: SyncHarness; env: Record<string, string> }> {
  const token = appToken(roles);
  const h = await SyncHarness.create({ token });
  harness = h;
  h.writeExport([anEnrollment({ enrollmentId: 'e1', learner: { id: 'lms-ada', upn: ADA, email: ADA } })]);
  return { h, env: { GRAPH_TOKEN: token } };
}

async function doctor(h: SyncHarness, args: readonly string[], env: Record<string, string>): Promise<{ code: number; report: DoctorReport; text: string; stderr: string }> {
  const json = await h.cli(['doctor', '--json', ...args], env);
  const text = await h.cli(['doctor', ...args], env);
  expect(text.code).toBe(json.code);
  return { code: json.code, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout, stderr: json.stderr + text.stderr };
}

function line(report: DoctorReport, id: CheckResult['id']): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no ${id} line`);
  return found;
}

describe('viva-sync doctor against the Graph stand-in, Azurite and the LMS', () => {
  it('is all green with everything in place, leaves only the inactive probe course, and saves the result', async () => {
    const { h, env } = await setUp();
    const { code, report, text, stderr } = await doctor(h, ['--learner', ADA], env);
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(code).toBe(0);
    expect(report.verdict).toBe('green');
    expect(text).toContain('✔ Probe activity created, read back and deleted for the learner');
    expect(text).toContain('All green.');
    expect(text).toContain('Left behind: the inactive probe course viva-sync-doctor');
    // Nothing stays but the probe course, inactive.
    expect(h.standIn.activities()).toEqual([]);
    expect(h.standIn.contents().map((c) => [c.externalId, c.isActive])).toEqual([['viva-sync-doctor', false]]);
    // No secret in any output.
    for (const out of [text, stderr, JSON.stringify(report)]) expect(out).not.toContain(env['GRAPH_TOKEN']);
    const saved = await (await createDoctorStore({ connection: { kind: 'connectionString', connectionString: h.env['AzureWebJobsStorage'] ?? '' }, tablePrefix: h.env['SYNC_TABLE_PREFIX'] ?? '' })).get();
    expect(saved).toMatchObject({ verdict: 'green', summary: '✔ all checks green' });
  });

  it('without --learner the learner lines are skipped and the verdict stays green', async () => {
    const { h, env } = await setUp();
    const { code, report } = await doctor(h, [], env);
    expect(code).toBe(0);
    expect(line(report, 'learner')).toMatchObject({ status: 'skip' });
    expect(line(report, 'activity')).toMatchObject({ status: 'skip' });
  });

  it('a token without a role: ✘ naming the missing role and the permissions script, exit 1', async () => {
    const { h, env } = await setUp(REQUIRED_GRAPH_ROLES.filter((r) => r !== 'LearningAssignedCourse.ReadWrite.All'));
    const { code, report, text } = await doctor(h, [], env);
    expect(code).toBe(1);
    expect(line(report, 'graphRoles')).toMatchObject({ status: 'fail', reason: expect.stringContaining('lacks LearningAssignedCourse.ReadWrite.All'), fix: expect.stringContaining('infra/grant-graph-permissions.sh') });
    expect(text).toContain('✘ The token carries the application permissions');
  });

  it('provider sync disabled: ✘ provider with `viva-sync provider enable-activity-sync`', async () => {
    const { h, env } = await setUp();
    h.standIn.addProvider({ ...h.tenant.provider, isCourseActivitySyncEnabled: false });
    const { code, report } = await doctor(h, ['--learner', ADA], env);
    expect(code).toBe(1);
    expect(line(report, 'provider')).toMatchObject({ status: 'fail', reason: expect.stringContaining("This provider isn't enabled"), fix: expect.stringContaining('viva-sync provider enable-activity-sync') });
    expect(line(report, 'activity')).toMatchObject({ status: 'skip' });
  });

  it('an unregistered VIVA_PROVIDER_ID: ✘ provider with `viva-sync provider register`', async () => {
    const { h, env } = await setUp();
    const { report } = await doctor(h, [], { ...env, VIVA_PROVIDER_ID: '00000000-0000-4000-a000-000000000000' });
    expect(line(report, 'provider')).toMatchObject({ status: 'fail', fix: expect.stringContaining('viva-sync provider register') });
  });

  it('an unlicensed learner: the probe activity fails with the licence fix (the same words a dead letter carries)', async () => {
    const { h, env } = await setUp();
    h.standIn.addUser({ id: h.userId(ADA), userPrincipalName: ADA, mail: ADA, licensed: false });
    const { code, report } = await doctor(h, ['--learner', 'lms-ada'], env);
    expect(code).toBe(1);
    expect(line(report, 'learner')).toMatchObject({ status: 'pass' });
    const activity = line(report, 'activity');
    expect(activity).toMatchObject({ status: 'fail', reason: expect.stringContaining('403'), fix: expect.stringContaining('Viva Learning (or Viva suite) licence') });
    expect(h.standIn.activities()).toEqual([]);

    // The sync's dead letter for the same learner names the same fix.
    expect((await h.run({}, env)).counts.failed).toBe(1);
    const letter = await (await h.state()).deadLetters.get('e1');
    expect(letter?.reason).toContain(activity.fix);
  });

  it('an unknown learner: ✘ learner; an LMS e-mail that is the mail, not the UPN: LEARNER_MATCH=mail', async () => {
    const { h, env } = await setUp();
    const unknown = await doctor(h, ['--learner', 'nobody@contoso.example'], env);
    expect(unknown.code).toBe(1);
    expect(line(unknown.report, 'learner')).toMatchObject({ status: 'fail', reason: 'no Entra user has userPrincipalName "nobody@contoso.example"', fix: expect.stringContaining('LEARNER_MATCH') });

    h.standIn.addUser({ id: h.userId('grace@contoso.onmicrosoft.com'), userPrincipalName: 'grace@contoso.onmicrosoft.com', mail: 'grace@contoso.example' });
    const mismatch = await doctor(h, ['--learner', 'grace@contoso.example'], env);
    expect(line(mismatch.report, 'learner')).toMatchObject({ status: 'fail', fix: expect.stringContaining('set LEARNER_MATCH=mail') });
    const fixed = await doctor(h, ['--learner', 'grace@contoso.example'], { ...env, LEARNER_MATCH: 'mail' });
    expect(line(fixed.report, 'learner')).toMatchObject({ status: 'pass' });
  });

  it('storage refusing the credentials: ✘ storage naming the key, and the Graph checks still run', async () => {
    const { h, env } = await setUp();
    const wrongKey = (h.env['AzureWebJobsStorage'] ?? '').replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.alloc(64, 7).toString('base64')}`);
    const { code, report, text } = await doctor(h, [], { ...env, AzureWebJobsStorage: wrongKey });
    expect(code).toBe(1);
    expect(line(report, 'storage')).toMatchObject({ status: 'fail', reason: expect.stringContaining('403'), fix: expect.stringContaining('account key') });
    expect(line(report, 'provider')).toMatchObject({ status: 'pass' });
    expect(text).not.toContain(Buffer.alloc(64, 7).toString('base64'));
  });

  it('an LMS refusing the credentials: ✘ lms naming LMS_TOKEN', async () => {
    const { h, env } = await setUp();
    canvas = new CanvasStandIn();
    const base = await canvas.start();
    const { code, report } = await doctor(h, [], { ...env, LMS_ADAPTER: 'canvas', LMS_BASE_URL: base, LMS_TOKEN: 'not-the-token', LMS_FILE_PATH: '' });
    expect(code).toBe(1);
    expect(line(report, 'lms')).toMatchObject({ status: 'fail', reason: expect.stringContaining('401'), fix: expect.stringContaining('LMS_TOKEN') });
  });

  it('invalid settings: ✘ settings naming the setting, the rest skipped, exit 1', async () => {
    const { h, env } = await setUp();
    const { code, report } = await doctor(h, [], { ...env, VIVA_PROVIDER_ID: '' });
    expect(code).toBe(1);
    expect(line(report, 'settings')).toMatchObject({ status: 'fail', reason: expect.stringContaining('VIVA_PROVIDER_ID'), fix: expect.stringContaining('VIVA_PROVIDER_ID') });
    expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
  });

  it('a clock minutes off Graph\'s Date header: a warning at 2 minutes, ✘ at 10', async () => {
    const { h, env } = await setUp();
    const options = { env: { ...h.env, ...env }, cwd: h.dir };
    const warned = await runDoctor({ ...options, now: () => Date.now() + 120_000 });
    expect(line(warned, 'clock')).toMatchObject({ status: 'warn', reason: expect.stringContaining('ahead of Graph') });
    expect(warned.verdict).toBe('warnings');
    const failed = await runDoctor({ ...options, now: () => Date.now() - 600_000 });
    expect(line(failed, 'clock')).toMatchObject({ status: 'fail', reason: expect.stringContaining('behind Graph') });
  });

  it('POST /api/doctor runs it inside the app (its own identity) and keeps the result; GET returns the last one', async () => {
    const { h, env } = await setUp();
    const options = { logger: silentLogger, env: { ...h.env, ...env }, cwd: h.dir };
    const query = (learner?: string) => ({ get: (name: string) => (name === 'learner' ? (learner ?? null) : null) });
    expect((await doctorEndpoint({ method: 'GET', query: query() }, options)).status).toBe(404);
    const posted = await doctorEndpoint({ method: 'POST', query: query(ADA) }, options);
    expect(posted.status).toBe(200);
    expect(posted.jsonBody).toMatchObject({ verdict: 'green' });
    expect(line(posted.jsonBody as DoctorReport, 'activity')).toMatchObject({ status: 'pass' });
    const last = await doctorEndpoint({ method: 'GET', query: query() }, options);
    expect(last).toMatchObject({ status: 200, jsonBody: { verdict: 'green', checkedAt: (posted.jsonBody as DoctorReport).checkedAt } });
    expect((await doctorEndpoint({ method: 'DELETE', query: query() }, options)).status).toBe(405);
    expect(JSON.stringify(posted.jsonBody)).not.toContain(env['GRAPH_TOKEN']);
  });
});
