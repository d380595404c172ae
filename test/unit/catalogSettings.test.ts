import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createFileAdapter } from '../../src/lms/file.js';
import { parseCatalogCourse } from '../../src/mapping/catalogCourse.js';
import { toCatalogContentBody } from '../../src/mapping/toCatalogContent.js';

const dir = mkdtempSync(join(tmpdir(), 'catalog-settings-'));
const minimal = { VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'file', LMS_FILE_PATH: 'x.csv', AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

function problemsOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env, { cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('catalog settings', () => {
  it('defaults to SYNC_CATALOG=all and LMS_EXPORT_MODE=changes', () => {
    const config = loadConfig(minimal, { cwd: dir });
    expect(config.catalog).toBe('all');
    expect(config.lms).toMatchObject({ adapter: 'file', exportMode: 'changes' });
    expect(config.lms).not.toHaveProperty('catalogPath');
  });

  it('reads LMS_CATALOG_PATH, LMS_EXPORT_MODE and SYNC_CATALOG', () => {
    const config = loadConfig({ ...minimal, LMS_CATALOG_PATH: 'catalog.jsonl', LMS_EXPORT_MODE: 'snapshot', SYNC_CATALOG: 'enrolled' }, { cwd: dir });
    expect(config.catalog).toBe('enrolled');
    expect(config.lms).toMatchObject({ catalogPath: 'catalog.jsonl', exportMode: 'snapshot' });
  });

  it('names each bad value and says what is allowed', () => {
    const message = problemsOf({ ...minimal, LMS_CATALOG_PATH: 'catalog.xlsx', LMS_EXPORT_MODE: 'full', SYNC_CATALOG: 'some' });
    expect(message).toMatch(/LMS_CATALOG_PATH.*must name a \.jsonl or \.csv file/);
    expect(message).toMatch(/LMS_EXPORT_MODE.*changes, snapshot/);
    expect(message).toMatch(/SYNC_CATALOG.*all, enrolled/);
  });

  it('refuses the file-only settings with another adapter', () => {
    const message = problemsOf({ VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'canvas', LMS_BASE_URL: 'https://canvas.example', LMS_TOKEN: 't', AzureWebJobsStorage: 'UseDevelopmentStorage=true', LMS_EXPORT_MODE: 'snapshot' });
    expect(message).toMatch(/LMS_EXPORT_MODE.*applies only to LMS_ADAPTER=file/);
  });

  it('the file adapter names LMS_CATALOG_PATH when the catalog file is missing', () => {
    const exportPath = join(dir, 'export.jsonl');
    writeFileSync(exportPath, '');
    expect(() => createFileAdapter({ path: exportPath, catalogPath: join(dir, 'missing.csv') })).toThrow(/LMS_CATALOG_PATH.*does not exist/);
  });
});

describe('catalog rows and their content', () => {
  it('maps every metadata field onto learningContent, lists from CSV separated by ";"', () => {
    const parsed = parseCatalogCourse({ id: 'c1', title: 'T', url: 'https://x.example/c1', contributors: 'Ada; Grace ;Ada', additionalTags: '', skillTags: ['SQL'], level: 'Advanced', format: 'Book', active: 'false', durationMinutes: '90' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const body = toCatalogContentBody(parsed.course);
    expect(body).not.toHaveProperty('additionalTags');
    expect(body).toMatchObject({
      title: 'T',
      contentWebUrl: 'https://x.example/c1',
      languageTag: 'en-US',
      duration: 'PT1H30M',
      contributors: ['Ada', 'Grace'],
      skillTags: ['SQL'],
      format: 'Book',
      level: 'advanced',
      isActive: false,
    });
  });

  it('names every broken rule of a row', () => {
    const parsed = parseCatalogCourse({ id: 'c1', url: 'ftp://x', active: 'maybe', contributors: [1] });
    expect(parsed).toEqual({ ok: false, id: 'c1', reason: expect.stringMatching(/title is required; url "ftp:\/\/x" is not an http\(s\) URL; active "maybe" is not a boolean; contributors must be/) });
  });
});
