import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import type { EnrollmentRecord } from '../../src/mapping/enrollment.js';
import { decodeContinuationToken } from '../../src/lms/continuationToken.js';
import { createFileAdapter, type FileAdapterOptions } from '../../src/lms/file.js';
import { buildFileIndex } from '../../src/lms/fileIndex.js';
import { MAX_RECORD_BYTES, scanRecords, splitCsvRecord, type FileKind, type RecordSpan } from '../../src/lms/recordScanner.js';
import type { ChangePage, ListChangesOptions, PageSettings, SourceItem } from '../../src/lms/types.js';
import { aSelfInitiatedEnrollment, aWithdrawal, anEnrollment, toCsv, toJsonl } from '../support/builders.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vls-file-adapter-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
function writeTemp(ext: string, content: string | Buffer, name?: string): string {
  fileCount += 1;
  const path = join(dir, name ?? `f${fileCount}.${ext}`);
  writeFileSync(path, content);
  return path;
}

function adapterFor(path: string, options: Omit<FileAdapterOptions, 'path'> = {}) {
  return createFileAdapter({ path, ...options });
}

async function listAll(path: string, listOptions: ListChangesOptions = {}, adapterOptions: Omit<FileAdapterOptions, 'path'> = {}): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of adapterFor(path, adapterOptions).listChanges(listOptions)) items.push(item);
  return items;
}

async function pagesOf(path: string, listOptions: ListChangesOptions = {}, settings: PageSettings = {}, adapterOptions: Omit<FileAdapterOptions, 'path'> = {}): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of adapterFor(path, adapterOptions).listChanges(listOptions).byPage(settings)) pages.push(page);
  return pages;
}

function records(items: readonly SourceItem[]): EnrollmentRecord[] {
  return items.flatMap((item) => (item.kind === 'record' ? [item.record] : []));
}

function ids(items: readonly SourceItem[]): string[] {
  return items.map((item) => (item.kind === 'record' ? item.record.enrollmentId : `!${item.key}`));
}

function invalids(items: readonly SourceItem[]): Extract<SourceItem, { kind: 'invalid' }>[] {
  return items.flatMap((item) => (item.kind === 'invalid' ? [item] : []));
}

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 1, 10, minute)).toISOString();

describe('file adapter: reading JSONL', () => {
  it('yields each record with its position, oldest first', async () => {
    const a = anEnrollment({ enrollmentId: 'a', updatedAt: at(1) });
    const b = aSelfInitiatedEnrollment({ enrollmentId: 'b', updatedAt: at(2) });
    const w = aWithdrawal({ enrollmentId: 'a', updatedAt: at(3) });
    const path = writeTemp('jsonl', toJsonl([a, b, w]), 'export.jsonl');
    const items = await listAll(path);
    expect(items).toEqual([
      { kind: 'record', record: a, position: 'export.jsonl line 1' },
      { kind: 'record', record: b, position: 'export.jsonl line 2' },
      { kind: 'record', record: w, position: 'export.jsonl line 3' },
    ]);
  });

  it('ignores blank lines and CRLF endings, and counts them in line numbers', async () => {
    const a = anEnrollment({ updatedAt: at(1) });
    const b = anEnrollment({ updatedAt: at(2) });
    const path = writeTemp('jsonl', `\r\n${JSON.stringify(a)}\r\n   \r\n\n${JSON.stringify(b)}\r\n\n`);
    const items = await listAll(path);
    expect(records(items)).toEqual([a, b]);
    expect(items.map((item) => item.position.split(' ').slice(1).join(' '))).toEqual(['line 2', 'line 5']);
  });

  it('reads a UTF-8 BOM and a last line without a newline', async () => {
    const a = anEnrollment({ updatedAt: at(1), course: { title: 'Sécurité – les bases' } });
    const b = anEnrollment({ updatedAt: at(2) });
    const path = writeTemp('jsonl', `\uFEFF${JSON.stringify(a)}\n${JSON.stringify(b)}`);
    expect(records(await listAll(path))).toEqual([a, b]);
  });

  it('accepts dotted keys in a JSONL object', async () => {
    const path = writeTemp('jsonl', toJsonl([{ ...anEnrollment({ enrollmentId: 'd', updatedAt: at(1) }), 'learner.employeeId': 'E1' }]));
    const [record] = records(await listAll(path));
    expect(record).toMatchObject({ enrollmentId: 'd', learner: { id: 'u1001', employeeId: 'E1' } });
  });
});

