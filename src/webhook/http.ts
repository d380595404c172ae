/**
 * The HTTP shapes the core works with, free of `@azure/functions`: the function files turn
 * their `HttpRequest` into an `HttpLikeRequest` and return the `HttpResult` as it is (it is a
 * valid `HttpResponseInit`).
 */
import type { HeaderSource } from './signature.js';

export interface HttpLikeRequest {
  readonly method: string;
  readonly headers: HeaderSource;
  /** The body exactly as received; empty for GET. */
  readonly rawBody: Uint8Array;
  /** Route parameters (`{runId}`), when the route has any. */
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly query?: { get(name: string): string | null };
  /** True when the body was longer than the limit and was not read. */
  readonly bodyTooLarge?: boolean;
}

export interface HttpResult {
  readonly status: number;
  readonly jsonBody: unknown;
  /** A text body (an HTML page), sent when `jsonBody` is undefined. */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The subset of a Fetch-style request (the Functions `HttpRequest`, undici's `Request`) read here. */
export interface FetchLikeRequest {
  readonly method: string;
  readonly headers: HeaderSource;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Reads a request's body, refusing to read one whose declared length is over `maxBytes`. */
export async function toHttpLike(request: FetchLikeRequest, maxBytes: number): Promise<HttpLikeRequest> {
  const base = {
    method: request.method.toUpperCase(),
    headers: request.headers,
    ...(request.params !== undefined ? { params: request.params } : {}),
    ...(request.query !== undefined ? { query: request.query } : {}),
  };
  const declared = Number(request.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > maxBytes) return { ...base, rawBody: new Uint8Array(), bodyTooLarge: true };
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) return { ...base, rawBody: new Uint8Array(), bodyTooLarge: true };
  return { ...base, rawBody: bytes };
}

export function json(status: number, jsonBody: unknown, headers?: Readonly<Record<string, string>>): HttpResult {
  return { status, jsonBody, ...(headers !== undefined ? { headers } : {}) };
}

/** An error answer: a short code and a one-line reason. */
export function problem(status: number, error: string, reason: string, headers?: Readonly<Record<string, string>>): HttpResult {
  return json(status, { error, reason: reason.replace(/\s*\n\s*/g, ' ') }, headers);
}

export function methodNotAllowed(allowed: readonly string[]): HttpResult {
  return problem(405, 'methodNotAllowed', `use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
}

export function tooLarge(maxBytes: number): HttpResult {
  return problem(413, 'payloadTooLarge', `the body is larger than ${maxBytes} bytes`);
}

/** Decodes the body as UTF-8 text (invalid sequences become U+FFFD, so a signature over them fails). */
export function bodyText(request: HttpLikeRequest): string {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(request.rawBody);
}
