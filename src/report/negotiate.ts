/**
 * Which form of the status report a caller wants, from its Accept header (RFC 9110 §12.5.1,
 * q-values): HTML when it ranks text/html above application/json, as browsers do; JSON
 * otherwise, so that scripts, curl (`*\/*`) and callers sending no Accept keep the JSON answer
 * GET /api/status has always given.
 */
export type ReportForm = 'html' | 'json';

export function preferredForm(accept: string | null | undefined): ReportForm {
  if (accept === null || accept === undefined || accept.trim() === '') return 'json';
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (range === 'text/html' || range === 'application/xhtml+xml') html = Math.max(html, q);
    if (range === 'application/json') json = Math.max(json, q);
  }
  return html > json ? 'html' : 'json';
}
