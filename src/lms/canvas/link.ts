/**
 * RFC 8288 `Link` headers as Canvas sends them: `<url>; rel="current",<url>; rel="next",…`.
 * The links are opaque (Canvas may use bookmarks, not page numbers): they are followed as
 * given, never built, and only when they stay under LMS_BASE_URL, so that the token is
 * never sent to another host.
 */

/** rel → URL; the first link of each rel wins. */
export function parseLinkHeader(header: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (header === null || header === undefined) return links;
  // Split on commas that start a new <...> part (a URL may itself contain commas).
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/s.exec(part);
    if (match === null) continue;
    const url = match[1] ?? '';
    const params = match[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').split(/\s+/).filter((r) => r !== '');
    for (const name of rels) if (!links.has(name.toLowerCase())) links.set(name.toLowerCase(), url);
  }
  return links;
}

/** True when `link` is an http(s) URL on the same origin as `base` and under its path. */
export function isUnder(base: string, link: string): boolean {
  try {
    const b = new URL(base);
    const l = new URL(link);
    const basePath = b.pathname.replace(/\/+$/, '');
    return l.origin === b.origin && (l.pathname === basePath || l.pathname.startsWith(`${basePath}/`));
  } catch {
    return false;
  }
}
