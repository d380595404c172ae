/**
 * Builders for canonical enrollments with sensible defaults (STYLE.md §16): a test states
 * only what it is about. `toJsonl` and `toCsv` write records in the `file` adapter's formats.
 *
 * ```ts
 * const e = anEnrollment({ status: 'completed', learner: { email: 'ada@contoso.example' } });
 * writeFileSync(path, toCsv([e, aWithdrawal({ enrollmentId: e.enrollmentId })]));
 * ```
 */
import { CANONICAL_FIELDS } from '../../src/lms/columnMap.js';
import type { Course, Enrollment, Learner, PersonRef, Withdrawal } from '../../src/mapping/enrollment.js';

export type EnrollmentOverrides = Partial<Omit<Enrollment, 'learner' | 'course' | 'assigner'>> & {
  readonly learner?: Partial<Learner>;
  readonly course?: Partial<Course>;
  readonly assigner?: PersonRef;
};

let sequence = 0;

/** A distinct number for each call, so builders make distinct ids unless told otherwise. */
function next(): number {
  sequence += 1;
  return sequence;
}

export function aLearner(overrides: Partial<Learner> = {}): Learner {
  return {
    id: 'u1001',
    email: 'megan.bowen@contoso.example',
    upn: 'megan.bowen@contoso.example',
    ...overrides,
  };
}

export function aCourse(overrides: Partial<Course> = {}): Course {
  return {
    id: 'c-sec-101',
    title: 'Security Awareness Essentials',
    url: 'https://learning.contoso.example/courses/sec-101',
    description: 'Phishing, passwords and safe browsing.',
    language: 'en-US',
    durationMinutes: 45,
    ...overrides,
  };
}

/**
 * An assigned, required, in-progress enrollment, updated at 2026-11-01T10:00:00.000Z unless
 * overridden. `learner` and `course` overrides are merged into the defaults; setting a key
 * to undefined removes it (e.g. `{ assignmentType: undefined }` with `source: 'selfInitiated'`).
 */
export function anEnrollment(overrides: EnrollmentOverrides = {}): Enrollment {
  const n = next();
  const { learner, course, ...rest } = overrides;
  const source = rest.source ?? 'assigned';
  const enrollment = {
    enrollmentId: `e-${String(n).padStart(5, '0')}`,
    learner: aLearner(learner),
    course: aCourse(course),
    source,
    ...(source === 'assigned'
      ? {
          assignmentType: 'required' as const,
          assigner: { upn: 'adele.vance@contoso.example' },
          assignedAt: '2026-10-01T09:00:00.000Z',
          dueAt: '2026-11-30T00:00:00.000Z',
        }
      : {}),
    startedAt: '2026-10-02T09:00:00.000Z',
    status: 'inProgress' as const,
    progressPercent: 40,
    updatedAt: '2026-11-01T10:00:00.000Z',
    ...rest,
  };
  return dropUndefined(enrollment) as Enrollment;
}

/** A completed self-initiated enrollment. */
export function aSelfInitiatedEnrollment(overrides: EnrollmentOverrides = {}): Enrollment {
  return anEnrollment({ source: 'selfInitiated', status: 'completed', progressPercent: 100, completedAt: '2026-10-20T15:00:00.000Z', updatedAt: '2026-10-20T15:00:00.000Z', ...overrides });
}

export function aWithdrawal(overrides: Partial<Omit<Withdrawal, 'deleted'>> = {}): Withdrawal {
  return {
    enrollmentId: overrides.enrollmentId ?? `e-${String(next()).padStart(5, '0')}`,
    updatedAt: overrides.updatedAt ?? '2026-11-02T10:00:00.000Z',
    deleted: true,
  };
}

function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** One JSON object per line, each line ending with a newline. Accepts any objects, so tests can write bad records too. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/** The canonical CSV column order (that of the canonical fields); columns not listed here follow in the order first seen. */
export const CSV_COLUMNS = CANONICAL_FIELDS;

/** Nested objects become dotted keys: `{ learner: { id } }` -> `{ 'learner.id': id }`. */
export function flattenRecord(record: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof record !== 'object' || record === null) return out;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) out[`${key}.${inner}`] = innerValue;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Quotes a field when it holds a comma, a quote, a line break or edge spaces (RFC 4180). */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value as number | boolean);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvOptions {
  /** The header; default: the canonical columns any record uses, in canonical order. */
  readonly columns?: readonly string[];
  readonly eol?: '\n' | '\r\n';
  readonly bom?: boolean;
}

/** A CSV with a header row naming the (dotted) canonical fields, and one row per record. */
export function toCsv(records: readonly unknown[], options: CsvOptions = {}): string {
  const rows = records.map(flattenRecord);
  let columns = options.columns;
  if (columns === undefined) {
    const used = new Set(rows.flatMap((row) => Object.keys(row)));
    const known: readonly string[] = CSV_COLUMNS;
    columns = [...CSV_COLUMNS.filter((c) => used.has(c)), ...[...used].filter((c) => !known.includes(c))];
  }
  const eol = options.eol ?? '\n';
  const lines = [columns.map(csvField).join(','), ...rows.map((row) => columns.map((c) => csvField(row[c])).join(','))];
  return `${options.bom === true ? '\uFEFF' : ''}${lines.map((line) => `${line}${eol}`).join('')}`;
}
