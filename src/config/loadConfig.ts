import { ConfigError, type SettingProblem } from './errors.js';
import { mergeSettings, readLocalSettings } from './localSettings.js';

export type LmsAdapterName = 'file' | 'oneroster' | 'canvas' | 'moodle' | 'xapi';
export type GraphApiVersion = 'v1.0' | 'beta';
export type LearnerMatch = 'userPrincipalName' | 'mail' | 'employeeId' | 'id';
export type SyncMode = 'inline' | 'queue';

export type GraphAuth =
  | { readonly kind: 'managed-identity'; readonly clientId?: string }
  | { readonly kind: 'client-secret'; readonly tenantId: string; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'default' }
  | { readonly kind: 'static-token'; readonly token: string };

/** Where the state tables live: a connection string, or an account endpoint reached with a token credential. */
export type StorageSetting =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'endpoint'; readonly url: string; readonly clientId?: string };

export type LmsSettings = FileLmsSettings | ApiLmsSettings;

export interface FileLmsSettings {
  readonly adapter: 'file';
  /** A local path, or an Azure Blob Storage URL (a blob, or a folder ending in `/`). */
  readonly filePath: string;
  readonly mappingPath?: string;
  /** LMS_CATALOG_PATH: the course catalog export. */
  readonly catalogPath?: string;
  /** LMS_EXPORT_MODE: `snapshot` exports withdraw by absence. */
  readonly exportMode: 'changes' | 'snapshot';
  /** The other LMS_* settings (the export source's: LMS_EXPORT_*), validated when the adapter is created. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** SYNC_CATALOG: `all` lists the LMS catalog (where the adapter can), `enrolled` upserts only enrolled courses. */
export type CatalogScope = 'all' | 'enrolled';

/** The settings of the API adapters (xapi, oneroster, canvas, moodle). */
export type ApiLmsSettings = {
      readonly adapter: Exclude<LmsAdapterName, 'file'>;
      readonly baseUrl: string;
      readonly clientId?: string;
      readonly clientSecret?: string;
      readonly tokenUrl?: string;
      readonly username?: string;
      readonly password?: string;
      readonly token?: string;
      readonly courseIds?: readonly string[];
      /** A local file or folder the adapter may read instead of the API (e.g. a OneRoster CSV bundle). */
      readonly filePath?: string;
      /**
       * Every other LMS_* setting, for options one adapter alone has (verbs, scopes…). The
       * adapter validates them when it is created and throws a ConfigError naming the setting.
       */
      readonly extra: Readonly<Record<string, string>>;
    };

export interface Config {
  readonly providerId: string;
  readonly lms: LmsSettings;
  readonly graph: {
    readonly baseUrl: string;
    readonly apiVersion: GraphApiVersion;
    readonly auth: GraphAuth;
    readonly maxConcurrency: number;
    /** Requests in flight at the start: GRAPH_MAX_CONCURRENCY when set, else 8, growing to maxConcurrency while latency-bound. */
    readonly initialConcurrency: number;
    /** Undefined: no ceiling until Graph throttles. */
    readonly maxRequestsPerSecond: number | undefined;
    /** Requests per JSON batch; 1 sends each request on its own. */
    readonly batchSize: number;
    /** A request with no answer after this long is abandoned and retried. */
    readonly requestTimeoutSeconds: number;
  };
  readonly storage: StorageSetting;
  readonly tablePrefix: string;
  readonly learnerMatch: LearnerMatch;
  readonly schedule: string;
  /** Undefined: no budget (a CLI run goes on until done). */
  readonly timeBudgetSeconds: number | undefined;
  readonly lookbackSeconds: number;
  readonly mode: SyncMode;
  /** SYNC_QUEUE_NAME: the work queue of queue mode (its poison queue is `<name>-poison`). */
  readonly queueName: string;
  readonly webhookSecret?: string;
  /** When a run stops and the sync waits for an operator (docs/operations.md, "Quarantine"). */
  readonly quarantine: QuarantineSettings;
  /** SYNC_CATALOG (default `all`: used where the adapter can list courses). */
  readonly catalog: CatalogScope;
}

export interface QuarantineSettings {
  /** A run whose failed writes exceed this share of its attempted writes (0..1) is quarantined. */
  readonly failureShare: number;
  /** A run that would delete more activities than this is quarantined before it writes. */
  readonly maxDeletes: number;
}

export interface LoadConfigOptions {
  /** Folder whose local.settings.json is read; default process.cwd(). */
  readonly cwd?: string;
  /** The host's function timeout, when running under Azure Functions: the budget defaults to a safe share of it. */
  readonly hostTimeoutSeconds?: number;
}

/**
 * Every setting the product reads (DESIGN.md's table and the additions documented in the
 * README). The infrastructure test checks that each one is set by the Bicep, or knowingly not.
 */
export const SETTING_NAMES = [
  'VIVA_PROVIDER_ID',
  ...LMS_COMMON_NAMES(),
  'GRAPH_BASE_URL',
  'GRAPH_API_VERSION',
  'GRAPH_AUTH',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'GRAPH_TOKEN',
  'GRAPH_MAX_CONCURRENCY',
  'GRAPH_MAX_RPS',
  'GRAPH_BATCH_SIZE',
  'GRAPH_REQUEST_TIMEOUT_SECONDS',
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__clientId',
  'SYNC_STORAGE_CONNECTION',
  'SYNC_TABLE_PREFIX',
  'LEARNER_MATCH',
  'SYNC_SCHEDULE',
  'SYNC_TIME_BUDGET_SECONDS',
  'SYNC_LOOKBACK_SECONDS',
  'SYNC_QUARANTINE_FAILURE_SHARE',
  'SYNC_QUARANTINE_MAX_DELETES',
  'SYNC_MODE',
  'SYNC_QUEUE_NAME',
  'SYNC_CATALOG',
  'WEBHOOK_SECRET',
] as const;

function LMS_COMMON_NAMES(): string[] {
  return ['LMS_ADAPTER', 'LMS_FILE_PATH', 'LMS_MAPPING_PATH', 'LMS_CATALOG_PATH', 'LMS_EXPORT_MODE', 'LMS_BASE_URL', 'LMS_CLIENT_ID', 'LMS_CLIENT_SECRET', 'LMS_TOKEN_URL', 'LMS_USERNAME', 'LMS_PASSWORD', 'LMS_TOKEN', 'LMS_COURSE_IDS'];
}

/** Settings whose values never appear in messages. */
export const SECRET_SETTINGS = [
  'LMS_CLIENT_SECRET',
  'LMS_PASSWORD',
  'LMS_TOKEN',
  'AZURE_CLIENT_SECRET',
  'GRAPH_TOKEN',
  'WEBHOOK_SECRET',
  'AzureWebJobsStorage',
  'SYNC_STORAGE_CONNECTION',
] as const;

const ADAPTERS: readonly LmsAdapterName[] = ['file', 'oneroster', 'canvas', 'moodle', 'xapi'];
const MATCHES: readonly LearnerMatch[] = ['userPrincipalName', 'mail', 'employeeId', 'id'];

/**
 * Reads every setting once, from the environment and local.settings.json `Values` (the
 * environment wins), and validates them together so that one error names every bad one.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const values = mergeSettings(env, readLocalSettings(options.cwd ?? process.cwd()));
  const reader = new SettingsReader(values);
  const config = readAll(reader, options);
  if (reader.problems.length > 0 || config === undefined) throw new ConfigError(reader.problems);
  return config;
}

function readAll(r: SettingsReader, options: LoadConfigOptions): Config | undefined {
  const providerId = r.required('VIVA_PROVIDER_ID');
  const lms = readLms(r);
  const graphBaseUrl = r.url('GRAPH_BASE_URL', 'https://graph.microsoft.com');
  const apiVersion = r.oneOf('GRAPH_API_VERSION', ['v1.0', 'beta'] as const, 'v1.0');
  const auth = readGraphAuth(r, graphBaseUrl);
  // Unset: start at 8 and grow (up to 64) while latency, not Graph, limits the rate (src/graph/requestScheduler.ts).
  const fixedConcurrency = r.optionalInteger('GRAPH_MAX_CONCURRENCY', 1, 64);
  const maxConcurrency = fixedConcurrency ?? 64;
  const initialConcurrency = fixedConcurrency ?? 8;
  const maxRequestsPerSecond = r.optionalInteger('GRAPH_MAX_RPS', 1, 10_000);
  const batchSize = r.integer('GRAPH_BATCH_SIZE', 1, 1, 20);
  const requestTimeoutSeconds = r.integer('GRAPH_REQUEST_TIMEOUT_SECONDS', 30, 1, 600);
  const storage = readStorage(r);
  const tablePrefix = r.pattern('SYNC_TABLE_PREFIX', /^[A-Za-z][A-Za-z0-9]{0,40}$/, 'must be letters and digits, starting with a letter (at most 41)', 'vivasync');
  const learnerMatch = r.oneOf('LEARNER_MATCH', MATCHES, 'userPrincipalName');
  const schedule = r.schedule('SYNC_SCHEDULE', '0 */15 * * * *');
  const hostDefault = options.hostTimeoutSeconds === undefined ? undefined : defaultBudget(options.hostTimeoutSeconds);
  const budget = r.optionalInteger('SYNC_TIME_BUDGET_SECONDS', 0, 7 * 24 * 3600);
  const lookbackSeconds = r.integer('SYNC_LOOKBACK_SECONDS', 3600, 0, 30 * 24 * 3600);
  const failureShare = r.share('SYNC_QUARANTINE_FAILURE_SHARE', 0.4);
  const maxDeletes = r.integer('SYNC_QUARANTINE_MAX_DELETES', 500, 0, 1_000_000_000);
  const mode = r.oneOf('SYNC_MODE', ['inline', 'queue'] as const, 'inline');
  // Queue names: 3-63 lower-case letters, digits and single hyphens; '-poison' is appended for the poison queue.
  const queueName = r.pattern('SYNC_QUEUE_NAME', /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,55}$/, 'must be 3 to 56 lower-case letters, digits and single hyphens, starting and ending with a letter or digit', 'vivasync-work');
  const catalog = r.oneOf('SYNC_CATALOG', ['all', 'enrolled'] as const, 'all');
  const webhookSecret = r.optional('WEBHOOK_SECRET');
  if (webhookSecret !== undefined && !webhookSecret.split(/\s+/).every((s) => /^whsec_[A-Za-z0-9+/=]{16,}$/.test(s))) {
    r.problem('WEBHOOK_SECRET', 'must be one or more space-separated secrets of the form whsec_<base64>');
  }
  if (providerId === undefined || lms === undefined || graphBaseUrl === undefined || auth === undefined || storage === undefined) return undefined;
  return {
    providerId,
    lms,
    graph: { baseUrl: graphBaseUrl.replace(/\/+$/, ''), apiVersion, auth, maxConcurrency, initialConcurrency, maxRequestsPerSecond, batchSize, requestTimeoutSeconds },
    storage,
    tablePrefix,
    learnerMatch,
    schedule,
    // 0 means "no budget", for long CLI backfills under a budget-setting host.
    timeBudgetSeconds: budget === undefined ? hostDefault : budget === 0 ? undefined : budget,
    lookbackSeconds,
    mode,
    queueName,
    quarantine: { failureShare, maxDeletes },
    catalog,
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
  };
}

