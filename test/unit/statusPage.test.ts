import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeadLetterGrouper, MAX_GROUPS, reasonTemplate } from '../../src/report/deadLetterGroups.js';
import { preferredForm } from '../../src/report/negotiate.js';
import { renderStatusPage, STATUS_PAGE_CSP } from '../../src/report/renderStatusPage.js';
import type { SyncStatusReport } from '../../src/sync/status.js';

describe('reasonTemplate', () => {
  it.each([
    ['no Entra user has userPrincipalName "ada@contoso.example"', 'no Entra user has userPrincipalName …'],
    ['no Entra user has mail bob@contoso.example', 'no Entra user has mail …'],
    ['progressPercent 140 is outside 0..100', 'progressPercent … is outside …'],
    ['dueAt must be an ISO 8601 date-time', 'dueAt must be an ISO 8601 date-time'],
    ['Graph refused 7a1c2f3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b at 2026-12-01T10:00:00Z', 'Graph refused … at …'],
    ['first line\nsecond line with details', 'first line'],
  ])('%j groups as %j', (reason, template) => {
    expect(reasonTemplate(reason)).toBe(template);
  });
});

describe('DeadLetterGrouper', () => {
  const letter = (i: number, reason: string) => ({ key: `k${i}`, kind: 'write' as const, reason, firstFailedAt: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(), retryable: i % 2 === 0 });

  it('keeps a bounded number of groups and counts the letters of further reasons', () => {
    const grouper = new DeadLetterGrouper();
    for (let i = 0; i < MAX_GROUPS + 5; i++) grouper.add(letter(i, `reason ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`));
    const result = grouper.result();
    expect(result.scanned).toBe(MAX_GROUPS + 5);
    expect(result.groups).toHaveLength(MAX_GROUPS);
    expect(result.otherGroups).toEqual({ groups: 5, count: 5 });
  });

  it('orders groups by size and keeps the oldest failure and three samples', () => {
    const grouper = new DeadLetterGrouper();
    for (let i = 0; i < 6; i++) grouper.add(letter(10 - i, `learner "u${i}" unknown`));
    grouper.add(letter(1, 'other'));
    const [first, second] = grouper.result().groups;
    expect(first).toMatchObject({ reason: 'learner … unknown', count: 6, retryable: 3, oldestFailedAt: '2026-12-01T00:05:00.000Z' });
    expect(first?.samples.map((s) => s.key)).toEqual(['k10', 'k9', 'k8']);
    expect(second).toMatchObject({ reason: 'other', count: 1 });
  });
});

describe('preferredForm', () => {
  it.each([
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'html'],
    ['application/json', 'json'],
    ['*/*', 'json'],
    ['', 'json'],
    [undefined, 'json'],
    ['application/json, text/html;q=0.5', 'json'],
    ['text/html;q=0.9, application/json;q=0.1', 'html'],
  ])('Accept %j → %s', (accept, form) => {
    expect(preferredForm(accept)).toBe(form);
  });
});

function report(overrides: Partial<SyncStatusReport> = {}): SyncStatusReport {
  return {
    status: 'degraded',
    checkedAt: '2026-12-01T12:00:00.000Z',
    problems: ['the last sync pass is older than 60 minutes'],
    config: { ok: true },
    storage: { ok: true },
    lastRun: null,
    lastSuccess: null,
    runs: [],
    deadLetters: null,
    pending: { count: 0 },
    cursor: { value: null, savedAt: null, ageSeconds: null, ledgerComplete: false },
    runLease: { held: false, owner: null, expiresAt: null },
    webhook: { configured: false },
    quarantine: null,
    throttling: null,
    graph: null,
    queue: { mode: 'inline', depth: null, poisonDepth: null, outstandingPages: null },
    catalog: null,
    capacity: null,
    doctor: null,
    ...overrides,
  };
}

describe('renderStatusPage', () => {
  it('escapes what comes from the state: a hostile reason or run id stays text', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'';
    const page = renderStatusPage(
      report({
        problems: [hostile],
        runs: [{ runId: hostile, trigger: hostile, status: 'failed', startedAt: '2026-12-01T11:00:00.000Z', finishedAt: '2026-12-01T11:01:00.000Z', counts: { read: 1, created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 1 }, message: hostile }],
        quarantine: { active: true, trigger: 'deletes', reason: hostile, since: '2026-12-01T11:00:00.000Z', deletesApproved: false },
      }),
    );
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;');
    expect(page).toContain('viva-sync quarantine clear --allow-deletes');
  });

  it('allows exactly its own stylesheet by hash', () => {
    const page = renderStatusPage(report());
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(css).digest('base64');
    expect(STATUS_PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(page).toContain(`content="${STATUS_PAGE_CSP.replace(/'/g, '&#39;')}"`);
  });

  it('shows only the verdict and why when the state could not be read', () => {
    const page = renderStatusPage(report({ status: 'failing', problems: ['the state tables could not be read (see the function log)'], storage: { ok: false }, runs: null, cursor: null }));
    expect(page).toContain('the state tables could not be read');
    expect(page).not.toContain('<svg');
    expect(page).not.toContain('Cursor and lease');
  });
});
