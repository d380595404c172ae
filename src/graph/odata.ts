/**
 * The one place ids enter Graph URLs, and the one transformation of LMS ids on their way to
 * Graph (docs/graph-contract.md, "Keys and ids").
 *
 * LMS ids are opaque and may hold ', /, #, ?, %, :, spaces and non-ASCII. Graph percent-decodes a
 * request path once and then splits it on '/', so an encoded slash (%2F) inside a key segment is
 * taken as a path separator: 400 "Resource not found for the segment …" (RequestBroker--ParseUri;
 * microsoftgraph/microsoft-graph-docs#10167 = docs-contrib#4470). Double encoding (%252F) is a
 * reported workaround on other workloads, but the service would then have to decode twice,
 * which is not documented for Viva Learning and would corrupt ids holding "%XX". So an id with a
 * '/' is sent in a documented, stable, reversible form instead (toGraphExternalId); every other
 * id is sent exactly as before this transformation existed, so what is already synced keeps its key.
 */

/** Marks an id sent in the escaped form. An LMS id that itself starts with it is escaped too (so the map is one-to-one). */
export const ESCAPED_ID_MARKER = '~~';
const NEEDS_ESCAPING = /\//;
const ESCAPES: Readonly<Record<string, string>> = { '~': '~7E', '/': '~2F' };
const UNESCAPES: Readonly<Record<string, string>> = { '~7E': '~', '~2F': '/' };

/**
 * The value of `externalId` / `externalCourseActivityId` Graph stores for an LMS id, used both in
 * the key segment and in the body. Unchanged unless the id contains '/' or starts with "~~";
 * then "~~" followed by the id with '~' written "~7E" and '/' written "~2F":
 * "course/101" → "~~course~2F101", "a~b/c" → "~~a~7Eb~2Fc".
 */
export function toGraphExternalId(id: string): string {
  if (!NEEDS_ESCAPING.test(id) && !id.startsWith(ESCAPED_ID_MARKER)) return id;
  return ESCAPED_ID_MARKER + id.replace(/[~/]/g, (c) => ESCAPES[c] ?? c);
}

/** The LMS id back from a value Graph stores (the inverse of toGraphExternalId). */
export function fromGraphExternalId(value: string): string {
  if (!value.startsWith(ESCAPED_ID_MARKER)) return value;
  return value.slice(ESCAPED_ID_MARKER.length).replace(/~7E|~2F/g, (e) => UNESCAPES[e] ?? e);
}

/**
 * An OData string key literal for a URL: quoted, ' doubled, then percent-encoded as the SDKs
 * encode path parameters (encodeURIComponent; the quotes stay literal, as in every documented
 * example). Pass a value already in Graph's form (toGraphExternalId); externalIdKey does both.
 */
export function odataKey(value: string): string {
  return encodeURIComponent(`'${value.replace(/'/g, "''")}'`);
}

/** The key segment value for an LMS id: `(externalId=${externalIdKey(id)})`. */
export function externalIdKey(id: string): string {
  return odataKey(toGraphExternalId(id));
}

/** A Graph-generated id (which may contain ':') as a path segment. */
export function pathId(value: string): string {
  return encodeURIComponent(value);
}

/** A string literal inside $filter: quoted and escaped, to be placed in a URLSearchParams value. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
