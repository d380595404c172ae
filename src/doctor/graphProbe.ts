import type { Config } from '../config/loadConfig.js';

export interface GraphAnswer {
  readonly status: number;
  /** Parsed JSON body, or undefined. */
  readonly body: unknown;
  /** Graph's `Date` header in epoch ms, when sent. */
  readonly dateMs: number | undefined;
  /** Graph's error code and message, for a refusal. */
  readonly code: string;
  readonly message: string;
}

/**
 * One plain GET to Graph with the app's token, for what the gateway does not read (a provider,
 * a content read-back) and for the `Date` header. No retries: the doctor reports what it sees.
 */
export async function graphGet(config: Config, token: string, path: string, abortSignal?: AbortSignal): Promise<GraphAnswer> {
  const url = `${config.graph.baseUrl}/${config.graph.apiVersion}${path}`;
  const timeout = AbortSignal.timeout(config.graph.requestTimeoutSeconds * 1000);
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: abortSignal === undefined ? timeout : AbortSignal.any([abortSignal, timeout]),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : {};
  const date = response.headers.get('date');
  const dateMs = date === null ? undefined : Date.parse(date);
  return {
    status: response.status,
    body,
    dateMs: dateMs === undefined || Number.isNaN(dateMs) ? undefined : dateMs,
    code: typeof error['code'] === 'string' ? error['code'] : '',
    message: typeof error['message'] === 'string' ? error['message'] : text.slice(0, 200),
  };
}
