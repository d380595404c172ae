/**
 * The HTTP endpoints, wired: settings from the environment (and local.settings.json), the
 * per-process services, and the request-like handlers. Each function file makes one call here.
 */
import { createHash } from 'node:crypto';
import { isConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/loadConfig.js';
import { tableConnectionOf } from '../state/httpState.js';
import { createDoctorStore } from '../state/doctorStore.js';
import { createQuarantineStore } from '../state/quarantineStore.js';
import { checkHealth, DEFAULT_MAX_AGE_MINUTES, HealthCache } from '../sync/health.js';
import { readStatus } from '../sync/status.js';
import { preferredForm } from '../report/negotiate.js';
import { renderStatusPage, STATUS_PAGE_CSP_HEADER } from '../report/renderStatusPage.js';
import { createQueueProbe } from '../report/statusStores.js';
import type { HeaderSource } from './signature.js';
import { createSharedRateStore } from '../state/sharedRateStore.js';
import type { Logger } from '../sync/logger.js';
import { readResyncStatus, requestFullResync, resyncInline } from '../sync/resync.js';
import { currentRecord, redactingLogger, syncEnrollment, withSyncServices, type SyncEnrollmentOptions, type SyncServices } from '../sync/singleRecord.js';
import { redactorFor } from '../sync/redaction.js';
import { handleWebhook, MAX_WEBHOOK_BODY_BYTES } from './handler.js';
import { json, methodNotAllowed, problem, tooLarge, toHttpLike, type FetchLikeRequest, type HttpLikeRequest, type HttpResult } from './http.js';
import { handleResync, MAX_RESYNC_BODY_BYTES, resyncPrecheck } from './resyncHttp.js';
import { parseSecrets, SignatureVerifier } from './signature.js';

const RESYNC_LOOKUP_TIMEOUT_MS = 45_000;

export interface EndpointOptions {
  readonly logger: Logger;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The app root (local.settings.json, relative paths); default the working directory. */
  readonly cwd?: string;
  /** How long a webhook claim stays `processing` before a redelivery takes it over (default 3 minutes; tests shorten it). */
  readonly webhookClaimTtlMs?: number;
  /** Timing of the webhook's single-record run (tests shorten them). */
  readonly webhook?: Pick<SyncEnrollmentOptions, 'leaseWaitMs' | 'timeoutMs'>;
  /** How long the health check and the status report wait for the storage (default 5 s). */
  readonly healthStorageTimeoutMs?: number;
  /** How long a health answer is reused (default 5 s; 0 computes every answer afresh). */
  readonly healthCacheMs?: number;
}

/**
 * Loads the settings; a ConfigError becomes a 503 naming the settings (never their values) to
 * callers holding a function key, and saying only "not configured" to anonymous ones.
 */
function configOrProblem(options: EndpointOptions, anonymous: boolean): { config: Config } | { result: HttpResult } {
  try {
    return { config: loadConfig(options.env ?? process.env, { cwd: options.cwd ?? process.cwd() }) };
  } catch (err) {
    if (!isConfigError(err)) throw err;
    options.logger.error(err.message);
    const names = [...new Set(err.problems.map((p) => p.setting))].join(', ');
    return { result: problem(503, 'notConfigured', anonymous ? 'the function app settings are invalid; see the function log' : `invalid settings: ${names}`) };
  }
}

/** The endpoint's logger, made unable to print the value of any secret setting. */
function redacted(options: EndpointOptions): EndpointOptions {
  return { ...options, logger: redactingLogger(options.logger, redactorFor(options.env ?? process.env, options.cwd ?? process.cwd())) };
}

async function guarded(logger: Logger, what: string, body: () => Promise<HttpResult>): Promise<HttpResult> {
  try {
    return await body();
  } catch (err) {
    logger.error(`${what} failed`, { reason: err instanceof Error ? err.message : String(err) });
    return problem(500, 'internal', `${what} failed; see the function log`);
  }
}

/** POST /api/lms/webhook. */
export async function webhookEndpoint(request: FetchLikeRequest, endpointOptions: EndpointOptions): Promise<HttpResult> {
  const options = redacted(endpointOptions);
  const { logger } = options;
  return guarded(logger, 'The webhook', async () => {
    const httpLike = await toHttpLike(request, MAX_WEBHOOK_BODY_BYTES);
    if (httpLike.method !== 'POST') return methodNotAllowed(['POST']);
    if (httpLike.bodyTooLarge === true) return tooLarge(MAX_WEBHOOK_BODY_BYTES);
    const loaded = configOrProblem(options, true);
    if ('result' in loaded) return loaded.result;
    const { config } = loaded;
    let verifier: SignatureVerifier | undefined;
    try {
      verifier = config.webhookSecret === undefined ? undefined : new SignatureVerifier(parseSecrets(config.webhookSecret));
    } catch {
      logger.error('WEBHOOK_SECRET could not be read as whsec_<base64> secrets');
      return problem(503, 'notConfigured', 'the webhook secret setting is not valid (WEBHOOK_SECRET)');
    }
    // The stores are opened (tables created on first use) only once the signature is verified.
    const inServices = <T>(body: (services: SyncServices) => Promise<T>): Promise<T> => withSyncServices(config, { cwd: options.cwd ?? process.cwd(), logger }, body);
    return handleWebhook(httpLike, {
      verifier,
      logger,
      webhookIds: { claim: (id) => inServices((services) => services.http.webhookIds.claim(id, options.webhookClaimTtlMs !== undefined ? { processingTtlMs: options.webhookClaimTtlMs } : {})) },
      lookUp: (notice) => inServices(async (services) => currentRecord((await services.runner('webhook')).adapter, notice.enrollmentId, notice.record, { logger })),
      sync: (notice, lookedUp) =>
        inServices(async (services) =>
          syncEnrollment({ runner: await services.runner('webhook'), pending: services.http.pending, logger }, notice.enrollmentId, {
            ...(notice.record !== undefined ? { record: notice.record } : {}),
            ...(lookedUp !== undefined ? { lookedUp } : {}),
            trigger: 'webhook',
            ...options.webhook,
          }),
        ),
    });
  });
}

/** POST /api/resync and GET /api/resync/{runId}. */
export async function resyncEndpoint(request: FetchLikeRequest, endpointOptions: EndpointOptions): Promise<HttpResult> {
  const options = redacted(endpointOptions);
  const { logger } = options;
  return guarded(logger, 'The re-sync', async () => {
    const httpLike = await toHttpLike(request, MAX_RESYNC_BODY_BYTES);
    const early = resyncPrecheck(httpLike);
    if (early !== undefined) return early;
    const loaded = configOrProblem(options, false);
    if ('result' in loaded) return loaded.result;
    const { config } = loaded;
    return withSyncServices(config, { cwd: options.cwd ?? process.cwd(), logger }, async (services) => {
      const full = async () => ({ state: await services.state(), pending: services.http.pending, logger });
      return handleResync(httpLike, {
        logger,
        // LMS reads (45 s) plus the run's budget (120 s) stay inside the 230-second HTTP limit.
        inline: async (scope, dryRun) => resyncInline({ runner: await services.runner('resync'), config, logger }, scope, { dryRun, lookupTimeoutMs: RESYNC_LOOKUP_TIMEOUT_MS }),
        full: async (since, dryRun) => requestFullResync(await full(), since, { dryRun }),
        status: async (runId) => readResyncStatus(await full(), runId),
      });
    });
  });
}

const healthCache = new HealthCache();

function parseMaxAge(request: Pick<FetchLikeRequest, 'query'>): number | HttpResult {
  const rawAge = request.query?.get('maxAgeMinutes') ?? null;
  const maxAgeMinutes = rawAge === null ? DEFAULT_MAX_AGE_MINUTES : Number(rawAge);
  if (!Number.isInteger(maxAgeMinutes) || maxAgeMinutes < 1 || maxAgeMinutes > 7 * 24 * 60) {
    return problem(400, 'badRequest', 'maxAgeMinutes must be a whole number from 1 to 10080');
  }
  return maxAgeMinutes;
}

/**
 * GET /api/health[?maxAgeMinutes=N], anonymous: `{ status, lastSuccessAgeSeconds }` and nothing
 * more (200 for `ok` and `degraded`, 503 for `failing`), cached per process for a few seconds.
 */
export async function healthEndpoint(request: Pick<FetchLikeRequest, 'method' | 'query'>, endpointOptions: EndpointOptions): Promise<HttpResult> {
  const options = redacted(endpointOptions);
  const { logger } = options;
  return guarded(logger, 'The health check', async () => {
    if (request.method.toUpperCase() !== 'GET') return methodNotAllowed(['GET']);
    const maxAgeMinutes = parseMaxAge(request);
    if (typeof maxAgeMinutes !== 'number') return maxAgeMinutes;
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const compute = () =>
      checkHealth(
        {
          config: () => loadConfig(env, { cwd }),
          stores: (config) =>
            withSyncServices(config, { cwd, logger }, async (services) => ({
              runs: (await services.state()).runs,
              lease: (await services.state()).lease,
              quarantine: await createQuarantineStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix }),
            })),
        },
        { logger, maxAgeMinutes, ...(options.healthStorageTimeoutMs !== undefined ? { storageTimeoutMs: options.healthStorageTimeoutMs } : {}) },
      );
    const key = createHash('sha256').update(JSON.stringify([cwd, maxAgeMinutes, env])).digest('hex');
    const answer = await healthCache.get(key, compute, options.healthCacheMs !== undefined ? { ttlMs: options.healthCacheMs } : {});
    return json(answer.status === 'failing' ? 503 : 200, answer, { 'Cache-Control': 'no-store' });
  });
}

