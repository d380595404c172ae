/**
 * Cursors and continuation tokens of the adapters that list in passes (Canvas, Moodle): a
 * cursor is small versioned JSON, opaque to the engine; a continuation token is its base64.
 * A cursor that cannot be read (another adapter's, or garbage) starts from scratch rather
 * than failing; a continuation token that cannot be read is refused (a TypeError).
 */

/** The states every pass cursor has: no pass yet, pass T complete, pass T read every course up to id `course`. */
export type PassCursorBase =
  | { readonly kind: 'start' }
  | { readonly kind: 'done'; readonly pass: string }
  | { readonly kind: 'after'; readonly pass: string; readonly course: number };

export interface PassCursorCodec<C, S extends C> {
  /** The stored cursor → the adapter's cursor; `start` when absent or unreadable. */
  readonly parse: (cursor: string | undefined) => C;
  readonly encodeToken: (cursor: S) => string;
  readonly decodeToken: (token: string) => C;
}

/**
 * `adapter` names the adapter in messages ("Canvas"); `format` writes a cursor as JSON;
 * `fromJson` reads one back, returning `start` for anything it does not recognise.
 */
export function passCursorCodec<C extends { readonly kind: string }, S extends C>(adapter: string, format: (cursor: S) => string, fromJson: (json: Record<string, unknown>) => C, start: C): PassCursorCodec<C, S> {
  return {
    parse: (cursor) => {
      try {
        const json = cursor === undefined ? undefined : parseJsonObject(cursor);
        return json === undefined ? start : fromJson(json);
      } catch {
        return start;
      }
    },
    encodeToken: (cursor) => Buffer.from(format(cursor), 'utf8').toString('base64'),
    decodeToken: (token) => {
      const what = `continuationToken (${adapter.toLowerCase()})`;
      let json: Record<string, unknown> | undefined;
      try {
        json = parseJsonObject(Buffer.from(token, 'base64').toString('utf8'));
      } catch {
        throw new TypeError(`${what} is not base64 JSON`);
      }
      if (json === undefined) throw new TypeError(`${what} is not a JSON object`);
      const parsed = fromJson(json);
      if (parsed.kind === start.kind) throw new TypeError(`continuationToken is not a ${adapter} adapter token`);
      return parsed;
    },
  };
}

/** A JSON object, or undefined for other JSON; throws on text that is not JSON. */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const json = JSON.parse(text) as unknown;
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}