/** Leaves time to checkpoint and log: 20% of the timeout, at least 60 s, and never below half. */
export function defaultBudget(hostTimeoutSeconds: number): number {
  const margin = Math.max(60, Math.ceil(hostTimeoutSeconds * 0.2));
  return Math.max(Math.floor(hostTimeoutSeconds / 2), hostTimeoutSeconds - margin);
}

/** Settings every API adapter needs, by adapter; adapter-specific options are checked by the adapter. */
const API_ADAPTER_REQUIREMENTS: Readonly<Record<Exclude<LmsAdapterName, 'file'>, readonly (readonly string[])[]>> = {
  xapi: [['LMS_USERNAME', 'LMS_PASSWORD']],
  oneroster: [['LMS_CLIENT_ID', 'LMS_CLIENT_SECRET', 'LMS_TOKEN_URL']],
  canvas: [['LMS_TOKEN']],
  moodle: [['LMS_TOKEN']],
};

const LMS_COMMON = LMS_COMMON_NAMES();

function readLms(r: SettingsReader): LmsSettings | undefined {
  const adapter = r.requiredOneOf('LMS_ADAPTER', ADAPTERS);
  if (adapter === undefined) return undefined;
  if (adapter === 'file') {
    const filePath = r.required('LMS_FILE_PATH', 'is required when LMS_ADAPTER=file');
    // A blob URL is checked in full when the adapter is created (src/lms/exportSource/location.ts).
    const bare = filePath?.split('?')[0] ?? '';
    if (filePath !== undefined && !/\.(jsonl|csv)(\.gz)?$/i.test(bare) && !/^https?:\/\/.*\/$/i.test(bare)) {
      r.problem('LMS_FILE_PATH', 'must name a .jsonl or .csv file (or .gz of one), or be a Blob Storage folder URL ending in /');
    }
    const mappingPath = r.optional('LMS_MAPPING_PATH');
    const catalogPath = r.optional('LMS_CATALOG_PATH');
    const catalogBare = catalogPath?.split('?')[0] ?? '';
    if (catalogPath !== undefined && !/\.(jsonl|csv)(\.gz)?$/i.test(catalogBare) && !/^https?:\/\/.*\/$/i.test(catalogBare)) {
      r.problem('LMS_CATALOG_PATH', 'must name a .jsonl or .csv file (the course catalog, DESIGN.md "The course catalog"; or .gz of one), or be a Blob Storage folder URL ending in /');
    }
    const exportMode = r.oneOf('LMS_EXPORT_MODE', ['changes', 'snapshot'] as const, 'changes');
    const extra = Object.fromEntries(r.entries().filter(([name]) => name.startsWith('LMS_') && !LMS_COMMON.includes(name)));
    if (filePath === undefined) return undefined;
    return { adapter, filePath, exportMode, ...(mappingPath !== undefined ? { mappingPath } : {}), ...(catalogPath !== undefined ? { catalogPath } : {}), extra };
  }
  for (const name of ['LMS_CATALOG_PATH', 'LMS_EXPORT_MODE']) {
    if (r.optional(name) !== undefined) r.problem(name, `applies only to LMS_ADAPTER=file (LMS_ADAPTER is ${adapter})`);
  }
  const filePath = r.optional('LMS_FILE_PATH');
  // OneRoster may read a CSV bundle from a folder instead of the REST API.
  const needsApi = !(adapter === 'oneroster' && filePath !== undefined);
  const baseUrl = needsApi ? r.required('LMS_BASE_URL', `is required when LMS_ADAPTER=${adapter}`) : r.optional('LMS_BASE_URL');
  if (baseUrl !== undefined) r.httpsUrl('LMS_BASE_URL', baseUrl);
  // The token request carries the client secret: the same rule as LMS_BASE_URL, whatever the adapter.
  const tokenUrl = r.optional('LMS_TOKEN_URL');
  if (tokenUrl !== undefined) r.httpsUrl('LMS_TOKEN_URL', tokenUrl);
  if (needsApi) for (const group of API_ADAPTER_REQUIREMENTS[adapter]) for (const name of group) r.required(name, `is required when LMS_ADAPTER=${adapter}`);
  const courseIds = r.optional('LMS_COURSE_IDS')?.split(',').map((id) => id.trim()).filter((id) => id !== '');
  const extra = Object.fromEntries(r.entries().filter(([name]) => name.startsWith('LMS_') && !LMS_COMMON.includes(name)));
  const optional = (name: string, key: string): Record<string, string> => {
    const value = r.optional(name);
    return value === undefined ? {} : { [key]: value };
  };
  return {
    adapter,
    baseUrl: baseUrl ?? '',
    ...optional('LMS_CLIENT_ID', 'clientId'),
    ...optional('LMS_CLIENT_SECRET', 'clientSecret'),
    ...optional('LMS_TOKEN_URL', 'tokenUrl'),
    ...optional('LMS_USERNAME', 'username'),
    ...optional('LMS_PASSWORD', 'password'),
    ...optional('LMS_TOKEN', 'token'),
    ...(courseIds !== undefined && courseIds.length > 0 ? { courseIds } : {}),
    ...(filePath !== undefined ? { filePath } : {}),
    extra,
  };
}

