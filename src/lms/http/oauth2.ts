/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for LMS APIs (OneRoster 1.2's OAuth2CC): the
 * token is fetched once, cached until shortly before `expires_in`, shared by concurrent
 * requests, and renewed when the LMS answers 401 to a cached token. The client
 * authenticates with HTTP Basic (RFC 6749 §2.3.1, as the 1EdTech Security Framework asks);
 * a token endpoint that refuses that with `invalid_client` is asked once more with the
 * credentials in the form body, and that choice is remembered. Secrets never appear in errors.
 */
import type { OperationOptions } from '../types.js';
import { LmsRequestError, isLmsRequestError, type LmsSystem } from './errors.js';
import { LmsHttpClient, basicAuthorization, type CredentialSource } from './lmsHttp.js';

export interface ClientCredentialsOptions {
  readonly system: LmsSystem;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes; omitted from the request when empty. */
  readonly scope?: string;
  readonly fetch?: typeof fetch;
  readonly requestTimeoutMs?: number;
  /** Retries of the token request (429/503/5xx); default 2. */
  readonly maxRetries?: number;
  readonly minBackoffMs?: number;
  readonly now?: () => number;
}

interface CachedToken {
  readonly value: string;
  /** When to stop using it: expiry minus a margin. */
  readonly renewAtMs: number;
}

/** A token lifetime the endpoint did not state is taken as this. */
const DEFAULT_LIFETIME_S = 3600;

export class ClientCredentialsToken implements CredentialSource {
  readonly #options: ClientCredentialsOptions;
  readonly #http: LmsHttpClient;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;
  #useBodyCredentials = false;
  #fetched = 0;

  constructor(options: ClientCredentialsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#http = new LmsHttpClient({
      system: options.system,
      // Redirects only within LMS_TOKEN_URL's origin: a 307/308 elsewhere would re-send client_secret there.
      setting: 'LMS_TOKEN_URL',
      maxRetries: options.maxRetries ?? 2,
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
    });
  }

  /** How many tokens were fetched (for tests and logs). */
  get tokensFetched(): number {
    return this.#fetched;
  }

  async headers(options: OperationOptions = {}): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await this.token(options)}` };
  }

  async token(options: OperationOptions = {}): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.renewAtMs) return cached.value;
    this.#pending ??= this.#fetch(options).finally(() => (this.#pending = undefined));
    this.#cached = await this.#pending;
    return this.#cached.value;
  }

  /** Forgets the cached token; true when there was one (a fresh token may then succeed). */
  renew(): boolean {
    const had = this.#cached !== undefined;
    this.#cached = undefined;
    return had;
  }

  async #fetch(options: OperationOptions): Promise<CachedToken> {
    try {
      return await this.#request(this.#useBodyCredentials, options);
    } catch (err) {
      if (!this.#useBodyCredentials && isLmsRequestError(err) && (err.statusCode === 400 || err.statusCode === 401) && /invalid_client|unauthorized_client/i.test(err.code)) {
        let token: CachedToken;
        try {
          token = await this.#request(true, options);
        } catch (second) {
          throw this.#explain(second);
        }
        this.#useBodyCredentials = true;
        return token;
      }
      throw this.#explain(err);
    }
  }

  async #request(bodyCredentials: boolean, options: OperationOptions): Promise<CachedToken> {
    const { clientId, clientSecret, scope } = this.#options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined && scope.trim() !== '') form.set('scope', scope.trim());
    if (bodyCredentials) {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    const started = this.#now();
    const response = await this.#http.json(new URL(this.#options.tokenUrl), {
      method: 'POST',
      operation: 'POST token (LMS_TOKEN_URL)',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(bodyCredentials ? {} : { Authorization: basicAuthorization(encodeURIComponent(clientId), encodeURIComponent(clientSecret)) }) },
      body: form.toString(),
      ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
    });
    const body = response?.body as { access_token?: unknown; expires_in?: unknown; token_type?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw new LmsRequestError({ system: this.#options.system, operation: 'POST token (LMS_TOKEN_URL)', statusCode: response?.status ?? 200, code: 'malformedResponse', message: 'the token endpoint (LMS_TOKEN_URL) answered without an access_token' });
    }
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
      throw new LmsRequestError({ system: this.#options.system, operation: 'POST token (LMS_TOKEN_URL)', statusCode: response?.status ?? 200, code: 'unsupportedTokenType', message: `the token endpoint (LMS_TOKEN_URL) issued a "${body.token_type}" token; only bearer tokens are supported` });
    }
    const lifetimeS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : DEFAULT_LIFETIME_S;
    // Renew a minute early (or at 90% of a short lifetime), so a token never expires in flight.
    const marginMs = Math.min(60_000, lifetimeS * 100);
    this.#fetched += 1;
    return { value: body.access_token, renewAtMs: started + lifetimeS * 1000 - marginMs };
  }

  #explain(err: unknown): unknown {
    if (!isLmsRequestError(err) || (err.statusCode !== 400 && err.statusCode !== 401)) return err;
    return err.with({
      message: `the token endpoint (LMS_TOKEN_URL) refused the client credentials (LMS_CLIENT_ID, LMS_CLIENT_SECRET): ${err.code}${err.message.includes(': ') ? ` (${err.message.slice(err.message.indexOf(': ') + 2)})` : ''}`,
    });
  }
}
