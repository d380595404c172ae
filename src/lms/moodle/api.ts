/**
 * Moodle Web Services, REST protocol (lms-source-apis.md §2.1): one endpoint,
 * `<site>/webservice/rest/server.php`, with `wstoken`, `wsfunction` and
 * `moodlewsrestformat=json`; the function's arguments as PHP-style form fields
 * (`options[0][name]=…`). Requests are POSTed, so the token is in the body and never in a
 * URL (web-server logs). Errors arrive as `{"exception","errorcode","message"}`, with HTTP
 * 200 on older servers and 4xx/5xx on newer ones: every body is checked for `exception`.
 */
import type { OperationOptions } from '../types.js';
import { fail, LmsHttpClient, parseJsonBody, retryAfterOf, WEB_SERVICE_TUNING, type LmsHttpTuning, type WebResponse } from '../http/lmsHttp.js';

export type MoodleApiOptions = LmsHttpTuning;

/** A function argument: scalars, arrays and objects, flattened PHP-style. */
export type MoodleParam = string | number | boolean | readonly MoodleParam[] | { readonly [key: string]: MoodleParam };

/** `{ options: [{ name: 'a', value: 1 }] }` → `options[0][name]=a&options[0][value]=1`. */
export function encodeMoodleParams(params: Readonly<Record<string, MoodleParam>>, into = new URLSearchParams()): URLSearchParams {
  const add = (key: string, value: MoodleParam): void => {
    if (Array.isArray(value)) (value as readonly MoodleParam[]).forEach((v, i) => add(`${key}[${i}]`, v));
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value as Record<string, MoodleParam>)) add(`${key}[${k}]`, v);
    else into.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  };
  for (const [key, value] of Object.entries(params)) add(key, value);
  return into;
}

export class MoodleApi {
  readonly client: LmsHttpClient;
  private readonly endpoint: URL;

  constructor(readonly baseUrl: string, private readonly token: string, options: MoodleApiOptions = {}) {
    this.endpoint = new URL(`${baseUrl}/webservice/rest/server.php`);
    this.client = new LmsHttpClient({ ...WEB_SERVICE_TUNING, ...options, system: 'moodle', origin: this.endpoint.origin, policy: { throttlesWaitFreely: true, redirect: 'manual' } });
  }

  /** Calls one web-service function and returns its JSON result. */
  async call(wsfunction: string, params: Readonly<Record<string, MoodleParam>> = {}, options: OperationOptions = {}): Promise<unknown> {
    const body = new URLSearchParams({ wstoken: this.token, wsfunction, moodlewsrestformat: 'json' });
    encodeMoodleParams(params, body);
    const request = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), operation: `moodle ${wsfunction}`, ...options } as const;
    return this.client.send(this.endpoint, request, (response) => interpretMoodle(response, wsfunction));
  }
}

/** Moodle error codes that mean the token (or what it may do) is the problem. */
const TOKEN_CODES = new Set(['invalidtoken', 'accessexception', 'servicerequireslogin', 'usernotfullysetup', 'invalidlogin']);
const PERMISSION_CODES = new Set(['nopermissions', 'requireloginerror', 'required_capability_exception', 'nopermission']);

/** One server.php response → the function's result, or the LmsRequestError it means. */
export function interpretMoodle(response: WebResponse, wsfunction: string): unknown {
  const { status, operation } = response;
  const base = { system: 'moodle' as const, statusCode: status, operation };
  if (status >= 300 && status < 400) return fail({ ...base, code: 'redirect', setting: 'LMS_BASE_URL', message: `Moodle redirected ${operation} (${status}); LMS_BASE_URL must be the site root that serves webservice/rest/server.php, reachable without a login page` });
  let body: unknown;
  try {
    body = parseJsonBody(response, 'moodle');
  } catch (err) {
    if (status >= 200 && status < 300) {
      // XML or HTML with 200: the REST protocol answered in another format, or a proxy page.
      // Not transient: a login page, a proxy's page, or the REST protocol answering in XML.
      if (/^\s*</.test(response.text)) return fail({ ...base, code: 'unexpectedBody', setting: 'LMS_BASE_URL', message: `${operation} returned XML or HTML instead of JSON (is the REST protocol enabled, and LMS_BASE_URL the site root reachable without a login page?)` });
      throw err;
    }
    body = undefined;
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && typeof (body as Record<string, unknown>)['exception'] === 'string') {
    const e = body as Record<string, unknown>;
    const code = typeof e['errorcode'] === 'string' ? e['errorcode'] : 'exception';
    const message = typeof e['message'] === 'string' ? e['message'] : String(e['exception']);
    const debug = typeof e['debuginfo'] === 'string' ? ` (${e['debuginfo'].trim().slice(0, 200)})` : '';
    const what = `${code}: ${message}${debug}`;
    if (code === 'invalidtoken') return fail({ ...base, code: 'unauthorized', setting: 'LMS_TOKEN', message: `Moodle refused LMS_TOKEN (${what}): the token is wrong or was deleted; create a new web-service token` });
    if (TOKEN_CODES.has(code)) {
      return fail({ ...base, code: 'unauthorized', setting: 'LMS_TOKEN', message: `Moodle refused LMS_TOKEN for ${wsfunction} (${what}): the token expired, is limited to other IP addresses, or its service lacks this function; see docs/adapters/moodle.md` });
    }
    if (PERMISSION_CODES.has(code)) return fail({ ...base, code: 'forbidden', setting: 'LMS_TOKEN', message: `The LMS_TOKEN user may not call ${wsfunction} (${what}); see docs/adapters/moodle.md for the capabilities it needs` });
    if (code === 'sitemaintenance') return fail({ ...base, statusCode: 503, code, message: `Moodle is in maintenance mode (${what})`, ...retryAfterOf(response) });
    return fail({ ...base, code, message: `${operation} failed (${what})` });
  }
  if (status === 429 || status >= 500) return fail({ ...base, code: status === 429 ? 'rateLimited' : 'http', message: `${operation}: HTTP ${status}`, ...retryAfterOf(response) });
  if (status === 404) return fail({ ...base, code: 'notFound', setting: 'LMS_BASE_URL', message: `${operation}: 404; LMS_BASE_URL must be the Moodle site root (it serves webservice/rest/server.php)` });
  if (status === 401 || status === 403) return fail({ ...base, code: 'forbidden', setting: 'LMS_TOKEN', message: `${operation}: HTTP ${status} (web services or the REST protocol may be disabled, or the token refused)` });
  if (status < 200 || status >= 300) return fail({ ...base, code: 'http', message: `${operation}: HTTP ${status}` });
  return body;
}