function readGraphAuth(r: SettingsReader, baseUrl: string | undefined): GraphAuth | undefined {
  const kind = r.oneOf('GRAPH_AUTH', ['managed-identity', 'client-secret', 'default', 'static-token'] as const, 'default');
  switch (kind) {
    case 'default':
      return { kind };
    case 'managed-identity': {
      const clientId = r.optional('AZURE_CLIENT_ID');
      return clientId === undefined ? { kind } : { kind, clientId };
    }
    case 'client-secret': {
      const tenantId = r.required('AZURE_TENANT_ID', 'is required when GRAPH_AUTH=client-secret');
      const clientId = r.required('AZURE_CLIENT_ID', 'is required when GRAPH_AUTH=client-secret');
      const clientSecret = r.required('AZURE_CLIENT_SECRET', 'is required when GRAPH_AUTH=client-secret');
      if (tenantId === undefined || clientId === undefined || clientSecret === undefined) return undefined;
      return { kind, tenantId, clientId, clientSecret };
    }
    case 'static-token': {
      const token = r.required('GRAPH_TOKEN', 'is required when GRAPH_AUTH=static-token');
      if (baseUrl !== undefined && !isLoopback(baseUrl)) {
        r.problem('GRAPH_AUTH', 'static-token is refused unless GRAPH_BASE_URL is a loopback address (it exists for local simulators)');
        return undefined;
      }
      return token === undefined ? undefined : { kind, token };
    }
  }
}