describe('file adapter: reading CSV', () => {
  it('reads the same records from a CSV as from a JSONL', async () => {
    const list = [anEnrollment({ updatedAt: at(1) }), aSelfInitiatedEnrollment({ updatedAt: at(2) }), aWithdrawal({ updatedAt: at(3) })];
    const csv = await listAll(writeTemp('csv', toCsv(list)));
    const jsonl = await listAll(writeTemp('jsonl', toJsonl(list)));
    expect(records(csv)).toEqual(list);
    expect(records(jsonl)).toEqual(list);
  });

  it('reads quoted fields with commas, quotes and newlines, and numbers lines by where records start', async () => {
    const tricky = anEnrollment({
      updatedAt: at(2),
      course: { title: 'Excel: "Pivot", Power Query', description: 'Line one,\nline "two"\r\nline three' },
    });
    const list = [anEnrollment({ updatedAt: at(1) }), tricky, anEnrollment({ updatedAt: at(3) })];
    const path = writeTemp('csv', toCsv(list), 'tricky.csv');
    const items = await listAll(path);
    expect(records(items)).toEqual(list);
    expect(items.map((item) => item.position)).toEqual(['tricky.csv line 2', 'tricky.csv line 3', 'tricky.csv line 6']);
  });

  it('reads a BOM and CRLF line endings', async () => {
    const list = [anEnrollment({ updatedAt: at(1) }), anEnrollment({ updatedAt: at(2), course: { description: 'a\r\nb' } })];
    const path = writeTemp('csv', toCsv(list, { bom: true, eol: '\r\n' }));
    expect(records(await listAll(path))).toEqual(list);
  });

  it('skips blank lines and rows of empty fields; an empty file lists nothing', async () => {
    const a = anEnrollment({ updatedAt: at(1) });
    const csv = toCsv([a]);
    const [header, row] = csv.split('\n');
    const path = writeTemp('csv', `${header}\n\n   \n,,,\n${row}\n\n`);
    const items = await listAll(path);
    expect(records(items)).toEqual([a]);
    expect(items[0]?.position).toMatch(/line 5$/);
    expect(await pagesOf(writeTemp('csv', ''))).toEqual([{ items: [], cursor: undefined, continuationToken: undefined }]);
  });

  it('refuses a header without enrollmentId or updatedAt, naming LMS_FILE_PATH', async () => {
    const path = writeTemp('csv', 'Enrollment ID,Email,Last Modified\nx,y,2026-11-01T00:00:00Z\n');
    await expect(listAll(path)).rejects.toThrow(/LMS_FILE_PATH.*no "enrollmentId" column.*LMS_MAPPING_PATH/);
  });
});

describe('file adapter: order', () => {
  it('orders by updatedAt, ties in file order, whatever the file order', async () => {
    const list = [
      anEnrollment({ enrollmentId: 'late', updatedAt: at(9) }),
      anEnrollment({ enrollmentId: 'tie-1', updatedAt: at(5) }),
      anEnrollment({ enrollmentId: 'early', updatedAt: '2026-11-01T09:00:00+00:00' }),
      anEnrollment({ enrollmentId: 'tie-2', updatedAt: '2026-11-01T11:05:00+01:00' }),
      anEnrollment({ enrollmentId: 'tie-3', updatedAt: at(5) }),
    ];
    for (const path of [writeTemp('jsonl', toJsonl(list)), writeTemp('csv', toCsv(list))]) {
      expect(ids(await listAll(path))).toEqual(['early', 'tie-1', 'tie-2', 'tie-3', 'late']);
    }
  });

  it('normalises updatedAt and detects a file already in order', async () => {
    const sorted = writeTemp('jsonl', toJsonl([anEnrollment({ updatedAt: at(1) }), anEnrollment({ updatedAt: at(1) }), anEnrollment({ updatedAt: at(2) })]));
    const unsorted = writeTemp('jsonl', toJsonl([anEnrollment({ updatedAt: at(2) }), anEnrollment({ updatedAt: at(1) })]));
    const indexOf = async (path: string) => {
      const handle = await open(path, 'r');
      try {
        return await buildFileIndex(handle, 'jsonl', (_span, text) => Date.parse(JSON.parse(text ?? '{}').updatedAt), { fromMs: -Infinity });
      } finally {
        await handle.close();
      }
    };
    expect((await indexOf(sorted)).inOrder).toBe(true);
    expect((await indexOf(unsorted)).inOrder).toBe(false);
  });
});