/** GET /api/status[?maxAgeMinutes=N], behind the function key: the operator's report as JSON. */
export async function statusEndpoint(request: Pick<FetchLikeRequest, 'method' | 'query'> & { readonly headers?: HeaderSource }, endpointOptions: EndpointOptions): Promise<HttpResult> {
  const options = redacted(endpointOptions);
  const { logger } = options;
  return guarded(logger, 'The status report', async () => {
    if (request.method.toUpperCase() !== 'GET') return methodNotAllowed(['GET']);
    const maxAgeMinutes = parseMaxAge(request);
    if (typeof maxAgeMinutes !== 'number') return maxAgeMinutes;
    const cwd = options.cwd ?? process.cwd();
    const report = await readStatus(
      {
        config: () => loadConfig(options.env ?? process.env, { cwd }),
        stores: (config) =>
          withSyncServices(config, { cwd, logger }, async (services) => {
            const connection = tableConnectionOf(config.storage);
            const [state, quarantine, sharedRate, doctor] = await Promise.all([
              services.state(),
              createQuarantineStore({ connection, tablePrefix: config.tablePrefix }),
              createSharedRateStore({ connection, tablePrefix: config.tablePrefix }),
              createDoctorStore({ connection, tablePrefix: config.tablePrefix }),
            ]);
            const queue = config.mode === 'queue' ? await createQueueProbe(config) : undefined;
            return { state, pending: services.http.pending, quarantine, sharedRate, doctor, ...(queue !== undefined ? { queue } : {}) };
          }),
      },
      { logger, maxAgeMinutes, ...(options.healthStorageTimeoutMs !== undefined ? { storageTimeoutMs: options.healthStorageTimeoutMs } : {}) },
    );
    // A browser gets the page (docs/status-page.png); scripts and curl keep the JSON.
    if (preferredForm(request.headers?.get('accept')) === 'html') {
      return { status: 200, jsonBody: undefined, body: renderStatusPage(report), headers: STATUS_PAGE_HEADERS };
    }
    return json(200, report, { 'Cache-Control': 'no-store', Vary: 'Accept' });
  });
}

/** The page loads nothing and runs nothing; the policy says so to the browser as well. */
const STATUS_PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': STATUS_PAGE_CSP_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  Vary: 'Accept',
} as const;

export type { HttpLikeRequest, HttpResult };
