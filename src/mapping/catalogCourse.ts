/**
 * A course as the LMS catalog lists it (DESIGN.md, "The course catalog"): the `file`
 * adapter's LMS_CATALOG_PATH format and what every adapter that can list courses yields.
 * `parseCatalogCourse` is the gate every catalog row passes; it never throws.
 */
import { normalizeDateTime, type Course } from './enrollment.js';

/** graph.level (graph-learning-csdl.xml), without the service's `unknownFutureValue`. */
export type ContentLevel = 'beginner' | 'intermediate' | 'advanced';
export const CONTENT_LEVELS: readonly ContentLevel[] = ['beginner', 'intermediate', 'advanced'];

export interface CatalogCourse extends Course {
  /** False: retired, concluded, hidden or deleted in the LMS; the content is upserted with isActive false. */
  readonly active: boolean;
  /** The catalog's change cursor (ISO 8601, normalised), when the LMS has one. */
  readonly updatedAt?: string;
  /** Instructors and authors → learningContent.contributors. */
  readonly contributors?: readonly string[];
  /** Tags and categories → learningContent.additionalTags. */
  readonly additionalTags?: readonly string[];
  /** Skills → learningContent.skillTags. */
  readonly skillTags?: readonly string[];
  /** learningContent.format, e.g. Course, Video, Book. */
  readonly format?: string;
  readonly level?: ContentLevel;
}

export type CatalogParseResult =
  | { readonly ok: true; readonly course: CatalogCourse }
  | { readonly ok: false; readonly reason: string; readonly id?: string };

const MAX_ID_LENGTH = 400;
const MAX_TAGS = 100;
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads catalog fields into `reasons` (every broken rule) and typed values. */
class FieldReader {
  readonly reasons: string[] = [];

  constructor(private readonly raw: Record<string, unknown>) {}

  string(field: string, required = false): string | undefined {
    const value = this.raw[field];
    if (!present(value)) {
      if (required) this.reasons.push(`${field} is required`);
      return undefined;
    }
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') {
      this.reasons.push(`${field} must be a string`);
      return undefined;
    }
    return value.trim();
  }

  id(field: string): string | undefined {
    const value = this.string(field, true);
    if (value === undefined) return undefined;
    if (value.length > MAX_ID_LENGTH) this.reasons.push(`${field} is longer than ${MAX_ID_LENGTH} characters`);
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) this.reasons.push(`${field} contains control characters`);
    else return value;
    return undefined;
  }

  url(field: string, required = false): string | undefined {
    const value = this.string(field, required);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value;
    } catch {
      // reported below
    }
    this.reasons.push(`${field} "${value}" is not an http(s) URL`);
    return undefined;
  }

  integer(field: string, min: number, max: number): number | undefined {
    const raw = this.raw[field];
    if (!present(raw)) return undefined;
    const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.reasons.push(`${field} ${JSON.stringify(raw)} is not an integer in ${min}..${max}`);
      return undefined;
    }
    return value;
  }

  boolean(field: string): boolean | undefined {
    const raw = this.raw[field];
    if (!present(raw)) return undefined;
    if (typeof raw === 'boolean') return raw;
    const lowered = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    if (['true', '1', 'yes'].includes(lowered)) return true;
    if (['false', '0', 'no'].includes(lowered)) return false;
    this.reasons.push(`${field} ${JSON.stringify(raw)} is not a boolean`);
    return undefined;
  }

  date(field: string): string | undefined {
    const value = this.string(field);
    if (value === undefined) return undefined;
    const normalized = normalizeDateTime(value);
    if (normalized === undefined) this.reasons.push(`${field} "${value}" is not an ISO 8601 date-time`);
    return normalized;
  }

  /** A JSON array of strings, or (CSV) one string of values separated by `;` or `|`. */
  list(field: string): string[] | undefined {
    const raw = this.raw[field];
    if (!present(raw)) return undefined;
    const values = typeof raw === 'string' ? raw.split(/[;|]/) : Array.isArray(raw) && raw.every((v) => typeof v === 'string') ? (raw as string[]) : undefined;
    if (values === undefined) {
      this.reasons.push(`${field} must be an array of strings, or a string of values separated by ";"`);
      return undefined;
    }
    // Order kept, blanks and repeats dropped: the fingerprint then changes only when the set does.
    const cleaned = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
    if (cleaned.length > MAX_TAGS) this.reasons.push(`${field} has ${cleaned.length} values, more than ${MAX_TAGS}`);
    return cleaned.length === 0 || cleaned.length > MAX_TAGS ? undefined : cleaned;
  }
}

/**
 * Validates one catalog row (a parsed JSON line, or a CSV row as an object of strings).
 * Every rule broken is named in `reason`.
 */
export function parseCatalogCourse(raw: unknown): CatalogParseResult {
  if (!isRecord(raw)) return { ok: false, reason: 'record is not a JSON object' };
  const r = new FieldReader(raw);
  const id = r.id('id');
  const title = r.string('title', true);
  const url = r.url('url', true);
  const description = r.string('description');
  const language = r.string('language');
  if (language !== undefined && !LANGUAGE_TAG.test(language)) r.reasons.push(`language "${language}" is not a language tag such as en-US`);
  const durationMinutes = r.integer('durationMinutes', 0, 100_000);
  const thumbnailUrl = r.url('thumbnailUrl');
  const active = r.boolean('active') ?? true;
  const updatedAt = r.date('updatedAt');
  const contributors = r.list('contributors');
  const additionalTags = r.list('additionalTags');
  const skillTags = r.list('skillTags');
  const format = r.string('format');
  const levelText = r.string('level');
  const level = levelText === undefined ? undefined : CONTENT_LEVELS.find((l) => l === levelText.toLowerCase());
  if (levelText !== undefined && level === undefined) r.reasons.push(`level "${levelText}" is not one of ${CONTENT_LEVELS.join(', ')}`);
  if (r.reasons.length > 0 || id === undefined || title === undefined || url === undefined) {
    return { ok: false, reason: r.reasons.join('; ') || 'record is incomplete', ...(id !== undefined ? { id } : {}) };
  }
  const course: CatalogCourse = {
    id,
    title,
    url,
    active,
    ...(description !== undefined ? { description } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(durationMinutes !== undefined ? { durationMinutes } : {}),
    ...(thumbnailUrl !== undefined ? { thumbnailUrl } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
    ...(contributors !== undefined ? { contributors } : {}),
    ...(additionalTags !== undefined ? { additionalTags } : {}),
    ...(skillTags !== undefined ? { skillTags } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(level !== undefined ? { level } : {}),
  };
  return { ok: true, course };
}
