/**
 * A column map (the LMS_MAPPING_PATH setting) turns a vendor export into the canonical
 * format: which vendor column feeds each canonical field, how vendor words translate into
 * canonical values, and defaults for fields the export leaves out. For example:
 *
 * ```json
 * {
 *   "columns": { "enrollmentId": "Enrollment ID", "learner.email": "Email", "course.id": "Course Code" },
 *   "values": { "status": { "Completed": "completed", "In Progress": "inProgress" } },
 *   "defaults": { "source": "assigned", "assignmentType": "required" }
 * }
 * ```
 *
 * It is applied to each CSV row (or each JSONL object's top-level keys) before the row is
 * nested and validated by `parseEnrollment`. Canonical columns the map does not mention
 * pass through unchanged; other vendor columns are dropped.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';

/** Every field of the canonical enrollment, nested ones dotted (DESIGN.md, "The canonical enrollment"). */
export const CANONICAL_FIELDS = [
  'enrollmentId',
  'learner.id',
  'learner.email',
  'learner.upn',
  'learner.employeeId',
  'learner.entraObjectId',
  'course.id',
  'course.title',
  'course.url',
  'course.description',
  'course.language',
  'course.durationMinutes',
  'course.thumbnailUrl',
  'source',
  'assignmentType',
  'assigner.id',
  'assigner.email',
  'assigner.upn',
  'assigner.employeeId',
  'assigner.entraObjectId',
  'assignedAt',
  'dueAt',
  'startedAt',
  'completedAt',
  'status',
  'progressPercent',
  'updatedAt',
  'deleted',
] as const;

export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

const CANONICAL_SET: ReadonlySet<string> = new Set(CANONICAL_FIELDS);
/** The objects that hold nested fields: a JSONL object may carry them whole. */
const CONTAINERS: ReadonlySet<string> = new Set(['learner', 'course', 'assigner']);

/** Values a vocabulary field accepts; a map that translates into anything else is refused at start. */
const ALLOWED_VALUES: Partial<Record<CanonicalField, readonly string[]>> = {
  source: ['assigned', 'selfInitiated'],
  assignmentType: ['required', 'recommended'],
  status: ['notStarted', 'inProgress', 'completed'],
  deleted: ['true', 'false', '1', '0', 'yes', 'no'],
};

/** Identity and change time are data, not vocabularies: they take no value table and no default. */
const NO_VALUES_OR_DEFAULT: ReadonlySet<string> = new Set(['enrollmentId', 'updatedAt']);

export function isCanonicalField(name: string): name is CanonicalField {
  return CANONICAL_SET.has(name);
}

export interface ColumnMap {
  /** canonical field -> vendor column */
  readonly columns: ReadonlyMap<CanonicalField, string>;
  /** canonical field -> (vendor value -> canonical value) */
  readonly values: ReadonlyMap<CanonicalField, ReadonlyMap<string, string>>;
  /** canonical field -> value used when the row leaves the field blank */
  readonly defaults: ReadonlyMap<CanonicalField, string>;
}

const SETTING = 'LMS_MAPPING_PATH';

