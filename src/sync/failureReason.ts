/**
 * The one line a failed run keeps in the run history (and shows in `viva-sync runs`, the status
 * report and the timer's failed invocation): the error's first line, without what could be a
 * secret. Error messages from HTTP clients and storage SDKs can quote URLs with credentials or
 * SAS query strings, and request headers.
 */
const MAX_REASON_LENGTH = 300;

export function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
  const named = err instanceof Error && err.name !== 'Error' ? `${err.name}: ${line}` : line;
  const safe = redactSecrets(named);
  return safe.length > MAX_REASON_LENGTH ? `${safe.slice(0, MAX_REASON_LENGTH - 1)}…` : safe;
}

export function redactSecrets(text: string): string {
  return (
    text
      // user:password@ in a URL
      .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1[redacted]@')
      // a URL's query string (SAS signatures, access tokens, API keys)
      .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"']*)\?[^\s#"']*/gi, '$1?[redacted]')
      // Authorization: Bearer xyz, Basic xyz
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 [redacted]')
      // key=value and key: value pairs whose name says secret
      .replace(/\b([A-Za-z_]*(?:secret|password|passwd|token|apikey|api_key|accountkey|sig|signature|sharedaccesssignature|key)[A-Za-z_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;,&"']+)/gi, '$1$2[redacted]')
  );
}
