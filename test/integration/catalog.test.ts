import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { gatewayFor, schedulerFor } from '../../src/graph/fromConfig.js';
import { pagedCatalog } from '../../src/lms/catalogListing.js';
import type { CatalogItem, LmsAdapter } from '../../src/lms/types.js';
import { TimeBudget } from '../../src/sync/budget.js';
import { runCatalogPass } from '../../src/sync/catalog/catalogPass.js';
import { silentLogger } from '../../src/sync/logger.js';
import { anEnrollment, toCsv } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface Row {
  id: string;
  title: string;
  url: string;
  active?: boolean;
  updatedAt?: string;
  [field: string]: unknown;
}

const course = (n: number, extra: Partial<Row> = {}): Row => ({ id: `course-${n}`, title: `Course ${n}`, url: `https://lms.example/c/${n}`, updatedAt: '2026-11-01T00:00:00.000Z', ...extra });

function writeCatalog(h: SyncHarness, rows: readonly Row[], format: 'jsonl' | 'csv' = 'jsonl'): string {
  const path = join(h.dir, `catalog.${format}`);
  writeFileSync(path, format === 'csv' ? toCsv(rows) : rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

function content(h: SyncHarness, id: string) {
  return h.standIn.contents().find((c) => c.externalId === id);
}

const learner = { id: 'u1', upn: 'ada@contoso.example', email: 'ada@contoso.example' };

describe('catalog sync (SYNC_CATALOG=all, LMS_CATALOG_PATH)', () => {
  it('creates every active course, enrolled or not, with all its metadata; an unchanged re-sync sends nothing', async () => {
    harness = await SyncHarness.create();
    const catalogPath = writeCatalog(harness, [
      course(1, { contributors: ['Grace Hopper', 'Alan Turing'], additionalTags: ['security', 'compliance'], skillTags: ['Phishing awareness'], format: 'Video', level: 'beginner', language: 'de-DE', durationMinutes: 45, description: 'All about phishing', thumbnailUrl: 'https://lms.example/t/1.png' }),
      course(2),
      course(3),
      course(4, { active: false }),
    ]);
    harness.writeExport([
      anEnrollment({ enrollmentId: 'e1', learner, course: { id: 'course-1', title: 'Course 1 (as the enrollment says)', url: 'https://lms.example/c/1' }, updatedAt: '2026-11-02T00:00:00.000Z' }),
      anEnrollment({ enrollmentId: 'e2', learner, course: { id: 'course-x', title: 'Not in the catalog', url: 'https://lms.example/c/x' }, updatedAt: '2026-11-02T00:00:01.000Z' }),
    ]);
    const env = { LMS_CATALOG_PATH: catalogPath };
    const first = await harness.run({}, env);
    expect(first.status).toBe('succeeded');
    expect(first.catalog).toMatchObject({ read: 4, created: 3, updated: 0, retired: 1, unchanged: 0, failed: 0, complete: true });
    expect(first.counts).toMatchObject({ created: 2, failed: 0 });
    // The retired course is written inactive; the enrollment-only course gets its content from the enrollment.
    expect(harness.standIn.contents().map((c) => c.externalId).sort()).toEqual(['course-1', 'course-2', 'course-3', 'course-4', 'course-x']);
    expect(content(harness, 'course-4')?.isActive).toBe(false);
    const one = content(harness, 'course-1');
    expect(one).toMatchObject({ title: 'Course 1', contributors: ['Grace Hopper', 'Alan Turing'], additionalTags: ['security', 'compliance'], skillTags: ['Phishing awareness'], format: 'Video', level: 'beginner', languageTag: 'de-DE', duration: 'PT45M', isActive: true });
    expect(content(harness, 'course-x')).toMatchObject({ title: 'Not in the catalog', isActive: true });
    const activity = harness.activitiesByExternalId().get('e1')?.[0];
    expect(activity?.learningContentId).toBe(one?.id);

    harness.standIn.resetStats();
    const again = await harness.run();
    expect(again.catalog).toMatchObject({ created: 0, updated: 0, retired: 0, unchanged: 4 });
    expect(harness.standIn.stats().total).toBe(0);
    // The enrollment's thinner course record did not overwrite the catalog's metadata.
    expect(content(harness, 'course-1')?.contributors).toEqual(['Grace Hopper', 'Alan Turing']);
  });

  it('retires a course that turns inactive or that the complete catalog no longer lists, re-activates it when it returns, and never deletes content', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 'e1', learner, course: { id: 'course-2', title: 'Course 2', url: 'https://lms.example/c/2' }, updatedAt: '2026-11-02T00:00:00.000Z' })]);
    const path = writeCatalog(harness, [course(1), course(2), course(3)], 'csv');
    await harness.run({}, { LMS_CATALOG_PATH: path });
    expect(harness.standIn.contents().every((c) => c.isActive)).toBe(true);

    writeCatalog(harness, [course(1), course(2, { active: false, updatedAt: '2026-11-05T00:00:00.000Z' })], 'csv');
    harness.standIn.resetStats();
    const retired = await harness.run();
    expect(retired.catalog).toMatchObject({ retired: 2, created: 0, updated: 0, unchanged: 1, complete: true });
    expect(retired.catalog?.cursor.after).toBe('2026-11-05T00:00:00.000Z');
    expect(content(harness, 'course-2')?.isActive).toBe(false);
    expect(content(harness, 'course-3')).toMatchObject({ isActive: false, title: 'Course 3', contentWebUrl: 'https://lms.example/c/3' });
    expect(harness.standIn.requests().filter((r) => r.method === 'DELETE')).toHaveLength(0);
    expect(harness.standIn.requests().filter((r) => r.method === 'PATCH')).toHaveLength(2);
    // Activities on a retired course stay (completion history).
    expect(harness.activitiesByExternalId().get('e1')).toHaveLength(1);

    harness.standIn.resetStats();
    const unchanged = await harness.run();
    expect(unchanged.catalog).toMatchObject({ retired: 0, updated: 0, created: 0 });
    expect(harness.standIn.stats().total).toBe(0);

    writeCatalog(harness, [course(1), course(2, { active: false, updatedAt: '2026-11-05T00:00:00.000Z' }), course(3, { updatedAt: '2026-11-06T00:00:00.000Z' })], 'csv');
    const back = await harness.run();
    expect(back.catalog).toMatchObject({ updated: 1, retired: 0 });
    expect(content(harness, 'course-3')?.isActive).toBe(true);
    expect(content(harness, 'course-2')?.isActive).toBe(false);
  });

  it('a catalog read that does not reach its end retires nothing by absence', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([]);
    const path = writeCatalog(harness, [course(1), course(2), course(3)]);
    await harness.run({}, { LMS_CATALOG_PATH: path });
    const config = loadConfig({ ...harness.env, LMS_CATALOG_PATH: path }, { cwd: harness.dir });
    const state = await harness.state();
    const failing: LmsAdapter = {
      name: 'failing',
      listChanges: () => {
        throw new Error('not used');
      },
      getEnrollment: async () => undefined,
      // A complete listing whose second page fails: only course-1 was read.
      listCatalog: () =>
        pagedCatalog(true, async function* () {
          const items: CatalogItem[] = [{ kind: 'course', course: { id: 'course-1', title: 'Course 1', url: 'https://lms.example/c/1', active: true }, position: 'page 1' }];
          yield { items, cursor: undefined, continuationToken: 'next' };
          throw new Error('the LMS answered 500 for page 2');
        }),
    };
    const { createTableState } = await import('../../src/state/tableState.js');
    const tables = await createTableState({ connection: { kind: 'connectionString', connectionString: harness.env.AzureWebJobsStorage ?? '' }, tablePrefix: harness.env.SYNC_TABLE_PREFIX ?? '' });
    harness.standIn.resetStats();
    await expect(
      runCatalogPass({
        adapter: failing,
        gateway: gatewayFor(config, schedulerFor(config.graph)),
        contents: state.contents,
        cursor: tables.catalogCursor,
        deadLetters: state.deadLetters,
        logger: silentLogger,
        budget: new TimeBudget(undefined),
        runId: 'test',
        abortSignal: new AbortController().signal,
      }),
    ).rejects.toThrow(/page 2/);
    expect(harness.standIn.stats().writes).toBe(0);
    expect(harness.standIn.contents().every((c) => c.isActive)).toBe(true);
  });

  it('an enrollment in a course the catalog lists as retired keeps the content inactive (and its history)', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 'e1', learner, course: { id: 'course-9', title: 'Course 9', url: 'https://lms.example/c/9' }, status: 'completed', progressPercent: 100, completedAt: '2026-10-01T00:00:00.000Z', updatedAt: '2026-11-02T00:00:00.000Z' })]);
    const path = writeCatalog(harness, [course(9, { active: false })]);
    const summary = await harness.run({}, { LMS_CATALOG_PATH: path });
    expect(summary.counts.created).toBe(1);
    expect(content(harness, 'course-9')?.isActive).toBe(false);
    expect(harness.activitiesByExternalId().get('e1')?.[0]?.learningContentId).toBe(content(harness, 'course-9')?.id);
  });

  it('SYNC_CATALOG=enrolled keeps the enrollment-only behaviour', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([anEnrollment({ enrollmentId: 'e1', learner, course: { id: 'course-1', title: 'Course 1', url: 'https://lms.example/c/1' }, updatedAt: '2026-11-02T00:00:00.000Z' })]);
    const path = writeCatalog(harness, [course(1), course(2)]);
    const summary = await harness.run({}, { LMS_CATALOG_PATH: path, SYNC_CATALOG: 'enrolled' });
    expect(summary.catalog).toBeUndefined();
    expect(harness.standIn.contents().map((c) => c.externalId)).toEqual(['course-1']);
  });

  it('dead-letters a catalog row that breaks the format and goes on', async () => {
    harness = await SyncHarness.create();
    harness.writeExport([]);
    const path = writeCatalog(harness, [course(1), { id: 'course-bad', title: 'Bad', url: 'not a url' }, course(3, { level: 'expert' })]);
    const summary = await harness.run({}, { LMS_CATALOG_PATH: path });
    expect(summary.catalog).toMatchObject({ created: 1, failed: 2 });
    const state = await harness.state();
    const letters = [];
    for await (const letter of state.deadLetters.list()) letters.push(letter);
    expect(letters.map((l) => l.reason).sort()).toEqual(['catalog: line 2: url "not a url" is not an http(s) URL', 'catalog: line 3: level "expert" is not one of beginner, intermediate, advanced']);
  });
});
