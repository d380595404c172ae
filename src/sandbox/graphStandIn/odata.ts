/** Small OData helpers: key segments, literals and value formats. No I/O. */

import { createHash } from 'node:crypto';

/** A decoded path segment, possibly with a key: `name`, `name('v')` or `name(key='v')`. */
export interface Segment {
  /** The decoded segment. */
  text: string;
  /** Name before '(' (the whole segment when it has no key). */
  name: string;
  /** Present when the segment carries a key. */
  key?: { name: string | undefined; value: string };
}

/**
 * Splits a raw path (after the version segment) into segments the way Graph does: the path is
 * percent-decoded ONCE and then split on '/'. So an encoded slash (%2F) inside a key is a path
 * separator, as Graph answers it ("Resource not found for the segment …", 400
 * RequestBroker--ParseUri; microsoftgraph/microsoft-graph-docs#10167 and docs-contrib#4470), and
 * nothing is decoded a second time (%2527 stays %27 in the key). Every other character (', #, ?,
 * %, :, space, non-ASCII) arrives in the key as sent once encoded. Undefined when the path is
 * not valid percent-encoding.
 */
export function splitPath(rawPath: string): Segment[] | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  return decoded
    .split('/')
    .filter((p) => p.length > 0)
    .map((text) => parseSegment(text));
}

const KEYED = /^([^()]+)\((.*)\)$/s;
const NAMED_KEY = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/s;

function parseSegment(text: string): Segment {
  const m = KEYED.exec(text);
  if (!m) return { text, name: text };
  const name = m[1] ?? '';
  const inner = m[2] ?? '';
  const named = NAMED_KEY.exec(inner);
  if (named) {
    return { text, name, key: { name: named[1], value: unquote(named[2] ?? '') } };
  }
  return { text, name, key: { name: undefined, value: unquote(inner) } };
}

/**
 * An OData key literal: quoted strings have '' as an escaped quote; the older documentation
 * revisions wrote the key unquoted, which is taken verbatim.
 */
export function unquote(literal: string): string {
  const s = literal.trim();
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) {
    return s.slice(1, -1).replace(/''/g, "'");
  }
  return s;
}

/** Case-insensitive name comparison (Graph's URL parser is case-insensitive for names). */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Value formats
// ---------------------------------------------------------------------------------------------

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Edm.DateTimeOffset as Graph accepts it: ISO 8601 date and time, with an optional offset (the
 * documented learningContent upsert sends "2018-01-01T00:00:00" without one and is accepted), up
 * to 7 fractional digits as .NET writes them. The calendar date and clock must be real.
 */
export function isDateTimeOffset(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return false;
  const offset = m[8];
  if (offset && offset !== 'Z') {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 14 || om > 59) return false;
  }
  return true;
}

/** dateTimeTimeZone.dateTime: "{date}T{time}", e.g. 2022-09-22T16:05:00.0000000 (offset tolerated). */
export function isLocalDateTime(value: string): boolean {
  return isDateTimeOffset(value);
}

const DURATION = /^P(?!$)(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

/**
 * Edm.Duration: OData's duration literal is xsd:dayTimeDuration (days and time; no years or
 * months), e.g. "PT20M", "P1DT2H", "PT1.5S".
 */
export function isEdmDuration(value: string): boolean {
  return DURATION.test(value);
}

export function isInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
}

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

const CONTENT_ID_NAMESPACE = 'viva-learning-sync/graph-stand-in/learningContent';

/** A name-based (v5-style) GUID: the same provider and externalId always give the same Viva id. */
export function stableContentId(providerId: string, externalId: string): string {
  const h = createHash('sha1').update(CONTENT_ID_NAMESPACE).update('\u0000').update(providerId.toLowerCase()).update('\u0000').update(externalId).digest();
  const b = Buffer.from(h.subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Query options
// ---------------------------------------------------------------------------------------------

/** Splits `$select=a,b` into trimmed names; undefined when absent. */
export function parseSelect(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** One `$filter` clause `prop eq 'value'` (the only form the stand-in supports). */
export interface EqFilter {
  property: string;
  operator: string;
  value: string | undefined;
}

const FILTER = /^\s*([A-Za-z_][A-Za-z0-9_/]*)\s+([A-Za-z]+)\s+(?:'((?:[^']|'')*)'|(\S+))\s*$/;

/** Parses `prop op 'literal'`; undefined when the filter has another shape. */
export function parseSimpleFilter(filter: string): EqFilter | undefined {
  const m = FILTER.exec(filter);
  if (!m) return undefined;
  const quoted = m[3];
  return {
    property: m[1] ?? '',
    operator: (m[2] ?? '').toLowerCase(),
    value: quoted !== undefined ? quoted.replace(/''/g, "'") : undefined,
  };
}
