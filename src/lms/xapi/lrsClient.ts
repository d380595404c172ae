/**
 * The Statements resource of an xAPI 1.0.3 / 2.0 LRS (xAPI-Communication.md §2.1, §3.3):
 * HTTP Basic with the LRS key and secret, `X-Experience-API-Version` on every request (the
 * version comes from the LRS's `/about`), StatementResult pages followed through `more`,
 * and `X-Experience-API-Consistent-Through` read from every answer.
 */
import { normalizeDateTime } from '../../mapping/enrollment.js';
import { LmsRequestError } from '../http/errors.js';
import { LmsHttpClient, baseUrlOf, basicAuthorization, urlUnder, type LmsHttpStats, type LmsHttpTuning } from '../http/lmsHttp.js';
import type { OperationOptions } from '../types.js';
import { isObject, type JsonObject } from './statements.js';

export interface LrsClientOptions {
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  readonly http?: LmsHttpTuning;
}

export interface StatementPage {
  readonly statements: readonly JsonObject[];
  /** The next page, resolved against the LRS; undefined on the last page. */
  readonly more: string | undefined;
  /** All statements stored before this instant are visible (normalised ISO); undefined when the LRS did not say. */
  readonly consistentThrough: string | undefined;
}

export type StatementQuery = Readonly<Record<string, string | number | boolean | undefined>>;

/** History pages are read this many statements at a time. */
const HISTORY_PAGE = 500;

export class LrsClient {
  readonly #http: LmsHttpClient;
  readonly #base: URL;
  #version: Promise<string> | undefined;

  constructor(options: LrsClientOptions) {
    this.#base = baseUrlOf(options.baseUrl);
    const authorization = basicAuthorization(options.username, options.password);
    this.#http = new LmsHttpClient({ system: 'xapi', origin: this.#base.origin, credentials: { headers: () => ({ Authorization: authorization }) }, ...options.http });
  }

  get stats(): LmsHttpStats {
    return this.#http.stats;
  }

  /** The xAPI version to speak: 2.0.0 when `/about` lists a 2.0.x, else 1.0.3. */
  version(options: OperationOptions = {}): Promise<string> {
    this.#version ??= this.#http
      .json(urlUnder(this.#base, 'about'), { operation: 'GET /about', allowNotFound: true, ...options })
      .then((response) => {
        const versions = isObject(response?.body) && Array.isArray(response.body['version']) ? response.body['version'].filter((v): v is string => typeof v === 'string') : [];
        return versions.some((v) => v.startsWith('2.0')) ? '2.0.0' : '1.0.3';
      })
      .catch((err: unknown) => {
        this.#version = undefined;
        // An LRS without /about (or that guards it) still speaks 1.0.3; credentials and outages surface on /statements.
        if (err instanceof LmsRequestError && err.statusCode !== -1 && err.statusCode !== 429 && err.statusCode < 500) return '1.0.3';
        throw err;
      });
    return this.#version;
  }

  statementsUrl(query: StatementQuery): URL {
    return urlUnder(this.#base, 'statements', query);
  }

  /** `more` is a relative IRL (path and query, xAPI-Data.md §2.5); some LRSs send an absolute URL. */
  resolve(more: string): URL {
    return new URL(more, this.#base);
  }

  async page(url: URL, options: OperationOptions = {}): Promise<StatementPage> {
    const version = await this.version(options);
    const response = await this.#http.json(url, { operation: 'GET /statements', headers: { 'X-Experience-API-Version': version }, ...options });
    const body = response?.body;
    if (!isObject(body) || !Array.isArray(body['statements']) || !body['statements'].every(isObject) || (body['more'] !== undefined && body['more'] !== null && typeof body['more'] !== 'string')) {
      throw new LmsRequestError({ system: 'xapi', operation: 'GET /statements', statusCode: response?.status ?? 200, code: 'malformedResponse', message: 'the LRS answered GET /statements with a body that is not a StatementResult ({ statements: [...], more })' });
    }
    const more = typeof body['more'] === 'string' && body['more'].trim() !== '' ? body['more'].trim() : undefined;
    const header = response?.headers.get('x-experience-api-consistent-through');
    const consistentThrough = header === null || header === undefined ? undefined : normalizeDateTime(header);
    return { statements: body['statements'], more, consistentThrough };
  }

  /** The statement a voiding statement voided (GET statements?voidedStatementId), or undefined. */
  async voided(statementId: string, options: OperationOptions = {}): Promise<JsonObject | undefined> {
    const version = await this.version(options);
    const response = await this.#http.json(this.statementsUrl({ voidedStatementId: statementId }), {
      operation: 'GET /statements?voidedStatementId',
      headers: { 'X-Experience-API-Version': version },
      allowNotFound: true,
      ...options,
    });
    return isObject(response?.body) ? response.body : undefined;
  }

  /** Every statement by `agent` that names `activity` anywhere (related_activities), oldest stored first. */
  async *history(agent: JsonObject, activity: string, options: OperationOptions = {}): AsyncGenerator<StatementPage> {
    let url: URL | undefined = this.statementsUrl({ agent: JSON.stringify(agent), activity, related_activities: true, ascending: true, limit: HISTORY_PAGE });
    while (url !== undefined) {
      const page = await this.page(url, options);
      yield page;
      url = page.more === undefined ? undefined : this.resolve(page.more);
    }
  }
}
