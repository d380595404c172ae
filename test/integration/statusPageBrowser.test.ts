/**
 * The status page as a person sees it: rendered from a state on Azurite, opened from a file in
 * headless Chromium, asserted on what is visible, and saved as a PNG in test-output/.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStatusReport } from '../../src/report/writeReport.js';
import { silentLogger } from '../../src/sync/logger.js';
import { chromiumAvailable, launchChromium, type LaunchedChromium } from '../support/chromium.js';
import { createTestState } from '../support/state.js';
import { fixtureConfig, fixtureRuns, FIXTURE_NOW, FIXTURE_RUNS, seedStatusFixture } from '../support/statusFixture.js';

const OUTPUT = resolve(import.meta.dirname, '../../test-output');

describe.skipIf(!chromiumAvailable())('status page in headless Chromium', () => {
  let chromium: LaunchedChromium;
  let pagePath: string;

  beforeAll(async () => {
    const state = await createTestState('page');
    await seedStatusFixture(state);
    mkdirSync(OUTPUT, { recursive: true });
    pagePath = join(OUTPUT, 'status-page.html');
    // The path of `viva-sync report`: the report over the state tables, rendered to a file.
    await writeStatusReport(fixtureConfig(state), { outPath: pagePath, logger: silentLogger, title: 'contoso-test', now: FIXTURE_NOW });
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('shows one chart mark per run, the grouped dead letters and the quarantine, with no error and no request', async () => {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
    page.on('request', (request) => requests.push(request.url()));
    const url = pathToFileURL(pagePath).href;
    await page.goto(url, { waitUntil: 'load' });

    // Everything the page shows comes with it: the one request is the document itself.
    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);

    const chart = await page.$('svg.chart');
    expect(await chart?.isVisible()).toBe(true);
    const marks = await page.$$eval('svg.chart g.run', (gs) => gs.map((g) => ({ id: g.getAttribute('data-run-id'), bars: g.querySelectorAll('rect:not(.hit)').length, width: g.getBoundingClientRect().width })));
    expect(marks).toHaveLength(FIXTURE_RUNS);
    expect(marks.map((m) => m.id)).toEqual(fixtureRuns().map((r) => r.runId));
    expect(marks.every((m) => m.bars > 0 && m.width > 0)).toBe(true);
    expect(await page.$$eval('svg.chart g.run-failed path.m-failed', (ps) => ps.length)).toBe(2);
    expect(await page.$$eval('svg.chart g.run-partial path.m-partial', (ps) => ps.length)).toBe(2);

    const groups = await page.$$eval('#dead-letters tr.dl-group', (rows) =>
      rows.map((row) => ({ reason: row.querySelector('.reason')?.textContent, count: row.querySelector('.count')?.textContent, samples: row.querySelectorAll('.samples li').length })),
    );
    expect(groups).toEqual([
      { reason: 'no Entra user has userPrincipalName …', count: '5', samples: 3 },
      { reason: 'dueAt must be an ISO 8601 date-time', count: '3', samples: 3 },
      { reason: 'Graph refused the activity: Invalid value for assignmentType', count: '2', samples: 2 },
    ]);
    expect(await page.$eval('#dead-letters', (el) => el.textContent)).toContain('viva-sync deadletters retry --all');
    const sample = await page.$eval('#dead-letters tr.dl-group .samples li', (li) => li.textContent);
    expect(sample).toMatch(/^enrollment e-unknown-\d, learner u100\d, course c-10\d$/);

    const quarantine = await page.$('#quarantine');
    expect(await quarantine?.isVisible()).toBe(true);
    expect(await page.$eval('#quarantine', (el) => el.textContent)).toContain('viva-sync quarantine clear');
    expect(await page.$eval('#health .verdict', (el) => el.textContent)).toBe('failing');
    expect(await page.$eval('#doctor', (el) => el.textContent)).toContain('1 of 5 sample learners has no Entra user');

    await page.screenshot({ path: join(OUTPUT, 'status-page.png'), fullPage: true });
    await page.close();
  });
});