describe('file adapter: cursor and lookback', () => {
  const list = [
    anEnrollment({ enrollmentId: 'old', updatedAt: '2026-11-01T08:59:59.999Z' }),
    anEnrollment({ enrollmentId: 'lookback-edge', updatedAt: '2026-11-01T09:00:00.000Z' }),
    anEnrollment({ enrollmentId: 'recent', updatedAt: '2026-11-01T09:30:00.000Z' }),
    anEnrollment({ enrollmentId: 'at-cursor', updatedAt: '2026-11-01T10:00:00.000Z' }),
    anEnrollment({ enrollmentId: 'new', updatedAt: '2026-11-01T10:00:00.001Z' }),
  ];

  it('lists updatedAt >= cursor − lookback (one hour by default), inclusive', async () => {
    const path = writeTemp('jsonl', toJsonl(list));
    expect(ids(await listAll(path, { cursor: '2026-11-01T10:00:00.000Z' }))).toEqual(['lookback-edge', 'recent', 'at-cursor', 'new']);
    expect(ids(await listAll(path, { cursor: '2026-11-01T10:00:00Z' }, { lookbackMs: 0 }))).toEqual(['at-cursor', 'new']);
    expect(ids(await listAll(path, { cursor: '2026-11-01T11:00:00+01:00' }, { lookbackMs: 0 }))).toEqual(['at-cursor', 'new']);
    expect(ids(await listAll(path))).toHaveLength(5);
  });

  it('refuses a cursor that is not a date-time', async () => {
    const path = writeTemp('jsonl', toJsonl(list));
    await expect(listAll(path, { cursor: 'page-7' })).rejects.toThrow(/cursor "page-7" is not an ISO 8601 date-time/);
  });
});

describe('file adapter: pages and continuation tokens', () => {
  const list = [1, 2, 2, 2, 3, 4, 5].map((minute, i) => anEnrollment({ enrollmentId: `p${i}`, updatedAt: at(minute) }));

  it('pages by maxPageSize (default defaultPageSize), each with the greatest updatedAt as its cursor', async () => {
    const path = writeTemp('jsonl', toJsonl(list));
    const pages = await pagesOf(path, {}, { maxPageSize: 3 });
    expect(pages.map((page) => ids(page.items))).toEqual([['p0', 'p1', 'p2'], ['p3', 'p4', 'p5'], ['p6']]);
    expect(pages.map((page) => page.cursor)).toEqual([at(2), at(4), at(5)]);
    expect(pages.map((page) => page.continuationToken === undefined)).toEqual([false, false, true]);
    const byDefault = await pagesOf(path, {}, {}, { defaultPageSize: 4 });
    expect(byDefault.map((page) => page.items.length)).toEqual([4, 3]);
  });

  it('resumes after the last page from its continuation token, in a new listing', async () => {
    const path = writeTemp('csv', toCsv(list));
    const pages = await pagesOf(path, { cursor: at(2) }, { maxPageSize: 2 }, { lookbackMs: 0 });
    expect(pages.map((page) => ids(page.items))).toEqual([['p1', 'p2'], ['p3', 'p4'], ['p5', 'p6']]);
    const token = pages[0]?.continuationToken ?? '';
    expect(decodeContinuationToken(token)).toMatchObject({ cursor: at(2), after: { updatedAtMs: Date.parse(at(2)) } });
    expect(JSON.parse(Buffer.from(token, 'base64').toString())).toMatchObject({ v: 1, cursor: at(2), after: { updatedAtMs: Date.parse(at(2)), position: expect.any(Number) } });
    // A new listing (no cursor given) resumes from the token alone, even between records that share an updatedAt.
    const rest = await pagesOf(path, {}, { continuationToken: token, maxPageSize: 10 }, { lookbackMs: 0 });
    expect(rest.map((page) => ids(page.items))).toEqual([['p3', 'p4', 'p5', 'p6']]);
    expect(rest[0]?.cursor).toBe(at(5));
  });

  it('refuses a token it did not make', async () => {
    const path = writeTemp('jsonl', toJsonl(list));
    await expect(pagesOf(path, {}, { continuationToken: 'not-a-token' })).rejects.toThrow(/continuationToken/);
    const wrongVersion = Buffer.from(JSON.stringify({ v: 2, after: { updatedAtMs: 0, position: 0 } })).toString('base64');
    await expect(pagesOf(path, {}, { continuationToken: wrongVersion })).rejects.toThrow(/version 2/);
  });

  it('refuses a page size below 1', async () => {
    const path = writeTemp('jsonl', toJsonl(list));
    await expect(pagesOf(path, {}, { maxPageSize: 0 })).rejects.toThrow(RangeError);
    expect(() => adapterFor(path, { defaultPageSize: 1.5 })).toThrow(/defaultPageSize/);
  });
});