function mapError(source: string, problems: readonly string[]): ConfigError {
  return new ConfigError([{ setting: SETTING, problem: `(${source}): ${problems.join('; ')}` }]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and validates the column map file; throws a ConfigError naming LMS_MAPPING_PATH. */
export function loadColumnMap(path: string): ColumnMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? `file "${path}" does not exist` : `file "${path}" cannot be read (${code ?? String(err)})`;
    throw new ConfigError([{ setting: SETTING, problem }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw mapError(path, [`is not valid JSON (${(err as Error).message})`]);
  }
  return parseColumnMap(json, path);
}

/**
 * Validates a parsed column map: only canonical field names, string values, and canonical
 * words for the vocabulary fields. Every problem is named in one ConfigError.
 */
export function parseColumnMap(json: unknown, source = 'column map'): ColumnMap {
  const problems: string[] = [];
  const columns = new Map<CanonicalField, string>();
  const values = new Map<CanonicalField, Map<string, string>>();
  const defaults = new Map<CanonicalField, string>();
  if (!isPlainObject(json)) throw mapError(source, ['must be a JSON object with "columns", "values" and "defaults"']);

  for (const key of Object.keys(json)) {
    if (!['columns', 'values', 'defaults', 'description', '$schema'].includes(key)) {
      problems.push(`unknown key "${key}" (expected columns, values, defaults)`);
    }
  }
  const section = (name: string): Record<string, unknown> | undefined => {
    const value = json[name];
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      problems.push(`${name} must be an object`);
      return undefined;
    }
    return value;
  };
  const canonical = (sectionName: string, field: string): field is CanonicalField => {
    if (isCanonicalField(field)) return true;
    problems.push(`${sectionName}: "${field}" is not a canonical field (expected one of ${CANONICAL_FIELDS.join(', ')})`);
    return false;
  };
  const checkAllowed = (where: string, field: CanonicalField, value: string): void => {
    const allowed = ALLOWED_VALUES[field];
    const word = field === 'deleted' ? value.trim().toLowerCase() : value.trim();
    if (allowed !== undefined && word !== '' && !allowed.includes(word)) {
      problems.push(`${where} is "${value}", which is not one of ${allowed.join(', ')}`);
    }
  };

  for (const [field, vendor] of Object.entries(section('columns') ?? {})) {
    if (!canonical('columns', field)) continue;
    if (typeof vendor !== 'string' || vendor.trim() === '') {
      problems.push(`columns."${field}" must be a non-empty string (the vendor column's name)`);
      continue;
    }
    columns.set(field, vendor.trim());
  }
  for (const [field, table] of Object.entries(section('values') ?? {})) {
    if (!canonical('values', field)) continue;
    if (NO_VALUES_OR_DEFAULT.has(field)) {
      problems.push(`values."${field}" is not allowed (${field} is data, not a vocabulary)`);
      continue;
    }
    if (!isPlainObject(table)) {
      problems.push(`values."${field}" must be an object of vendor value -> canonical value`);
      continue;
    }
    const entries = new Map<string, string>();
    for (const [from, to] of Object.entries(table)) {
      if (typeof to !== 'string') {
        problems.push(`values."${field}"."${from}" must be a string`);
        continue;
      }
      checkAllowed(`values."${field}"."${from}"`, field, to);
      entries.set(from.trim(), to);
    }
    values.set(field, entries);
  }
  for (const [field, value] of Object.entries(section('defaults') ?? {})) {
    if (!canonical('defaults', field)) continue;
    if (NO_VALUES_OR_DEFAULT.has(field)) {
      problems.push(`defaults."${field}" is not allowed (${field} is data, not a default)`);
      continue;
    }
    if (typeof value !== 'string') {
      problems.push(`defaults."${field}" must be a string`);
      continue;
    }
    checkAllowed(`defaults."${field}"`, field, value);
    defaults.set(field, value);
  }
  if (problems.length > 0) throw mapError(source, problems);
  return { columns, values, defaults };
}

/** The key a canonical field is read from in a source row: its mapped vendor column, or its own name. */
export function sourceColumn(map: ColumnMap | undefined, field: CanonicalField): string {
  return map?.columns.get(field) ?? field;
}

/**
 * The vendor columns the map needs that a CSV header lacks, as readable problems; empty
 * when every mapped column is present.
 */
export function missingColumns(map: ColumnMap, header: readonly string[]): string[] {
  const present = new Set(header);
  const missing: string[] = [];
  for (const [field, vendor] of map.columns) {
    if (!present.has(vendor)) missing.push(`column "${vendor}" (for ${field})`);
  }
  return missing;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function translate(table: ReadonlyMap<string, string>, value: unknown): unknown {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return value;
  const key = String(value).trim();
  const exact = table.get(key);
  if (exact !== undefined) return exact;
  const lowered = key.toLowerCase();
  for (const [from, to] of table) {
    if (from.toLowerCase() === lowered) return to;
  }
  return value;
}

/**
 * Applies the map to one flat row (a CSV row by header name, or a JSONL object's top-level
 * keys). Returns a flat row keyed by canonical names, nested ones still dotted: mapped
 * columns, then the row's own canonical columns (and, for JSONL, whole `learner`/`course`/
 * `assigner` objects) that the map does not map, then values translated, then defaults
 * for blank fields.
 */
export function applyColumnMap<V>(map: ColumnMap, row: Readonly<Record<string, V>>): Record<string, V | string> {
  const out: Record<string, V | string> = {};
  for (const [field, vendor] of map.columns) {
    if (Object.hasOwn(row, vendor)) out[field] = row[vendor] as V;
  }
  for (const [key, value] of Object.entries(row)) {
    if ((isCanonicalField(key) && !map.columns.has(key)) || CONTAINERS.has(key)) {
      if (!Object.hasOwn(out, key)) out[key] = value;
    }
  }
  for (const [field, table] of map.values) {
    if (Object.hasOwn(out, field)) out[field] = translate(table, out[field]) as V | string;
  }
  for (const [field, value] of map.defaults) {
    if (isBlank(out[field]) && isBlank(nestedValue(out, field))) out[field] = value;
  }
  return out;
}

/** `learner.id` read from a whole `learner` object, as a JSONL object may carry it. */
function nestedValue(row: Readonly<Record<string, unknown>>, field: string): unknown {
  const dot = field.indexOf('.');
  if (dot < 0) return undefined;
  const container = row[field.slice(0, dot)];
  return isPlainObject(container) ? container[field.slice(dot + 1)] : undefined;
}

/**
 * Nests a JSONL object's dotted top-level keys (`learner.email`) into their objects, merging
 * into an object of that name when there is one. (CSV rows, whose values are all strings,
 * go through `unflattenRow` instead.)
 */
export function nestDottedKeys(row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (!key.includes('.')) out[key] = isPlainObject(value) ? { ...value } : value;
  }
  for (const [key, value] of Object.entries(row)) {
    const dot = key.indexOf('.');
    if (dot < 0) continue;
    const head = key.slice(0, dot);
    let container = out[head];
    if (!isPlainObject(container)) {
      container = {};
      out[head] = container;
    }
    (container as Record<string, unknown>)[key.slice(dot + 1)] = value;
  }
  return out;
}
