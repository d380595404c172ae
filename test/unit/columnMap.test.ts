import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import { unflattenRow } from '../../src/mapping/enrollment.js';
import { applyColumnMap, CANONICAL_FIELDS, loadColumnMap, missingColumns, nestDottedKeys, parseColumnMap, sourceColumn } from '../../src/lms/columnMap.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vls-column-map-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const valid = {
  columns: { enrollmentId: 'Enrollment ID', 'learner.email': 'Email', 'learner.upn': 'Email', 'course.id': 'Course Code', status: 'Status', updatedAt: 'Modified' },
  values: {
    status: { Completed: 'completed', 'In Progress': 'inProgress', 'Not Started': 'notStarted', 'N/A': '' },
    'course.language': { English: 'en-US' },
    deleted: { Y: 'TRUE', N: 'false' },
  },
  defaults: { source: 'assigned', assignmentType: 'required', status: 'notStarted' },
};

/** The problem message parseColumnMap throws for `json`. */
function problemOf(json: unknown): string {
  try {
    parseColumnMap(json, 'map.json');
  } catch (err) {
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain('LMS_MAPPING_PATH (map.json)');
    return (err as Error).message;
  }
  throw new Error('expected parseColumnMap to throw');
}

describe('parseColumnMap', () => {
  it('reads columns, values and defaults', () => {
    const map = parseColumnMap(valid);
    expect(map.columns.get('learner.upn')).toBe('Email');
    expect(map.values.get('status')?.get('In Progress')).toBe('inProgress');
    expect(map.defaults.get('assignmentType')).toBe('required');
    expect(sourceColumn(map, 'updatedAt')).toBe('Modified');
    expect(sourceColumn(map, 'dueAt')).toBe('dueAt');
    expect(sourceColumn(undefined, 'updatedAt')).toBe('updatedAt');
  });

  it('accepts an empty map and a description', () => {
    expect(parseColumnMap({ description: 'nothing to map' }).columns.size).toBe(0);
  });

  it.each([
    ['not an object', [1, 2], /must be a JSON object/],
    ['an unknown top-level key', { column: {} }, /unknown key "column"/],
    ['a section that is not an object', { columns: 'Email' }, /columns must be an object/],
    ['an unknown canonical field', { columns: { 'learner.mail': 'Email' } }, /columns: "learner\.mail" is not a canonical field \(expected one of enrollmentId, /],
    ['a column that is not a string', { columns: { status: 3 } }, /columns\."status" must be a non-empty string/],
    ['an empty column name', { columns: { status: ' ' } }, /columns\."status" must be a non-empty string/],
    ['values for an unknown field', { values: { state: { a: 'b' } } }, /values: "state" is not a canonical field/],
    ['a value table that is not an object', { values: { status: ['Completed'] } }, /values\."status" must be an object/],
    ['a value that is not a string', { values: { status: { Completed: true } } }, /values\."status"\."Completed" must be a string/],
    ['a value outside the vocabulary', { values: { status: { Done: 'finished' } } }, /values\."status"\."Done" is "finished", which is not one of notStarted, inProgress, completed/],
    ['a value in the wrong case', { values: { source: { Self: 'SelfInitiated' } } }, /not one of assigned, selfInitiated/],
    ['values for updatedAt', { values: { updatedAt: { x: 'y' } } }, /values\."updatedAt" is not allowed/],
    ['a default that is not a string', { defaults: { progressPercent: 0 } }, /defaults\."progressPercent" must be a string/],
    ['a default outside the vocabulary', { defaults: { assignmentType: 'mandatory' } }, /defaults\."assignmentType" is "mandatory", which is not one of required, recommended/],
    ['a default for enrollmentId', { defaults: { enrollmentId: 'x' } }, /defaults\."enrollmentId" is not allowed/],
  ])('refuses %s, naming LMS_MAPPING_PATH', (_name, json, message) => {
    expect(problemOf(json)).toMatch(message);
  });

  it('names every problem at once', () => {
    const message = problemOf({ columns: { nope: 'x', status: 1 }, defaults: { source: 'sometimes' } });
    expect(message).toMatch(/"nope" is not a canonical field.*columns\."status" must be.*defaults\."source" is "sometimes"/);
  });
});

describe('loadColumnMap', () => {
  it('reads a file (with a BOM)', () => {
    const path = join(dir, 'map.json');
    writeFileSync(path, `\uFEFF${JSON.stringify(valid)}`);
    expect(loadColumnMap(path).columns.get('course.id')).toBe('Course Code');
  });

  it('names LMS_MAPPING_PATH and the path when the file is missing or not JSON', () => {
    const missing = join(dir, 'missing.json');
    expect(() => loadColumnMap(missing)).toThrow(`LMS_MAPPING_PATH file "${missing}" does not exist`);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "columns": ');
    expect(() => loadColumnMap(broken)).toThrow(/LMS_MAPPING_PATH \(.*broken\.json\): is not valid JSON/);
  });
});

describe('applyColumnMap', () => {
  const map = parseColumnMap(valid);

  it('renames mapped columns, keeps unmapped canonical ones, and drops other vendor columns', () => {
    const row = { 'Enrollment ID': 'e1', Email: 'a@contoso.example', 'Course Code': 'C1', Status: 'Completed', Modified: '2026-11-01T00:00:00Z', dueAt: '2026-12-01', 'Cost Center': 'CC-7', status: 'ignored: status is mapped' };
    expect(applyColumnMap(map, row)).toEqual({
      enrollmentId: 'e1',
      'learner.email': 'a@contoso.example',
      'learner.upn': 'a@contoso.example',
      'course.id': 'C1',
      status: 'completed',
      updatedAt: '2026-11-01T00:00:00Z',
      dueAt: '2026-12-01',
      source: 'assigned',
      assignmentType: 'required',
    });
  });

  it('translates values exactly, then ignoring case and spaces, and leaves unknown words for validation to refuse', () => {
    const status = (value: string): unknown => applyColumnMap(map, { Status: value })['status'];
    expect(status('In Progress')).toBe('inProgress');
    expect(status(' in progress ')).toBe('inProgress');
    expect(status('Cancelled')).toBe('Cancelled');
    expect(applyColumnMap(map, { deleted: 'Y' })['deleted']).toBe('TRUE');
  });

  it('fills defaults for missing and blank fields only (a value translated to blank counts as blank)', () => {
    expect(applyColumnMap(map, { Status: '' })['status']).toBe('notStarted');
    expect(applyColumnMap(map, { Status: 'N/A' })['status']).toBe('notStarted');
    expect(applyColumnMap(map, { source: 'selfInitiated' })['source']).toBe('selfInitiated');
    expect(applyColumnMap(map, {})['assignmentType']).toBe('required');
  });

  it('gives CSV rows that unflattenRow nests', () => {
    const flat = applyColumnMap(map, { 'Enrollment ID': 'e1', Email: 'a@contoso.example', 'Course Code': 'C1' });
    expect(unflattenRow(flat)).toMatchObject({ enrollmentId: 'e1', learner: { email: 'a@contoso.example', upn: 'a@contoso.example' }, course: { id: 'C1' } });
  });

  it('keeps whole JSONL objects, and nestDottedKeys merges dotted keys into them', () => {
    const flat = applyColumnMap(map, { Email: 'a@contoso.example', learner: { id: 'u1' }, progressPercent: 40, Status: 'Completed' });
    expect(nestDottedKeys(flat)).toEqual({
      learner: { id: 'u1', email: 'a@contoso.example', upn: 'a@contoso.example' },
      progressPercent: 40,
      status: 'completed',
      source: 'assigned',
      assignmentType: 'required',
    });
  });

  it('does not default a nested field that a whole JSONL object already holds', () => {
    const withDefault = parseColumnMap({ defaults: { 'course.language': 'en-US' } });
    expect(nestDottedKeys(applyColumnMap(withDefault, { course: { id: 'c', language: 'de-DE' } }))).toEqual({ course: { id: 'c', language: 'de-DE' } });
    expect(nestDottedKeys(applyColumnMap(withDefault, { course: { id: 'c' } }))).toEqual({ course: { id: 'c', language: 'en-US' } });
  });
});

describe('missingColumns', () => {
  it('names each mapped column the header lacks, with its canonical field', () => {
    const map = parseColumnMap(valid);
    expect(missingColumns(map, ['Enrollment ID', 'Email', 'Course Code', 'Status', 'Modified'])).toEqual([]);
    expect(missingColumns(map, ['Enrollment ID', 'Email', 'Status'])).toEqual(['column "Course Code" (for course.id)', 'column "Modified" (for updatedAt)']);
  });
});

it('lists every canonical field of DESIGN.md once', () => {
  expect(new Set(CANONICAL_FIELDS).size).toBe(CANONICAL_FIELDS.length);
  expect(CANONICAL_FIELDS).toEqual(expect.arrayContaining(['enrollmentId', 'learner.entraObjectId', 'course.thumbnailUrl', 'assigner.upn', 'progressPercent', 'deleted']));
});