describe('file adapter: invalid records', () => {
  it('yields invalid items with the line, the rule broken, the raw text and a key', async () => {
    const bad = { ...anEnrollment({ enrollmentId: 'bad-progress', updatedAt: at(2) }), progressPercent: 140 };
    const lines = [JSON.stringify(anEnrollment({ enrollmentId: 'ok', updatedAt: at(1) })), '', '{"enrollmentId": "broken", ', JSON.stringify(bad), '[1,2]'];
    const path = writeTemp('jsonl', `${lines.join('\n')}\n`, 'bad.jsonl');
    const items = await listAll(path);
    const [malformed, notObject, progress] = invalids(items);
    expect(malformed).toMatchObject({ key: expect.stringMatching(/^line:[0-9a-f]{16}$/), position: 'bad.jsonl line 3', raw: '{"enrollmentId": "broken", ' });
    expect(malformed?.reason).toMatch(/^line 3: malformed JSON \(/);
    expect(malformed).not.toHaveProperty('enrollmentId');
    expect(notObject).toMatchObject({ reason: 'line 5: record is not a JSON object', raw: '[1,2]' });
    expect(progress).toEqual({
      kind: 'invalid',
      key: 'bad-progress',
      enrollmentId: 'bad-progress',
      updatedAt: at(2),
      reason: 'line 4: progressPercent 140 is outside 0..100',
      position: 'bad.jsonl line 4',
      raw: lines[3],
    });
    // Unreadable updatedAt first (file order), then by updatedAt.
    expect(ids(items)).toEqual([`!${malformed?.key}`, `!${notObject?.key}`, 'ok', '!bad-progress']);
  });

  it('keys the same bad text the same way in every listing', async () => {
    const path = writeTemp('jsonl', 'not json\n');
    const [first] = invalids(await listAll(path));
    const [second] = invalids(await listAll(path));
    expect(first?.key).toBe(second?.key);
  });

  it('yields CSV rows with the wrong column count or broken quotes as invalid, and goes on', async () => {
    const good = anEnrollment({ enrollmentId: 'good', updatedAt: at(1), course: { description: 'multi\nline' } });
    const csv = toCsv([good]);
    const path = writeTemp('csv', `${csv}short,row\n"bad"quote,x\n${toCsv([anEnrollment({ enrollmentId: 'after', updatedAt: at(2) })]).split('\n')[1]}\n"open`, 'rows.csv');
    const items = await listAll(path);
    const bad = invalids(items);
    expect(bad.map((item) => item.reason)).toEqual([
      expect.stringMatching(/^line 4: 2 fields, but the header has \d+ columns$/),
      'line 5: column 1 has text after its closing quote',
      'line 7: column 1 opens a quote that is never closed',
    ]);
    expect(bad[0]).toMatchObject({ raw: 'short,row', position: 'rows.csv line 4' });
    expect(ids(items).filter((id) => !id.startsWith('!'))).toEqual(['good', 'after']);
  });

  it('isolates a CSV row with an unclosed quote: a dead letter for its line, and every row after it is read', async () => {
    // Out of updatedAt order, so the index is sorted and the rows after the bad one are read back by offset.
    const list = [5, 1, 6, 2, 4, 3].map((minute, i) => anEnrollment({ enrollmentId: `row${i + 1}`, updatedAt: at(minute), course: { description: i === 4 ? 'a "quoted",\nmulti-line text' : `course ${i + 1}` } }));
    const lines = toCsv(list).split('\n');
    lines[3] = `"${lines[3] ?? ''}`; // row 3 (line 4) opens a quote that nothing closes
    const path = writeTemp('csv', lines.join('\n'), 'open-quote.csv');
    for (const maxPageSize of [2, 200]) {
      const items = (await pagesOf(path, {}, { maxPageSize })).flatMap((page) => page.items);
      expect(invalids(items)).toEqual([expect.objectContaining({ position: 'open-quote.csv line 4', reason: 'line 4: column 1 opens a quote that is never closed', raw: lines[3] })]);
      expect(records(items).sort((a, b) => a.enrollmentId.localeCompare(b.enrollmentId))).toEqual(list.filter((_, i) => i !== 2).map((e) => expect.objectContaining({ enrollmentId: e.enrollmentId, updatedAt: e.updatedAt, course: expect.objectContaining({ description: e.course.description }) })));
    }
  });

  it('lists invalid records with a readable updatedAt by the cursor, and those without one every time, first', async () => {
    const list = [
      { ...anEnrollment({ enrollmentId: 'old-bad', updatedAt: at(1) }), status: 'done' },
      { ...anEnrollment({ enrollmentId: 'new-bad', updatedAt: at(50) }), status: 'done' },
      { ...anEnrollment({ enrollmentId: 'no-time' }), updatedAt: 'yesterday' },
      anEnrollment({ enrollmentId: 'new-good', updatedAt: at(40) }),
    ];
    const path = writeTemp('csv', toCsv(list));
    const items = await listAll(path, { cursor: at(40) }, { lookbackMs: 0 });
    expect(ids(items)).toEqual(['!no-time', 'new-good', '!new-bad']);
    expect(invalids(items)[0]).toMatchObject({ enrollmentId: 'no-time', reason: expect.stringContaining('updatedAt "yesterday" is not an ISO 8601 date-time') });
    expect(invalids(items)[0]).not.toHaveProperty('updatedAt');
  });

  it('keeps the previous cursor for a page of records without an updatedAt', async () => {
    const list = [{ enrollmentId: 'x1', updatedAt: 'never' }, { enrollmentId: 'x2' }, anEnrollment({ enrollmentId: 'y', updatedAt: at(30) })];
    const path = writeTemp('jsonl', toJsonl(list));
    const pages = await pagesOf(path, { cursor: at(20) }, { maxPageSize: 2 }, { lookbackMs: 0 });
    expect(pages.map((page) => [ids(page.items).length, page.cursor])).toEqual([
      [2, at(20)],
      [1, at(30)],
    ]);
    const fresh = await pagesOf(path, {}, { maxPageSize: 2 });
    expect(fresh[0]?.cursor).toBeUndefined();
  });

  it('refuses a record longer than the limit without reading it whole, and goes on', async () => {
    const huge = JSON.stringify({ ...anEnrollment({ enrollmentId: 'huge', updatedAt: at(1) }), course: { description: 'x'.repeat(MAX_RECORD_BYTES) } });
    const path = writeTemp('jsonl', `${huge}\n${JSON.stringify(anEnrollment({ enrollmentId: 'fine', updatedAt: at(2) }))}\n`);
    const items = await listAll(path);
    const [bad] = invalids(items);
    expect(bad?.reason).toMatch(new RegExp(`^line 1: the record is ${huge.length} bytes long, more than the limit of ${MAX_RECORD_BYTES}$`));
    expect(bad?.raw.length).toBeLessThan(100_000);
    expect(ids(items).at(-1)).toBe('fine');
  });
});

describe('file adapter: getEnrollment', () => {
  it('returns the item with the greatest updatedAt, the later line among equals, or undefined', async () => {
    const list = [
      anEnrollment({ enrollmentId: 'g', updatedAt: at(5), status: 'completed', progressPercent: 100 }),
      anEnrollment({ enrollmentId: 'other', updatedAt: at(9) }),
      anEnrollment({ enrollmentId: 'g', updatedAt: at(1) }),
      anEnrollment({ enrollmentId: 'tie', updatedAt: at(1), progressPercent: 10 }),
      anEnrollment({ enrollmentId: 'tie', updatedAt: at(1), progressPercent: 20 }),
      aWithdrawal({ enrollmentId: 'gone', updatedAt: at(3) }),
      { ...anEnrollment({ enrollmentId: 'gone', updatedAt: at(2) }), progressPercent: 140 },
    ];
    for (const path of [writeTemp('jsonl', toJsonl(list)), writeTemp('csv', toCsv(list))]) {
      const adapter = adapterFor(path);
      expect(await adapter.getEnrollment('g')).toMatchObject({ kind: 'record', record: { status: 'completed' }, position: expect.stringMatching(/line [12]$/) });
      expect(await adapter.getEnrollment('tie')).toMatchObject({ record: { progressPercent: 20 } });
      expect(await adapter.getEnrollment('gone')).toMatchObject({ kind: 'record', record: { deleted: true } });
      expect(await adapter.getEnrollment('nobody')).toBeUndefined();
    }
  });

  it('returns an invalid item when that is all there is', async () => {
    const path = writeTemp('jsonl', toJsonl([{ ...anEnrollment({ enrollmentId: 'only-bad', updatedAt: at(1) }), status: 'done' }]));
    expect(await adapterFor(path).getEnrollment('only-bad')).toMatchObject({ kind: 'invalid', key: 'only-bad', reason: expect.stringContaining('status "done"') });
  });
});

describe('file adapter: abort', () => {
  it('rejects with an AbortError before reading, between pages, and in getEnrollment', async () => {
    const list = [1, 2, 3, 4].map((minute) => anEnrollment({ updatedAt: at(minute) }));
    const path = writeTemp('jsonl', toJsonl(list));
    const aborted = AbortSignal.abort();
    await expect(listAll(path, { abortSignal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(adapterFor(path).getEnrollment('x', { abortSignal: aborted })).rejects.toMatchObject({ name: 'AbortError' });

    const controller = new AbortController();
    const pages = adapterFor(path).listChanges({ abortSignal: controller.signal }).byPage({ maxPageSize: 2 });
    const first = await pages.next();
    expect(first.done).toBe(false);
    controller.abort();
    await expect(pages.next()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('stops reading a large file when aborted during the first pass', async () => {
    const path = writeTemp('jsonl', toJsonl(Array.from({ length: 20_000 }, (_, i) => anEnrollment({ updatedAt: at(i % 60) }))));
    const controller = new AbortController();
    const handle = await open(path, 'r');
    let seen = 0;
    try {
      await expect(
        scanRecords(
          handle,
          'jsonl',
          () => {
            seen += 1;
            if (seen === 10) controller.abort();
          },
          { abortSignal: controller.signal, chunkBytes: 64 * 1024 },
        ),
      ).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await handle.close();
    }
    expect(seen).toBeLessThan(20_000);
  });
});

describe('file adapter: settings', () => {
  it('refuses an unknown extension, naming LMS_FILE_PATH', () => {
    const path = writeTemp('txt', 'x');
    expect(() => adapterFor(path)).toThrow(/LMS_FILE_PATH.*must name a \.jsonl or \.csv file/);
    try {
      adapterFor(path);
    } catch (err) {
      expect(isConfigError(err)).toBe(true);
    }
  });

  it('refuses a missing file, naming LMS_FILE_PATH and the path', () => {
    const path = join(dir, 'missing.csv');
    expect(() => adapterFor(path)).toThrow(/LMS_FILE_PATH/);
    expect(() => adapterFor(path)).toThrow(path);
  });

  it('fails the listing clearly when the file disappears after start', async () => {
    const path = writeTemp('jsonl', toJsonl([anEnrollment()]));
    const adapter = adapterFor(path);
    rmSync(path);
    await expect(adapter.listChanges().next()).rejects.toThrow(/LMS_FILE_PATH.*does not exist/);
  });
});

describe('file adapter: column map', () => {
  const map = {
    columns: {
      enrollmentId: 'Enrollment ID',
      'learner.id': 'User',
      'learner.email': 'Email',
      'course.id': 'Course Code',
      'course.title': 'Course',
      'course.url': 'Link',
      status: 'Status',
      progressPercent: 'Progress',
      updatedAt: 'Last Modified',
    },
    values: { status: { Completed: 'completed', 'In Progress': 'inProgress', 'Not Started': 'notStarted' } },
    defaults: { source: 'assigned', assignmentType: 'required' },
  };
  const vendorCsv = [
    'Enrollment ID,User,Email,Course Code,Course,Link,Status,Progress,Last Modified,Cost Center',
    'v2,u7,b@contoso.example,C2,"Excel, advanced",https://x.example/c2,completed,100,2026-11-02 10:00:00Z,CC-2',
    'v1,u8,a@contoso.example,C1,Intro,https://x.example/c1,In Progress,40,2026-11-01T10:00:00Z,CC-1',
    'v3,u9,c@contoso.example,C3,Intro,https://x.example/c3,Done,100,2026-11-03T10:00:00Z,CC-1',
    'v4,u9,c@contoso.example,C4,Intro,https://x.example/c4,NOT STARTED,,2026-11-04T10:00:00Z,CC-1',
  ].join('\n');

  it('maps a vendor CSV to canonical records', async () => {
    const mappingPath = writeTemp('json', JSON.stringify(map));
    const path = writeTemp('csv', vendorCsv, 'vendor.csv');
    const items = await listAll(path, {}, { mappingPath });
    expect(ids(items)).toEqual(['v1', 'v2', '!v3', 'v4']);
    expect(records(items)[0]).toEqual({
      enrollmentId: 'v1',
      learner: { id: 'u8', email: 'a@contoso.example' },
      course: { id: 'C1', title: 'Intro', url: 'https://x.example/c1' },
      source: 'assigned',
      assignmentType: 'required',
      status: 'inProgress',
      progressPercent: 40,
      updatedAt: '2026-11-01T10:00:00.000Z',
    });
    expect(records(items)[2]).toMatchObject({ enrollmentId: 'v4', status: 'notStarted' });
    expect(invalids(items)[0]?.reason).toBe('line 4: status "Done" is not one of notStarted, inProgress, completed');
    expect(await adapterFor(path, { mappingPath }).getEnrollment('v2')).toMatchObject({ record: { course: { title: 'Excel, advanced' } } });
  });

  it('maps the top-level keys of a vendor JSONL', async () => {
    const mappingPath = writeTemp('json', JSON.stringify(map));
    const row = { 'Enrollment ID': 'j1', User: 'u1', Email: 'a@contoso.example', 'Course Code': 'C1', Course: 'Intro', Link: 'https://x.example/c1', Status: 'Completed', Progress: 100, 'Last Modified': at(1) };
    const path = writeTemp('jsonl', toJsonl([row]));
    expect(records(await listAll(path, {}, { mappingPath }))).toEqual([
      { enrollmentId: 'j1', learner: { id: 'u1', email: 'a@contoso.example' }, course: { id: 'C1', title: 'Intro', url: 'https://x.example/c1' }, source: 'assigned', assignmentType: 'required', status: 'completed', progressPercent: 100, updatedAt: at(1) },
    ]);
  });

  it('refuses, naming LMS_MAPPING_PATH, a map with problems (at creation) or a column the header lacks (at listing)', async () => {
    const path = writeTemp('csv', vendorCsv);
    const badMap = writeTemp('json', JSON.stringify({ columns: { 'learner.mail': 'Email', status: 3 } }));
    expect(() => adapterFor(path, { mappingPath: badMap })).toThrow(/LMS_MAPPING_PATH.*"learner\.mail" is not a canonical field.*columns\."status" must be a non-empty string/);
    expect(() => adapterFor(path, { mappingPath: join(dir, 'no-map.json') })).toThrow(/LMS_MAPPING_PATH.*no-map\.json" does not exist/);
    expect(() => adapterFor(path, { mappingPath: writeTemp('json', '{ nope') })).toThrow(/LMS_MAPPING_PATH.*not valid JSON/);
    const missing = writeTemp('json', JSON.stringify({ ...map, columns: { ...map.columns, 'course.description': 'Summary' } }));
    await expect(listAll(path, {}, { mappingPath: missing })).rejects.toThrow(/LMS_MAPPING_PATH.*column "Summary" \(for course\.description\) not in the header/);
  });
});

describe('CSV record boundaries', () => {
  /** Builds a random CSV with quoted commas, quotes, CRLF and LF inside quotes, blank lines and a BOM. */
  function randomCsv(seed: number): string {
    let state = seed;
    const rand = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const pieces = ['a', 'b c', ',', '"', '\n', '\r\n', 'é', '€', '😀', ' '];
    const field = (): string => {
      const text = Array.from({ length: Math.floor(rand() * 6) }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
      return /[",\r\n]/.test(text) || rand() < 0.2 ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const rows = Array.from({ length: 200 }, () => Array.from({ length: 4 }, field).join(','));
    return `\uFEFF${rows.map((row, i) => (i % 17 === 5 ? `${row}\r\n\r\n` : `${row}\n`)).join('')}`;
  }

  async function scan(path: string, kind: FileKind, chunkBytes: number): Promise<{ span: RecordSpan; text: string | undefined }[]> {
    const out: { span: RecordSpan; text: string | undefined }[] = [];
    const handle = await open(path, 'r');
    try {
      await scanRecords(handle, kind, (span, text) => out.push({ span, text }), { chunkBytes });
    } finally {
      await handle.close();
    }
    return out;
  }

  it('finds the same records, byte ranges and fields as csv-parse, whatever the chunk size', async () => {
    for (const seed of [1, 2, 3]) {
      const content = randomCsv(seed);
      const path = writeTemp('csv', content);
      const bytes = readFileSync(path);
      const expected: string[][] = parseCsvSync(content, { bom: true, record_delimiter: ['\r\n', '\n'], relax_column_count: true, skip_empty_lines: true });
      const large = await scan(path, 'csv', 1024 * 1024);
      for (const chunkBytes of [1, 2, 3, 7, 64]) expect(await scan(path, 'csv', chunkBytes)).toEqual(large);
      const blank = (fields: readonly string[] | undefined): boolean => (fields ?? []).every((f) => f.trim() === '');
      const fields = large.map(({ text }) => splitCsvRecord(text ?? '').fields).filter((f) => !blank(f));
      expect(fields).toEqual(expected.filter((f) => !blank(f)));
      for (const { span, text } of large) expect(bytes.toString('utf8', span.offset, span.offset + span.length)).toBe(text);
    }
  });

  it('resumes after a row with an unclosed quote on its next line, whatever the chunk size', async () => {
    const path = writeTemp('csv', 'id,note\r\na,1\r\n"b,2\r\nc,"x\r\ny"\r\nd,"4"z\r\ne,5\r\n');
    const large = await scan(path, 'csv', 1024 * 1024);
    expect(large.map(({ span, text }) => [span.line, text])).toEqual([
      [1, 'id,note'],
      [2, 'a,1'],
      [3, '"b,2'],
      [4, 'c,"x\r\ny"'],
      [6, 'd,"4"z'],
      [7, 'e,5'],
    ]);
    for (const chunkBytes of [16, 17, 64]) expect(await scan(path, 'csv', chunkBytes)).toEqual(large);
  });

  it('splits fields like RFC 4180', () => {
    expect(splitCsvRecord('a,"b,c","d""e",,"f\ng"')).toEqual({ fields: ['a', 'b,c', 'd"e', '', 'f\ng'] });
    expect(splitCsvRecord('5" screen,x')).toEqual({ fields: ['5" screen', 'x'] });
    expect(splitCsvRecord('')).toEqual({ fields: [''] });
    expect(splitCsvRecord('a,"b"c')).toEqual({ error: 'column 2 has text after its closing quote' });
  });
});

describe('file adapter: streaming a large file', () => {
  it('indexes 200,000 records in a few dozen bytes each, without holding records in memory', async () => {
    setFlagsFromString('--expose-gc');
    const rawGc = runInNewContext('gc') as () => void;
    // Array buffers are freed off the main thread: collect, let that finish, collect again.
    const gc = async (): Promise<void> => {
      rawGc();
      await new Promise((resolve) => setTimeout(resolve, 50));
      rawGc();
    };
    const count = 200_000;
    const path = join(dir, 'large.jsonl');
    const template = anEnrollment({ course: { description: 'A description long enough to make each record a few hundred bytes, as real exports are.' } });
    writeFileSync(path, '');
    for (let start = 0; start < count; start += 10_000) {
      let chunk = '';
      // Out of order on purpose, so that the index is sorted.
      for (let i = start; i < start + 10_000; i++) chunk += `${JSON.stringify({ ...template, enrollmentId: `big-${i}`, updatedAt: new Date(Date.UTC(2026, 9, 1) + ((i * 7919) % count) * 1000).toISOString() })}\n`;
      appendFileSync(path, chunk);
    }
    const fileBytes = readFileSync(path).length;
    expect(fileBytes).toBeGreaterThan(count * 400);

    // The index structure itself: typed arrays, 24 bytes a record plus 4 for the sort order.
    const handle = await open(path, 'r');
    try {
      const index = await buildFileIndex(handle, 'jsonl', (_span, text) => Date.parse(JSON.parse(text ?? '{}').updatedAt), { fromMs: -Infinity });
      expect(index.count).toBe(count);
      expect(index.inOrder).toBe(false);
      expect(index.byteLength).toBeLessThanOrEqual(count * 28);
      expect(index.at(0).updatedAtMs).toBe(Date.UTC(2026, 9, 1));
    } finally {
      await handle.close();
    }

    // Through the adapter: after the first page the whole index is built and held; the heap must not hold the records.
    await gc();
    const before = process.memoryUsage();
    const pages = adapterFor(path).listChanges().byPage({ maxPageSize: 100 });
    const first = await pages.next();
    await gc();
    const after = process.memoryUsage();
    expect(first.done).toBe(false);
    const times = records(first.value?.items ?? []).map((r) => Date.parse(r.updatedAt));
    expect(times).toEqual(times.map((_, i) => Date.UTC(2026, 9, 1) + i * 1000));
    const heapGrowth = after.heapUsed - before.heapUsed;
    const bufferGrowth = after.arrayBuffers - before.arrayBuffers;
    // Holding the records (as objects, strings or buffers) would grow one of these by more than the file's size.
    expect(heapGrowth).toBeLessThan(fileBytes / 10);
    expect(bufferGrowth).toBeLessThan(fileBytes / 4);
    await pages.return?.(undefined);
    rmSync(path);
  });
});

describe('the committed examples', () => {
  const examples = join(ROOT, 'examples');

  it('enrollments.csv: about 300 enrollments, exactly 3 dead letters, two withdrawals, one former employee', async () => {
    const items = await listAll(join(examples, 'enrollments.csv'));
    const bad = invalids(items);
    expect(bad).toHaveLength(3);
    expect(bad.map((item) => item.reason.replace(/^line \d+: /, '')).sort()).toEqual([
      expect.stringMatching(/^progressPercent 140 is outside 0\.\.100$/),
      expect.stringMatching(/^status "done" is not one of notStarted, inProgress, completed$/),
      expect.stringMatching(/^updatedAt ".+" is not an ISO 8601 date-time$/),
    ]);
    expect(bad.every((item) => item.enrollmentId !== undefined && item.key === item.enrollmentId)).toBe(true);
    const recs = records(items);
    expect(recs.length).toBeGreaterThanOrEqual(290);
    const withdrawals = recs.filter((r) => r.deleted === true);
    expect(withdrawals).toHaveLength(2);
    for (const w of withdrawals) {
      const earlier = recs.findIndex((r) => r.enrollmentId === w.enrollmentId && r.deleted !== true);
      expect(earlier).toBeGreaterThanOrEqual(0);
      expect(earlier).toBeLessThan(recs.indexOf(w));
    }
    const live = recs.filter((r) => r.deleted !== true);
    expect(live.filter((r) => 'learner' in r && r.learner.email === 'former.employee@contoso.example')).toHaveLength(1);
    expect(new Set(live.map((r) => ('status' in r ? r.status : '')))).toEqual(new Set(['notStarted', 'inProgress', 'completed']));
    expect(new Set(live.map((r) => ('source' in r ? r.source : '')))).toEqual(new Set(['assigned', 'selfInitiated']));
  });

  it('enrollments.jsonl and the vendor export (through its map) are all valid', async () => {
    const jsonl = await listAll(join(examples, 'enrollments.jsonl'));
    expect(invalids(jsonl)).toEqual([]);
    expect(jsonl.length).toBeGreaterThanOrEqual(15);
    const vendor = await listAll(join(examples, 'vendor-export.csv'), {}, { mappingPath: join(examples, 'vendor-column-map.json') });
    expect(invalids(vendor)).toEqual([]);
    expect(records(vendor).filter((r) => r.deleted === true)).toHaveLength(1);
  });

  it('are what scripts/generate-examples.mjs writes (deterministic)', () => {
    const out = mkdtempSync(join(tmpdir(), 'vls-examples-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts/generate-examples.mjs'), '--out', out], { stdio: 'pipe' });
      for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(examples, name), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
