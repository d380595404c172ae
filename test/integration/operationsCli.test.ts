import { afterEach, describe, expect, it } from 'vitest';
import { parseAge } from '../../src/cli/deadLettersCommand.js';
import { GRAPH_POWERSHELL_CLIENT_ID } from '../../src/cli/providerCommand.js';
import { anEnrollment } from '../support/builders.js';
import { lastJsonLine, SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Output = Awaited<ReturnType<SyncHarness['cli']>>;
const cli = (h: SyncHarness, args: readonly string[], env: Record<string, string> = {}): Promise<Output> => h.cli(args, env);
const lastJson = (output: Output): Record<string, unknown> => lastJsonLine(output.stdout);

const former = { upn: 'former.x@contoso.example', email: 'former.x@contoso.example' };
const logos = 'https://contoso.example/logo.png';

describe('viva-sync provider (on the Graph stand-in)', () => {
  it('registers a provider with activity sync on, prints the id for VIVA_PROVIDER_ID, shows it and enables sync on one created without', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    const registered = await cli(h, ['provider', 'register', '--name', 'Contoso Academy', '--logos', logos, '--login-url', 'https://academy.contoso.example/login'], { VIVA_PROVIDER_ID: '' });
    expect(registered.code).toBe(0);
    const id = /id: (\S+)/.exec(registered.stdout)?.[1] ?? '';
    expect(registered.stdout).toContain(`Set VIVA_PROVIDER_ID=${id}`);
    expect(registered.stdout).toContain('course-activity sync: enabled');

    const shown = await cli(h, ['provider', 'show', '--id', id, '--json']);
    expect(shown.code).toBe(0);
    expect(lastJson(shown)).toMatchObject({ id, displayName: 'Contoso Academy', isCourseActivitySyncEnabled: true, longLogoWebUrlForDarkTheme: logos, loginWebUrl: 'https://academy.contoso.example/login' });

    const without = await cli(h, ['provider', 'register', '--name', 'Later', '--long-logo-light', logos, '--long-logo-dark', logos, '--square-logo-light', logos, '--square-logo-dark', logos, '--no-activity-sync', '--json']);
    expect(without.code).toBe(0);
    const later = lastJson(without);
    expect(later).toMatchObject({ displayName: 'Later', isCourseActivitySyncEnabled: false });
    // show reads VIVA_PROVIDER_ID when --id is not given.
    expect((await cli(h, ['provider', 'show'], { VIVA_PROVIDER_ID: String(later['id']) })).stdout).toContain('course-activity sync: disabled');
    const enabled = await cli(h, ['provider', 'enable-activity-sync', '--json'], { VIVA_PROVIDER_ID: String(later['id']) });
    expect(enabled.code).toBe(0);
    expect(lastJson(enabled)).toMatchObject({ id: later['id'], displayName: 'Later', isCourseActivitySyncEnabled: true });
    expect(h.standIn.stats().total).toBeGreaterThan(0);
  });

  it('refuses clearly when the administrator lacks the licence or the role, and checks arguments before any sign-in', async () => {
    harness = await SyncHarness.create({ refuseProviderRegistration: true });
    const h = harness;
    const refused = await cli(h, ['provider', 'register', '--name', 'Contoso Academy', '--logos', logos]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain("You don't have an adequate service plan for this request.");
    expect(refused.stderr).toContain('Knowledge Administrator');
    expect(refused.stderr).toContain('licence');

    expect((await cli(h, ['provider', 'register', '--logos', logos])).code).toBe(2);
    const badLogo = await cli(h, ['provider', 'register', '--name', 'X', '--logos', 'http://contoso.example/logo.png']);
    expect(badLogo.code).toBe(2);
    expect(badLogo.stderr).toContain('--logos takes a public https URL');
    expect((await cli(h, ['provider', 'register', '--name', 'X', '--long-logo-light', logos])).stderr).toContain('needs --long-logo-dark');
    expect((await cli(h, ['provider', 'show'], { VIVA_PROVIDER_ID: '' })).code).toBe(2);
    expect((await cli(h, ['provider', 'show', '--id', 'no-such-provider'])).code).toBe(1);
    // A static token is for loopback simulators only, as for the sync.
    const remote = await cli(h, ['provider', 'show'], { GRAPH_BASE_URL: 'https://graph.microsoft.com' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('GRAPH_AUTH static-token is refused');
    expect(GRAPH_POWERSHELL_CLIENT_ID).toBe('14d82eec-204b-4c2f-b7e8-296a70dab67e');
  });
});

describe('viva-sync deadletters', () => {
  it('lists, retries (write failures only) and discards, by key or all, filtered by age', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([
      anEnrollment({ enrollmentId: 'ok' }),
      anEnrollment({ enrollmentId: 'w1', learner: { upn: 'nolicence@contoso.example', email: 'nolicence@contoso.example' } }),
      anEnrollment({ enrollmentId: 'w2', learner: former }),
      { ...anEnrollment({ enrollmentId: 'bad' }), status: 'halfway' },
    ]);
    h.standIn.addUser({ id: h.userId('nolicence@contoso.example'), userPrincipalName: 'nolicence@contoso.example', mail: 'nolicence@contoso.example', licensed: false });
    expect((await cli(h, ['sync'])).code).toBe(3);

    const listed = await cli(h, ['deadletters', 'list', '--json']);
    expect(listed.code).toBe(0);
    const letters = lastJson(listed)['deadLetters'] as { key: string; kind: string; attempts: number }[];
    expect(letters.map((l) => `${l.key}:${l.kind}`).sort()).toEqual(['bad:invalid', 'w1:write', 'w2:write']);
    const text = (await cli(h, ['deadletters', 'list'])).stdout;
    expect(text).toContain('3 dead letters');
    expect(text).toContain('invalid: waits for the record to change');
    expect(lastJson(await cli(h, ['deadletters', 'list', '--older-than', '1d', '--json']))).toMatchObject({ count: 0 });

    // An invalid record is not retried by runs: the command says why.
    const invalid = await cli(h, ['deadletters', 'retry', '--key', 'bad']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('retried when the record changes in the LMS');
    expect((await cli(h, ['deadletters', 'retry'])).code).toBe(2);
    expect((await cli(h, ['deadletters', 'retry', '--key', 'nope'])).code).toBe(1);

    // The learner now has a licence; a retry makes the next CLI run (15-minute back-off by default) send it at once.
    h.standIn.addUser({ id: h.userId('nolicence@contoso.example'), userPrincipalName: 'nolicence@contoso.example', mail: 'nolicence@contoso.example', licensed: true });
    expect(lastJson(await cli(h, ['sync', '--json']))).toMatchObject({ counts: { created: 0 } });
    const retried = await cli(h, ['deadletters', 'retry', '--all', '--json']);
    expect(lastJson(retried)).toMatchObject({ action: 'retry', keys: expect.arrayContaining(['w1', 'w2']), skippedInvalid: 1 });
    const state = await h.state();
    expect(await state.deadLetters.get('w1')).toMatchObject({ retryable: true, attempts: 0 });
    const next = await cli(h, ['sync', '--json']);
    expect(lastJson(next)).toMatchObject({ counts: { created: 1, failed: 1 } });
    expect(h.activitiesByExternalId().get('w1')).toHaveLength(1);

    // Discard: by key, then everything older than a minute (nothing), then all.
    expect(lastJson(await cli(h, ['deadletters', 'discard', '--key', 'w2', '--json']))).toEqual({ action: 'discard', keys: ['w2'] });
    expect(lastJson(await cli(h, ['deadletters', 'discard', '--all', '--older-than', '30m', '--json']))).toEqual({ action: 'discard', keys: [] });
    expect((await cli(h, ['deadletters', 'discard', '--all'])).stdout).toContain('Discarded 1 dead letter.');
    expect(lastJson(await cli(h, ['deadletters', 'list', '--json']))).toMatchObject({ count: 0 });
    expect((await cli(h, ['deadletters', 'list', '--older-than', 'soon'])).code).toBe(2);
  });

  it('parses --older-than ages', () => {
    expect(parseAge('30m')).toBe(30 * 60_000);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('7d')).toBe(7 * 86_400_000);
    for (const bad of ['0d', '7', 'd', '1w', '-1h']) expect(() => parseAge(bad)).toThrow(/30m, 12h or 7d/);
  });
});

describe('viva-sync runs and cursor', () => {
  it('lists recent runs with counts and outcomes, and shows and sets the cursor (refused while a run holds the lease)', async () => {
    harness = await SyncHarness.create();
    const h = harness;
    h.writeExport([anEnrollment({ enrollmentId: 'r1' }), anEnrollment({ enrollmentId: 'r2', updatedAt: '2026-11-03T10:00:00.000Z' })]);
    expect((await cli(h, ['runs'])).stdout).toBe('No runs yet.\n');
    await cli(h, ['sync']);
    await cli(h, ['sync']);
    const runs = lastJson(await cli(h, ['runs', '--limit', '1', '--json']))['runs'] as { status: string; counts: Record<string, number> }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', counts: { read: 1, unchanged: 1, created: 0 } });
    const text = (await cli(h, ['runs'])).stdout.trim().split('\n');
    expect(text).toHaveLength(2);
    expect(text[1]).toMatch(/\(cli\) succeeded in [\d.]+ s: read 2, created 2, updated 0, deleted 0, unchanged 0, failed 0$/);
    expect((await cli(h, ['runs', '--limit', '0'])).code).toBe(2);

    expect(lastJson(await cli(h, ['cursor', 'show', '--json']))).toMatchObject({ value: '2026-11-03T10:00:00.000Z', ledgerComplete: true });
    const unconfirmed = await cli(h, ['cursor', 'set', '2026-11-02T00:00:00.000Z']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('Add --yes');
    expect((await cli(h, ['cursor', 'set', '2026-13-45T00:00:00Z', '--yes'])).code).toBe(2);

    const state = await h.state();
    const lease = await state.lease.tryAcquire('some-run', 60_000);
    const refused = await cli(h, ['cursor', 'set', '2026-11-02T00:00:00.000Z', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds the run lease');
    await lease?.release();

    const moved = await cli(h, ['cursor', 'set', '2026-11-02T00:00:00.000Z', '--yes', '--json']);
    expect(moved.code).toBe(0);
    expect(lastJson(moved)).toEqual({ before: '2026-11-03T10:00:00.000Z', after: '2026-11-02T00:00:00.000Z', ledgerComplete: true });
    expect((await cli(h, ['cursor', 'show'])).stdout).toContain('Cursor: 2026-11-02T00:00:00.000Z');
    // The next run reads from there: r2 again (unchanged), and the cursor moves on.
    const next = lastJson(await cli(h, ['sync', '--json']));
    expect(next).toMatchObject({ cursor: { before: '2026-11-02T00:00:00.000Z', after: '2026-11-03T10:00:00.000Z' } });
    expect(await state.lease.current()).toBeUndefined();
  });
});