export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  } catch {
    return false;
  }
}

function readStorage(r: SettingsReader): StorageSetting | undefined {
  const dedicated = r.optional('SYNC_STORAGE_CONNECTION');
  if (dedicated !== undefined) return connectionOrProblem(r, 'SYNC_STORAGE_CONNECTION', dedicated);
  const host = r.optional('AzureWebJobsStorage');
  if (host !== undefined) return connectionOrProblem(r, 'AzureWebJobsStorage', host);
  // Identity-based connection, as Azure Functions configures it with a managed identity.
  const tableUri = r.optional('AzureWebJobsStorage__tableServiceUri');
  const accountName = r.optional('AzureWebJobsStorage__accountName');
  const clientId = r.optional('AzureWebJobsStorage__clientId');
  const url = tableUri ?? (accountName !== undefined ? `https://${accountName}.table.core.windows.net` : undefined);
  if (url !== undefined) return { kind: 'endpoint', url, ...(clientId !== undefined ? { clientId } : {}) };
  r.problem('AzureWebJobsStorage', 'is required (a storage connection string, UseDevelopmentStorage=true, or AzureWebJobsStorage__tableServiceUri for a managed identity)');
  return undefined;
}

function connectionOrProblem(r: SettingsReader, name: string, value: string): StorageSetting | undefined {
  if (value === 'UseDevelopmentStorage=true' || /(^|;)\s*(AccountName|TableEndpoint|SharedAccessSignature)\s*=/i.test(value)) {
    return { kind: 'connectionString', connectionString: value };
  }
  r.problem(name, 'is not a storage connection string (expected AccountName=…;AccountKey=… or TableEndpoint=…, or UseDevelopmentStorage=true)');
  return undefined;
}

