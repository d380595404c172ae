/**
 * The whole product against an LMS stand-in: a SyncHarness (Graph stand-in over HTTP, its own
 * tables on the shared Azurite) whose settings name an API adapter and a stand-in LRS or
 * OneRoster provider instead of an export file. Also loads the real third-party reference
 * data (../shared/reference/data, beside this repository; LMS_REFERENCE_DATA overrides it)
 * that the stand-ins are seeded from. The data is read in place, not copied: several sets
 * are GPL/AGPL-licensed test data.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { XapiStandIn, type XapiStatement } from '../../src/sandbox/lms/xapiStandIn.js';
import { OneRosterStandIn, type OneRosterObject, type OneRosterStandInOptions } from '../../src/sandbox/lms/oneRosterStandIn.js';
import { runCli } from '../../src/cli/main.js';
import type { RunSummary } from '../../src/sync/types.js';
import type { SyncRunOptions } from '../../src/sync/openSync.js';
import { SyncHarness } from './syncHarness.js';

export const REFERENCE_DATA = resolve(process.env['LMS_REFERENCE_DATA'] ?? resolve(import.meta.dirname, '../../../shared/reference/data'));

export function referenceJson<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(join(REFERENCE_DATA, relativePath), 'utf8')) as T;
}

export function referencePath(relativePath: string): string {
  return join(REFERENCE_DATA, relativePath);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) return over ?? base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over as Record<string, unknown>)) out[key] = deepMerge(out[key], value);
  return out;
}

/**
 * A moodle-logstore_xapi statements.json as the plugin's own test reads it: each statement
 * deep-merged with tests/common/statement.json (timestamp, context.platform, registration).
 */
export function moodleStatements(name: string): XapiStatement[] {
  const common = referenceJson('xapi/moodle-common-statement-fields.json');
  return referenceJson<XapiStatement[]>(`xapi/moodle-${name}-statements.json`).map((s) => deepMerge(common, s) as XapiStatement);
}

/** The statements of one official cmi5 scenario, in file order (the state documents left out). */
export function cmi5Scenario(folder: string): XapiStatement[] {
  const dir = referencePath(`xapi/cmi5-samples/${folder}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('_statement.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as XapiStatement);
}

/** Moodle's logstore_xapi with its `sendmbox` option: the actor is named by e-mail instead of the Moodle user id. */
export function asLearner<T extends XapiStatement>(statement: T, email: string, name = email): T {
  return { ...statement, actor: { objectType: 'Agent', name, mbox: `mailto:${email}` } };
}

export const LRS_KEY = 'lrs-key';
export const LRS_SECRET = 'lrs-secret-do-not-log';
export const OR_CLIENT_ID = 'viva-sync-client';
export const OR_CLIENT_SECRET = 'or-secret-do-not-log';

export class LmsHarness<S extends XapiStandIn | OneRosterStandIn> {
  private constructor(
    readonly sync: SyncHarness,
    readonly lms: S,
  ) {}

  static async xapi(options: { maxLimit?: number } = {}): Promise<LmsHarness<XapiStandIn>> {
    const lms = new XapiStandIn({ username: LRS_KEY, password: LRS_SECRET, ...options });
    const baseUrl = await lms.start();
    const sync = await SyncHarness.create();
    const { LMS_FILE_PATH: _unused, ...env } = sync.env;
    sync.env = { ...env, LMS_ADAPTER: 'xapi', LMS_BASE_URL: baseUrl, LMS_USERNAME: LRS_KEY, LMS_PASSWORD: LRS_SECRET };
    return new LmsHarness(sync, lms);
  }

  static async oneRoster(options: Partial<OneRosterStandInOptions> = {}): Promise<LmsHarness<OneRosterStandIn>> {
    const lms = new OneRosterStandIn({ clientId: OR_CLIENT_ID, clientSecret: OR_CLIENT_SECRET, ...options });
    const baseUrl = await lms.start();
    const sync = await SyncHarness.create();
    const { LMS_FILE_PATH: _unused, ...env } = sync.env;
    sync.env = {
      ...env,
      LMS_ADAPTER: 'oneroster',
      LMS_BASE_URL: baseUrl,
      LMS_CLIENT_ID: OR_CLIENT_ID,
      LMS_CLIENT_SECRET: OR_CLIENT_SECRET,
      LMS_TOKEN_URL: lms.tokenUrl,
      ...(options.version === '1.1' ? { LMS_ONEROSTER_VERSION: '1.1' } : {}),
    };
    return new LmsHarness(sync, lms);
  }

  /** Makes these people Entra users of the Graph stand-in (by UPN = e-mail). */
  addLearners(...emails: readonly string[]): void {
    for (const email of emails) this.sync.standIn.addUser({ id: this.sync.userId(email), userPrincipalName: email.toLowerCase(), mail: email.toLowerCase() });
  }

  run(options: SyncRunOptions = {}, env: Record<string, string> = {}): Promise<RunSummary> {
    return this.sync.run(options, env);
  }

  /** `viva-sync <args>` in this process (the same code as bin/viva-sync.js, without a build). */
  async cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: { ...this.sync.env, ...env }, cwd: this.sync.dir });
    return { code, stdout, stderr };
  }

  async close(): Promise<void> {
    await this.lms.stop();
    await this.sync.close();
  }
}

/** A OneRoster 1.1 CSV row (…SourcedId columns) as the REST JSON a provider would serve (GUIDRefs). */
export function csvRowToRest(collection: 'enrollments' | 'users' | 'classes' | 'courses', row: Readonly<Record<string, string>>): OneRosterObject {
  const out: OneRosterObject = {};
  const ref = (id: string | undefined, type: string): OneRosterObject | undefined => (id === undefined || id === '' ? undefined : { href: `${type}s/${id}`, sourcedId: id, type });
  for (const [key, value] of Object.entries(row)) {
    if (value === '' || key.startsWith('metadata.')) continue;
    if (key === 'classSourcedId') out['class'] = ref(value, 'class');
    else if (key === 'userSourcedId') out['user'] = ref(value, 'user');
    else if (key === 'schoolSourcedId') out['school'] = ref(value, 'org');
    else if (key === 'courseSourcedId') out['course'] = ref(value, 'course');
    else out[key] = value;
  }
  if (collection !== 'users' && out['status'] === undefined) out['status'] = 'active';
  return out;
}