class SettingsReader {
  readonly problems: SettingProblem[] = [];
  constructor(private readonly values: Record<string, string | undefined>) {}

  problem(setting: string, problem: string): void {
    this.problems.push({ setting, problem });
  }

  optional(name: string): string | undefined {
    const value = this.values[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string, problem = 'is required'): string | undefined {
    const value = this.optional(name);
    if (value === undefined) this.problem(name, problem);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    return this.maybeOneOf(name, allowed, false) ?? fallback;
  }

  requiredOneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    return this.maybeOneOf(name, allowed, true);
  }

  private maybeOneOf<T extends string>(name: string, allowed: readonly T[], required: boolean): T | undefined {
    const value = this.optional(name);
    if (value === undefined) {
      if (required) this.problem(name, `is required (one of ${allowed.join(', ')})`);
      return undefined;
    }
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(name, `must be one of ${allowed.join(', ')} (got ${this.show(name, value)})`);
    return undefined;
  }

  entries(): [string, string][] {
    return Object.entries(this.values).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '');
  }

  /** An LMS endpoint: https, or http on loopback (local stand-ins). */
  httpsUrl(name: string, value: string): void {
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(value))) return;
    } catch {
      // reported below
    }
    this.problem(name, `must be an https URL (http only on loopback) (got ${this.show(name, value)})`);
  }

  url(name: string, fallback: string): string | undefined {
    const value = this.optional(name) ?? fallback;
    try {
      const url = new URL(value);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
      if (url.protocol === 'http:' && !isLoopback(value)) {
        this.problem(name, 'must use https (plain http is allowed only for loopback simulators)');
        return undefined;
      }
      return value;
    } catch {
      this.problem(name, `is not an http(s) URL (got ${this.show(name, value)})`);
      return undefined;
    }
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `must be a whole number from ${min} to ${max} (got ${this.show(name, value)})`);
      return undefined;
    }
    return parsed;
  }

  /** A share from 0 to 1 (a decimal such as 0.4). */
  share(name: string, fallback: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d*\.?\d+$/.test(value) || !(parsed >= 0 && parsed <= 1)) {
      this.problem(name, `must be a number from 0 to 1, such as 0.4 (got ${this.show(name, value)})`);
      return fallback;
    }
    return parsed;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    return this.optionalInteger(name, min, max) ?? fallback;
  }

  pattern(name: string, re: RegExp, problem: string, fallback: string): string {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (re.test(value)) return value;
    this.problem(name, `${problem} (got ${this.show(name, value)})`);
    return fallback;
  }

  /** NCRONTAB: six fields (or five), or an %AppSetting% reference resolved by the host. */
  schedule(name: string, fallback: string): string {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const fields = value.split(/\s+/);
    const fieldOk = (f: string): boolean => /^[\d*/,\-A-Za-z?]+$/.test(f);
    if ((fields.length === 6 || fields.length === 5) && fields.every(fieldOk)) return value;
    this.problem(name, `must be an NCRONTAB expression such as "0 */15 * * * *" (got ${this.show(name, value)})`);
    return fallback;
  }

  private show(name: string, value: string): string {
    return (SECRET_SETTINGS as readonly string[]).includes(name) ? '(hidden)' : JSON.stringify(value);
  }
}
