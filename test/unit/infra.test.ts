/**
 * The infrastructure files, checked without a Bicep compiler (none can be installed here; see
 * infra/README.md): the app settings of infra/app/api.bicep against the settings the code reads,
 * the wiring between the Bicep files, azure.yaml, and infra/grant-graph-permissions.sh run
 * against a stand-in `az` (test/support/fake-az/az).
 *
 * App settings convention (infra/app/api.bicep, header comment): every app setting is one line
 * `NAME: value` in an object literal between the lines `// app-settings:begin` and
 * `// app-settings:end`, and nowhere else.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SECRET_SETTINGS, SETTING_NAMES as COMMON_SETTING_NAMES } from '../../src/config/loadConfig.js';
import { ADAPTER_SETTING_NAMES } from '../../src/lms/settingNames.js';

/** Every setting the code reads: the common ones and those of one adapter. */
const SETTING_NAMES: readonly string[] = [...COMMON_SETTING_NAMES, ...ADAPTER_SETTING_NAMES];
import { TABLE_SUFFIXES } from '../../src/state/tableState.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const API_BICEP = 'infra/app/api.bicep';
const MAIN_BICEP = 'infra/main.bicep';
const MAIN_PARAMETERS = 'infra/main.parameters.json';
const SETTINGS_SOURCE = 'src/config/loadConfig.ts (SETTING_NAMES) or src/lms/settingNames.ts (ADAPTER_SETTING_NAMES)';
const THIS_TEST = 'test/unit/infra.test.ts';
const BICEP_FILES = ['infra/main.bicep', 'infra/app/api.bicep', 'infra/app/identity.bicep', 'infra/app/storage.bicep', 'infra/app/rbac.bicep', 'infra/app/monitoring.bicep', 'infra/app/keyvault.bicep', 'infra/app/exportDrop.bicep', 'infra/app/exportEvents.bicep', 'infra/app/observability.bicep'];

/**
 * Settings the code reads that the Bicep deliberately does not set, each with the reason. A
 * setting added to SETTING_NAMES must go into infra/app/api.bicep or here.
 */
const NOT_IN_BICEP: Readonly<Record<string, string>> = {
  LMS_EXPORT_SPOOL_DIR: "where exports are copied before they are read: the instance's temp folder, the default, is the right place in Azure",
  GRAPH_BASE_URL: 'the Viva Learning APIs exist only in the global cloud, whose root is the default; other values are for local simulators',
  AZURE_TENANT_ID: 'only for GRAPH_AUTH=client-secret; the deployed app calls Graph as its managed identity',
  AZURE_CLIENT_SECRET: 'only for GRAPH_AUTH=client-secret, for runs outside Azure; the managed identity needs no secret',
  GRAPH_TOKEN: 'GRAPH_AUTH=static-token is refused unless GRAPH_BASE_URL is a loopback simulator',
  AzureWebJobsStorage: 'a connection string carries an account key and the account has shared keys off: the host and the state tables use the identity-based AzureWebJobsStorage__* settings',
  SYNC_STORAGE_CONNECTION: 'a connection string (account key or SAS) for a separate state account; here the state tables live in the host account, reached with the managed identity',
};

/** Settings the Bicep sets for the Functions host or the platform, which the code does not read. */
const PLATFORM_SETTINGS: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__credential: 'identity-based host storage',
  AzureWebJobsStorage__blobServiceUri: 'identity-based host storage (blobs: timer leases, keys)',
  AzureWebJobsStorage__queueServiceUri: 'identity-based host storage (queues)',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'Application Insights',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Application Insights with local auth disabled',
};

/** App settings that Flex Consumption rejects or ignores (the runtime lives in functionAppConfig). */
const FLEX_REJECTED = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
];

/** Code settings whose Bicep value is derived (a constant, the storage account), not an azd parameter. */
const DERIVED_IN_BICEP = ['GRAPH_AUTH', 'AZURE_CLIENT_ID', 'AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__tableServiceUri', 'AzureWebJobsStorage__clientId'];

/** Azure built-in roles the Function App's identity needs (reference/azure-platform.md 7.1). */
const APP_ROLES: Readonly<Record<string, string>> = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
};

const GRAPH_ROLES = ['LearningContent.ReadWrite.All', 'LearningAssignedCourse.ReadWrite.All', 'LearningSelfInitiatedCourse.ReadWrite.All', 'User.Read.All'];

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

// ---------------------------------------------------------------------------------------------
// Reading Bicep without a compiler
// ---------------------------------------------------------------------------------------------

/**
 * The text with comments and the insides of string literals (interpolations included) blanked
 * to spaces, newlines kept: same length and offsets as the source, so braces can be counted.
 */
function blankStringsAndComments(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Returns the index after the string that opens at `start` (a `'`).
  const skipString = (start: number): number => {
    if (src.startsWith("'''", start)) {
      const end = src.indexOf("'''", start + 3);
      if (end < 0) throw new Error(`unterminated ''' string at line ${lineAt(src, start)}`);
      blank(start + 3, end);
      return end + 3;
    }
    let i = start + 1;
    while (i < src.length) {
      if (src[i] === '\\') i += 2;
      else if (src[i] === "'") {
        blank(start + 1, i);
        return i + 1;
      } else if (src.startsWith('${', i)) i = skipCode(i + 2, true);
      else if (src[i] === '\n') break;
      else i++;
    }
    throw new Error(`unterminated string at line ${lineAt(src, start)}`);
  };
  // Scans code from `start`; inside an interpolation, stops after its closing brace.
  const skipCode = (start: number, interpolation: boolean): number => {
    let depth = 0;
    let i = start;
    while (i < src.length) {
      if (src.startsWith('//', i)) {
        const end = src.indexOf('\n', i);
        blank(i, end < 0 ? src.length : end);
        i = end < 0 ? src.length : end;
      } else if (src.startsWith('/*', i)) {
        const end = src.indexOf('*/', i + 2);
        if (end < 0) throw new Error(`unterminated comment at line ${lineAt(src, i)}`);
        blank(i, end + 2);
        i = end + 2;
      } else if (src[i] === "'") i = skipString(i);
      else {
        if (interpolation && src[i] === '{') depth++;
        if (interpolation && src[i] === '}') {
          if (depth === 0) return i + 1;
          depth--;
        }
        i++;
      }
    }
    if (interpolation) throw new Error(`unterminated interpolation at line ${lineAt(src, start)}`);
    return i;
  };
  skipCode(0, false);
  return out.join('');
}

/** Problems with the nesting of (), [] and {} outside strings and comments. */
function bracketProblems(path: string, src: string): string[] {
  let code: string;
  try {
    code = blankStringsAndComments(src);
  } catch (err) {
    return [`${path}: ${(err as Error).message}`];
  }
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: { char: string; at: number }[] = [];
  const problems: string[] = [];
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (c === '(' || c === '[' || c === '{') stack.push({ char: c, at: i });
    else if (c in pairs) {
      const open = stack.pop();
      if (open?.char !== pairs[c]) problems.push(`${path}:${lineAt(src, i)}: '${c}' closes ${open === undefined ? 'nothing' : `'${open.char}' of line ${lineAt(src, open.at)}`}`);
    }
  }
  for (const open of stack) problems.push(`${path}:${lineAt(src, open.at)}: '${open.char}' is never closed`);
  return problems;
}

/** The index just after the brace that closes the one at `open` (in blanked code). */
function closingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    if (code[i] === '}' && --depth === 0) return i + 1;
  }
  throw new Error(`brace at offset ${open} is never closed`);
}

/** Keys at the top level of the object literal whose `{` is at `open` (offsets into blanked code). */
function topLevelKeys(src: string, code: string, open: number): string[] {
  const close = closingBrace(code, open) - 1;
  const keys: string[] = [];
  let depth = 0;
  let lineStart = open + 1;
  let depthAtLineStart = 0;
  const take = (to: number): void => {
    const key = /^\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:/.exec(src.slice(lineStart, to));
    if (key?.[1] !== undefined && depthAtLineStart === 0) keys.push(key[1]);
  };
  for (let i = open + 1; i < close; i++) {
    const c = code[i] as string;
    if (c === '\n') {
      take(i);
      lineStart = i + 1;
      depthAtLineStart = depth;
    } else if ('{[('.includes(c)) depth++;
    else if ('}])'.includes(c)) depth--;
  }
  take(close);
  return keys;
}

interface BicepParam {
  readonly name: string;
  readonly required: boolean;
}

function paramsOf(src: string): BicepParam[] {
  return [...src.matchAll(/^param\s+(\w+)\s+\w+(\s*=)?/gm)].map((m) => ({ name: m[1] as string, required: m[2] === undefined }));
}

function outputsOf(src: string): string[] {
  return [...src.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] as string);
}

interface BicepModule {
  readonly symbol: string;
  readonly path: string;
  readonly params: string[];
}

/** `module x 'path' = { ... params: { ... } }` declarations of a Bicep file. */
function modulesOf(file: string, src: string): BicepModule[] {
  const code = blankStringsAndComments(src);
  return [...src.matchAll(/^module\s+(\w+)\s+'([^']+)'\s*=\s*(?:if\s*\([^\n]*\)\s*)?\{/gm)].map((m) => {
    const open = (m.index ?? 0) + m[0].length - 1;
    const body = code.slice(open, closingBrace(code, open));
    const paramsAt = /\bparams\s*:\s*\{/.exec(body);
    const params = paramsAt === null ? [] : topLevelKeys(src, code, open + paramsAt.index + paramsAt[0].length - 1);
    return { symbol: m[1] as string, path: join(dirname(file), m[2] as string), params };
  });
}

interface BicepSetting {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

/** The app settings of infra/app/api.bicep, by the convention in its header. */
function appSettingsOf(src: string): BicepSetting[] {
  const lines = src.split('\n');
  const begin = lines.findIndex((l) => l.trim() === '// app-settings:begin');
  const end = lines.findIndex((l) => l.trim() === '// app-settings:end');
  if (begin < 0 || end < begin) throw new Error(`${API_BICEP} must declare its app settings between a line "// app-settings:begin" and a line "// app-settings:end"`);
  const settings: BicepSetting[] = [];
  for (let i = begin + 1; i < end; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('//') || /^var\s+\w+\s*=\s*\{$/.test(line) || line === '}') continue;
    const m = /^'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:\s*(\S.*)$/.exec(line);
    if (m === null) throw new Error(`${API_BICEP}:${i + 1}: between the app-settings markers only "NAME: value" lines go (one setting a line, inside var objects), got: ${line}`);
    settings.push({ name: m[1] as string, value: m[2] as string, line: i + 1 });
  }
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Settings drift
// ---------------------------------------------------------------------------------------------

describe('app settings: src/config and infra/app/api.bicep agree', () => {
  const apiSrc = read(API_BICEP);
  const settings = appSettingsOf(apiSrc);
  const inBicep = new Set(settings.map((s) => s.name));
  const codeSettings = new Set<string>(SETTING_NAMES);

  it('sets every setting the code reads, or says why not', () => {
    const missing = SETTING_NAMES.filter((name) => !inBicep.has(name) && !(name in NOT_IN_BICEP));
    const messages = missing.map(
      (name) =>
        `${name} is read by the code (${SETTINGS_SOURCE}) but ${API_BICEP} does not set it: add "${name}: <value>" to an object between "// app-settings:begin" and "// app-settings:end" in ${API_BICEP} ` +
        `(with a parameter in ${MAIN_BICEP} fed by "\${${name}}" in ${MAIN_PARAMETERS} if it needs a value), or add it to NOT_IN_BICEP in ${THIS_TEST} with the reason`,
    );
    expect(messages).toEqual([]);
  });

  it('sets nothing the code does not read, except platform settings', () => {
    const unknown = settings.filter((s) => !codeSettings.has(s.name) && !(s.name in PLATFORM_SETTINGS));
    const messages = unknown.map(
      (s) => `${API_BICEP}:${s.line} sets ${s.name}, which the code does not read (not in ${SETTINGS_SOURCE}) and which is not in PLATFORM_SETTINGS in ${THIS_TEST}: remove it, or add it to one of those`,
    );
    expect(messages).toEqual([]);
  });

  it('does not set the settings it deliberately leaves out, nor ones Flex Consumption rejects', () => {
    const messages = settings
      .filter((s) => s.name in NOT_IN_BICEP || FLEX_REJECTED.includes(s.name))
      .map((s) => `${API_BICEP}:${s.line} sets ${s.name}, which must not be set in Azure: ${NOT_IN_BICEP[s.name] ?? 'Flex Consumption rejects it (the runtime is set in functionAppConfig)'}`);
    expect(messages).toEqual([]);
    // The credentials select the user-assigned identity by its client id; any other value would point them elsewhere.
    for (const name of ['AZURE_CLIENT_ID', 'AzureWebJobsStorage__clientId']) expect(settings.find((x) => x.name === name)?.value, name).toBe('identityClientId');
    expect(settings.find((x) => x.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.value).toBe("'ClientId=${identityClientId};Authorization=AAD'");
  });

  it('keeps its exclusion lists current', () => {
    const stale = Object.keys(NOT_IN_BICEP).filter((name) => !codeSettings.has(name));
    expect(stale.map((name) => `NOT_IN_BICEP in ${THIS_TEST} lists ${name}, which ${SETTINGS_SOURCE} no longer has: remove it`)).toEqual([]);
    const both = Object.keys(PLATFORM_SETTINGS).filter((name) => codeSettings.has(name));
    expect(both.map((name) => `${name} is in PLATFORM_SETTINGS but the code reads it: remove it from PLATFORM_SETTINGS`)).toEqual([]);
  });

  it('declares each setting once, one a line, and no settings outside the markers', () => {
    const seen = new Map<string, number>();
    const duplicates: string[] = [];
    for (const s of settings) {
      const first = seen.get(s.name);
      if (first !== undefined) duplicates.push(`${API_BICEP}:${s.line} sets ${s.name} again (first at line ${first})`);
      else seen.set(s.name, s.line);
    }
    expect(duplicates).toEqual([]);
    expect(apiSrc, 'app settings belong between the markers, not in siteConfig.appSettings').not.toMatch(/\bappSettings\s*:\s*\[/);
    expect(apiSrc, 'app settings belong between the markers, not in { name, value } lists').not.toMatch(/\bname\s*:\s*'[^']*'\s*\n?\s*value\s*:/);
    expect(apiSrc.match(/name:\s*'appsettings'/g), 'one appsettings config resource').toHaveLength(1);
  });

  it('passes every secret as a Key Vault reference to a secret that infra/app/keyvault.bicep stores', () => {
    const keyVaultSrc = read('infra/app/keyvault.bicep');
    const problems: string[] = [];
    for (const s of settings.filter((x) => (SECRET_SETTINGS as readonly string[]).includes(x.name))) {
      const secretName = s.name.replace(/_/g, '-');
      if (!s.value.startsWith(`'@Microsoft.KeyVault(VaultName=\${keyVaultName};SecretName=${secretName})'`)) {
        problems.push(`${API_BICEP}:${s.line}: ${s.name} is a secret: its value must be '@Microsoft.KeyVault(VaultName=\${keyVaultName};SecretName=${secretName})'`);
      }
      if (!new RegExp(`setting: '${s.name}'\\s*\\n\\s*name: '${secretName}'`).test(keyVaultSrc)) {
        problems.push(`infra/app/keyvault.bicep does not store ${s.name} as the secret ${secretName}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('feeds every configurable setting from the azd environment variable of the same name', () => {
    const parameters = read(MAIN_PARAMETERS);
    const unfed = settings
      .filter((s) => codeSettings.has(s.name) && !DERIVED_IN_BICEP.includes(s.name))
      .filter((s) => !parameters.includes(`"\${${s.name}}"`) && !parameters.includes(`"\${${s.name}=`));
    expect(unfed.map((s) => `${s.name} is set by ${API_BICEP}:${s.line} but no parameter in ${MAIN_PARAMETERS} reads "\${${s.name}}"`)).toEqual([]);
  });

  it('keeps no account or instrumentation keys in the infrastructure', () => {
    for (const file of BICEP_FILES) {
      const src = read(file);
      expect(src, `${file} must not read account keys`).not.toMatch(/listKeys\s*\(|AccountKey|primaryKey|InstrumentationKey/);
    }
    for (const s of settings) expect(s.value, `${API_BICEP}:${s.line} ${s.name}`).not.toMatch(/AccountKey=|SharedAccessSignature=|listKeys/);
  });
});

// ---------------------------------------------------------------------------------------------
// Structure of the Bicep files
// ---------------------------------------------------------------------------------------------

describe('Bicep structure (no compiler here: text checks only)', () => {
  it('balances brackets, braces and quotes in every file', () => {
    expect(BICEP_FILES.flatMap((file) => bracketProblems(file, read(file)))).toEqual([]);
  });

  it('the bracket check itself finds a missing brace and ignores braces in strings', () => {
    expect(bracketProblems('x', "var a = {\n  b: '}'\n")).toEqual(["x:1: '{' is never closed"]);
    expect(bracketProblems('x', "var a = '${b ? '{' : c}' // }\n")).toEqual([]);
  });

  it('pulls nothing from a registry at compile time', () => {
    for (const file of BICEP_FILES) expect(read(file), file).not.toMatch(/'br[:/]|'ts[:/]|^\s*extension\s/m);
  });

  it('wires every module: the file exists, its params are passed, its outputs are declared', () => {
    const main = read(MAIN_BICEP);
    const modules = modulesOf(MAIN_BICEP, main);
    expect(modules.map((m) => m.symbol).sort()).toEqual(['api', 'exportDrop', 'exportEvents', 'identity', 'keyVault', 'monitoring', 'observability', 'rbac', 'storage']);
    const problems: string[] = [];
    for (const m of modules) {
      if (!existsSync(join(ROOT, m.path))) {
        problems.push(`${MAIN_BICEP}: module ${m.symbol} refers to ${m.path}, which does not exist`);
        continue;
      }
      const moduleSrc = read(m.path);
      const declared = paramsOf(moduleSrc);
      for (const p of m.params) if (!declared.some((d) => d.name === p)) problems.push(`${MAIN_BICEP} passes ${p} to module ${m.symbol}, but ${m.path} declares no param ${p}`);
      for (const d of declared) if (d.required && !m.params.includes(d.name)) problems.push(`${m.path} needs param ${d.name}, but ${MAIN_BICEP} does not pass it to module ${m.symbol}`);
      const outputs = outputsOf(moduleSrc);
      for (const ref of main.matchAll(new RegExp(`\\b${m.symbol}\\.outputs\\.(\\w+)`, 'g'))) {
        if (!outputs.includes(ref[1] as string)) problems.push(`${MAIN_BICEP} reads ${m.symbol}.outputs.${ref[1]}, but ${m.path} has no output ${ref[1]}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('main.parameters.json and main.bicep agree on the parameters', () => {
    const parameters = Object.keys((JSON.parse(read(MAIN_PARAMETERS)) as { parameters: Record<string, unknown> }).parameters);
    const declared = paramsOf(read(MAIN_BICEP));
    const problems = [
      ...parameters.filter((p) => !declared.some((d) => d.name === p)).map((p) => `${MAIN_PARAMETERS} sets ${p}, which ${MAIN_BICEP} does not declare`),
      ...declared.filter((d) => d.required && !parameters.includes(d.name)).map((d) => `${MAIN_BICEP} param ${d.name} has no default and no value in ${MAIN_PARAMETERS}`),
    ];
    expect(problems).toEqual([]);
    const text = read(MAIN_PARAMETERS);
    for (const azd of ['${AZURE_ENV_NAME}', '${AZURE_LOCATION}', '${AZURE_PRINCIPAL_ID}']) expect(text).toContain(azd);
  });

  it('main.bicep: subscription scope, a resource group tagged for azd, the outputs azd and the docs use', () => {
    const main = read(MAIN_BICEP);
    expect(main).toMatch(/^targetScope = 'subscription'$/m);
    expect(main).toMatch(/'azd-env-name': environmentName/);
    expect(main).toMatch(/resourceToken = toLower\(uniqueString\(subscription\(\)\.id, environmentName, location\)\)/);
    for (const output of ['AZURE_FUNCTION_NAME', 'AZURE_FUNCTION_URL', 'AZURE_FUNCTION_PRINCIPAL_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_STORAGE_ACCOUNT_NAME', 'AZURE_STORAGE_TABLE_ENDPOINT', 'AZURE_KEY_VAULT_NAME', 'APPLICATIONINSIGHTS_CONNECTION_STRING']) {
      expect(outputsOf(main), `output ${output}`).toContain(output);
    }
  });

  it('api.bicep: Flex Consumption, Node 22, user-assigned identity, identity-based deployment storage', () => {
    const api = read(API_BICEP);
    expect(api).toMatch(/sku:\s*\{\s*name: 'FC1'\s*tier: 'FlexConsumption'\s*\}/);
    expect(api).toMatch(/runtime:\s*\{\s*name: 'node'\s*version: '22'\s*\}/);
    expect(api).toMatch(/identity:\s*\{\s*type: 'UserAssigned'\s*userAssignedIdentities:\s*\{\s*'\$\{identityId\}': \{\}\s*\}\s*\}/);
    expect(api).toMatch(/authentication:\s*\{\s*type: 'UserAssignedIdentity'\s*userAssignedIdentityResourceId: identityId\s*\}/);
    expect(api, 'Key Vault references must be resolved with the user-assigned identity').toMatch(/^\s*keyVaultReferenceIdentity: identityId$/m);
    expect(api).toMatch(/maximumInstanceCount: maximumInstanceCount/);
    expect(api).toMatch(/instanceMemoryMB: instanceMemoryMB/);
    expect(api).toMatch(/'azd-service-name': 'api'/);
    expect(api).toMatch(/kind: 'functionapp,linux'/);
  });

  it('storage.bicep: no shared keys, TLS 1.2, the deployment container, a queue service and the state tables', () => {
    const storage = read('infra/app/storage.bicep');
    expect(storage).toMatch(/allowSharedKeyAccess: false/);
    expect(storage).toMatch(/minimumTlsVersion: 'TLS1_2'/);
    expect(storage).toMatch(/blobServices\/containers@/);
    expect(storage).toMatch(/queueServices@/);
    expect(storage).toMatch(/tableServices\/tables@/);
    const list = /var tableSuffixes = \[([^\]]*)\]/.exec(storage)?.[1] ?? '';
    const suffixes = [...list.matchAll(/'(\w+)'/g)].map((m) => m[1]);
    expect(suffixes.sort(), 'infra/app/storage.bicep tableSuffixes must equal TABLE_SUFFIXES in src/state/tableState.ts').toEqual(Object.values(TABLE_SUFFIXES).sort());
  });

  it('exportDrop.bicep: an SFTP account (hierarchical namespace) whose SSH-key user may only write and list lms-exports; the app reads it', () => {
    const drop = read('infra/app/exportDrop.bicep');
    for (const line of [/isHnsEnabled: true/, /isSftpEnabled: true/, /isLocalUserEnabled: true/, /allowSharedKeyAccess: false/, /hasSshKey: true/, /hasSshPassword: false/, /homeDirectory: containerName/, /sshAuthorizedKeys:/]) expect(drop).toMatch(line);
    expect(/permissions: '(\w+)'/.exec(drop)?.[1], 'the LMS creates, writes and lists; it never deletes').toBe('rcwl');
    expect(drop).toContain("'2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'"); // Storage Blob Data Reader
    const main = read(MAIN_BICEP);
    expect(main).toMatch(/module exportDrop 'app\/exportDrop.bicep' = if \(enableSftpDrop\)/);
    expect(main).toMatch(/var exportContainerName = 'lms-exports'/);
  });

  it('exportEvents.bicep: BlobCreated events of the exports container go to the exportLanded function, by resource id', () => {
    const events = read('infra/app/exportEvents.bicep');
    expect(events).toMatch(/Microsoft.EventGrid\/systemTopics@/);
    expect(events).toMatch(/topicType: 'Microsoft.Storage.StorageAccounts'/);
    expect(events).toMatch(/endpointType: 'AzureFunction'/);
    expect(events).toContain("resourceId: '${functionApp.id}/functions/exportLanded'");
    expect(events).toContain("'Microsoft.Storage.BlobCreated'");
    expect(events).toContain("subjectBeginsWith: '/blobServices/default/containers/${containerName}/'");
    expect(read('functions/exportLanded.ts')).toMatch(/app\.eventGrid\('exportLanded'/);
  });

  it('rbac.bicep grants each role from a list, with the right role definition id', () => {
    const rbac = read('infra/app/rbac.bicep');
    for (const [role, id] of Object.entries(APP_ROLES)) {
      expect(rbac, `${role} ${id}`).toMatch(new RegExp(`role: '${role}'[^\\n]*\\n\\s*id: '${id}'`));
    }
    expect(rbac).toMatch(/roleDefinitionId: subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', r\.id\)/);
    expect(rbac.match(/principalType: 'ServicePrincipal'/g)?.length, 'the app identity is a service principal').toBeGreaterThanOrEqual(3);
  });

  it('observability.bicep: a workbook on App Insights, four alert rules to an action group e-mailing the alertEmail parameter', () => {
    const src = read('infra/app/observability.bicep');
    const main = read(MAIN_BICEP);
    expect(src).toMatch(/resource workbook 'Microsoft\.Insights\/workbooks@[\d-]+' = \{[\s\S]*?kind: 'shared'[\s\S]*?category: 'workbook'[\s\S]*?sourceId: appInsights\.id/);
    expect(src).toMatch(/resource actionGroup 'Microsoft\.Insights\/actionGroups@[\d-]+' = if \(withAlerts\)[\s\S]*?emailAddress: alertEmail/);
    expect(src).toMatch(/resource alerts 'Microsoft\.Insights\/scheduledQueryRules@[\w.-]+' = \[for rule in alertRules: if \(withAlerts\)[\s\S]*?actionGroups: \[actionGroup\.id\]/);
    const rules = [...src.matchAll(/^\s+name: '([a-z-]+)'\n\s+displayName:/gm)].map((m) => m[1]);
    expect(rules).toEqual(['failed-run', 'quarantine', 'dead-letters-growing', 'no-success']);
    expect(src).toMatch(/window: 'PT\$\{2 \* schedulePeriodMinutes\}M'/);
    expect(paramsOf(main).find((p) => p.name === 'alertEmail')).toMatchObject({ required: false });
    expect(main).toMatch(/module observability 'app\/observability\.bicep' = \{[\s\S]*?alertEmail: alertEmail/);
  });

  it('observability.bicep: every log line its queries match is one the code writes', () => {
    const src = read('infra/app/observability.bicep');
    const code = ['src/sync/engine.ts', 'src/sync/pending.ts'].map(read).join('\n');
    const messages = [...src.matchAll(/message startswith "([^"{]+?) \{"/g)].map((m) => m[1] as string);
    expect(new Set(messages)).toEqual(new Set(['Sync run finished', 'Sync run failed', 'Quarantining the sync', 'The sync is quarantined; skipping this pass', 'Record dead-lettered', 'Record refused']));
    for (const message of messages) expect(code, message).toMatch(new RegExp(`logger\\.(info|warn|error)\\('${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    // The fields the workbook reads from "Sync run finished".
    const finished = /logger\.info\('Sync run finished', \{ runId, status: summary\.status, \.\.\.summary\.counts, durationMs: summary\.durationMs, \.\.\.graph \}\)/;
    expect(code).toMatch(finished);
    for (const field of ['graphRequests', 'graphRetries', 'graphThrottled']) expect(code).toContain(`${field}: summary.graph.`);
  });

  it('monitoring.bicep and keyvault.bicep: Entra-only App Insights on a workspace, an RBAC vault, secrets only when given', () => {
    const monitoring = read('infra/app/monitoring.bicep');
    expect(monitoring).toMatch(/Microsoft.OperationalInsights\/workspaces@/);
    expect(monitoring).toMatch(/WorkspaceResourceId: logAnalytics.id/);
    expect(monitoring).toMatch(/DisableLocalAuth: true/);
    const vault = read('infra/app/keyvault.bicep');
    expect(vault).toMatch(/enableRbacAuthorization: true/);
    expect(vault).toMatch(/if \(!empty\(s\.value\)\)/);
    for (const name of ['lmsClientSecret', 'lmsPassword', 'lmsToken', 'webhookSecret']) expect(vault).toMatch(new RegExp(`@secure\\(\\)\\s*\\nparam ${name} string`));
  });
});

// ---------------------------------------------------------------------------------------------
// What a first `azd up` meets (issue 17): read against the Flex Consumption docs and the
// official Flex azd quickstarts, checked here as text
// ---------------------------------------------------------------------------------------------

describe('a first azd up', () => {
  const main = read(MAIN_BICEP);
  const api = read(API_BICEP);
  const code = (src: string): string => blankStringsAndComments(src);

  it('sets no alwaysOn: Flex Consumption lists it as not valid (newer regions refuse it, ARM error 51021)', () => {
    for (const file of BICEP_FILES) expect(code(read(file)), file).not.toMatch(/\balwaysOn\b/);
  });

  it('grants the identity its roles before the site exists, so Key Vault references resolve and the first upload is not refused', () => {
    const modules = modulesOf(MAIN_BICEP, main);
    expect(modules.find((m) => m.symbol === 'identity')?.path).toBe(join('infra', 'app/identity.bicep'));
    expect(read('infra/app/identity.bicep')).toMatch(/'Microsoft\.ManagedIdentity\/userAssignedIdentities@/);
    // The grants take the identity's principal id, never the site's (which would order them after it).
    expect(main).toMatch(/appPrincipalId: identity\.outputs\.principalId/);
    expect(main).not.toMatch(/api\.outputs\.principalId/);
    // The site (and its settings) come after the grants.
    const apiModule = /^module api 'app\/api\.bicep' = \{[\s\S]*?^\}/m.exec(main)?.[0] ?? '';
    expect(apiModule).toMatch(/dependsOn: \[\s*rbac\s*\]/);
    expect(apiModule).toMatch(/identityId: identity\.outputs\.id/);
    expect(api).not.toMatch(/'SystemAssigned'|SystemAssignedIdentity/);
  });

  it('keeps maximumInstanceCount within the documented Flex Consumption range (40 to 1000)', () => {
    for (const [file, src] of [[MAIN_BICEP, main], [API_BICEP, api]] as const) {
      expect(src, file).toMatch(/@minValue\(40\)\s*\n@maxValue\(1000\)\s*\n(@description\([^\n]*\)\s*\n)?param maximumInstanceCount int/);
    }
    const fallback = Number(/param maximumInstanceCount int = (\d+)/.exec(main)?.[1]);
    expect(fallback).toBeGreaterThanOrEqual(40);
    expect(fallback).toBeLessThanOrEqual(1000);
  });

  it('deploys with LMS_ADAPTER unset (azd up --no-prompt): the parameter has a default its @allowed list accepts', () => {
    const declaration = /@allowed\(\[([^\]]*)\]\)\s*\n@description\([^\n]*\)\s*\nparam lmsAdapter string( = '([^']*)')?/.exec(main);
    expect(declaration, 'param lmsAdapter with @allowed and @description').not.toBeNull();
    const allowed = [...(declaration?.[1] ?? '').matchAll(/'([^']*)'/g)].map((m) => m[1]);
    expect(declaration?.[2], 'lmsAdapter needs a default').toBeDefined();
    // main.parameters.json passes "" when the azd variable is unset: that value must be allowed too.
    expect(allowed).toContain(declaration?.[3]);
    expect(allowed).toContain('');
  });
});

// ---------------------------------------------------------------------------------------------
// azd
// ---------------------------------------------------------------------------------------------

describe('azure.yaml', () => {
  const yaml = read('azure.yaml');

  it('deploys this folder as the function service the Bicep tags', () => {
    expect(yaml).toMatch(/^name: viva-learning-sync$/m);
    expect(yaml).toMatch(/^ {2}api:\n(?: {4}.*\n)*? {4}host: function$/m);
    expect(yaml).toMatch(/^ {4}language: ts$/m);
    expect(yaml).toMatch(/^ {4}project: \.$/m);
  });

  it('uploads the lean staged package: built here, staged by scripts/package.mjs into .deploy/', () => {
    expect(yaml, 'a local build (the sources are not uploaded)').toMatch(/^ {4}remoteBuild: false$/m);
    expect(yaml, 'azd uploads the staging folder, not the project').toMatch(/^ {4}dist: \.deploy$/m);
    expect(yaml, 'the staging runs before azd packages').toMatch(/^ {6}prepackage:\n {8}shell: sh\n {8}run: node scripts\/package\.mjs$/m);
    const script = read('scripts/package.mjs');
    expect(script).toMatch(/const out = join\(root, '\.deploy'\)/);
    for (const path of ['dist/functions', 'dist/src', 'host.json', 'package.json']) expect(script, `scripts/package.mjs stages ${path}`).toContain(`'${path}'`);
    expect(script, 'production packages only').toMatch(/'ls', '--omit=dev'/);
    expect(read('.gitignore')).toMatch(/^\.deploy\/$/m);
  });

  it('anchors every .funcignore pattern (an unanchored "test" or "src" also matches inside node_modules and dist/)', () => {
    const patterns = read('.funcignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(patterns.filter((p) => !p.replace(/^!/, '').startsWith('/'))).toEqual([]);
    expect(patterns, '.funcignore must keep dist/ (the built functions)').not.toContain('/dist');
    expect(patterns.some((p) => /^\/?node_modules\/?$/.test(p)), 'a publish from the root needs node_modules (remoteBuild: false)').toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// infra/grant-graph-permissions.sh against a stand-in az
// ---------------------------------------------------------------------------------------------

describe('infra/grant-graph-permissions.sh', () => {
  const script = join(ROOT, 'infra/grant-graph-permissions.sh');
  const fakeAzFolder = join(ROOT, 'test/support/fake-az');
  chmodSync(join(fakeAzFolder, 'az'), 0o755);

  const run = (args: string[], state = mkdtempSync(join(tmpdir(), 'fake-az-'))) => {
    const result = spawnSync('bash', [script, ...args], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${fakeAzFolder}:${process.env['PATH'] ?? ''}`, FAKE_AZ_STATE: state },
      timeout: 20_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, state };
  };
  const callsIn = (state: string): string => readFileSync(join(state, 'calls.log'), 'utf8');

  it('is valid bash', () => {
    expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).status).toBe(0);
    expect(readFileSync(script, 'utf8')).toMatch(/^set -euo pipefail$/m);
  });

  it('explains itself with --help', () => {
    const { status, stdout } = run(['--help']);
    expect(status).toBe(0);
    for (const text of [...GRAPH_ROLES, '--app', '--resource-group', '--object-id', '--dry-run', 'Privileged Role Administrator']) expect(stdout).toContain(text);
  });

  it('refuses a call without the identity (exit 2)', () => {
    const { status, stderr } = run([]);
    expect(status).toBe(2);
    expect(stderr).toContain('--app and --resource-group');
    expect(run(['--app', 'f', '--object-id', 'x']).status).toBe(2);
    expect(run(['--frobnicate']).status).toBe(2);
  });

  it('grants the four roles once, and nothing on the second run', () => {
    const first = run(['--app', 'func-test', '--resource-group', 'rg-test']);
    const state = first.state;
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout.match(/^granted /gm)).toHaveLength(4);
    for (const role of GRAPH_ROLES) expect(first.stdout).toMatch(new RegExp(`^granted ${role.replace(/\./g, '\\.')}$`, 'm'));
    // Role ids are looked up by name and printed.
    expect(first.stdout).toContain('Role LearningContent.ReadWrite.All = 444d6fcb-b738-41e5-b103-ac4f2a2628a3');
    expect(first.stdout).toContain('Done: 4 granted, 0 already granted.');
    expect(readFileSync(join(state, 'assignments.tsv'), 'utf8').trim().split('\n')).toHaveLength(4);

    const second = run(['--object-id', '5b0e6f5e-1111-4111-8111-111111111111'], state);
    expect(second.status).toBe(0);
    expect(second.stdout).not.toMatch(/^granted /m);
    expect(second.stdout.match(/^already granted /gm)).toHaveLength(4);
    expect(second.stdout).toContain('Done: 0 granted, 4 already granted.');
    expect(callsIn(state).match(/^rest --method POST/gm)).toHaveLength(4);
  });

  it('changes nothing with --dry-run', () => {
    const { status, stdout, state } = run(['--app', 'func-test', '--resource-group', 'rg-test', '--dry-run']);
    expect(status).toBe(0);
    expect(stdout.match(/^would grant /gm)).toHaveLength(4);
    expect(callsIn(state)).not.toMatch(/--method POST/);
  });

  it('fails clearly when the app has no managed identity', () => {
    const { status, stderr } = run(['--app', 'func-without-identity', '--resource-group', 'rg-test']);
    expect(status).toBe(1);
    expect(stderr).toContain('has no managed identity');
  });

  it('asks for the same roles that docs/deploy.md names', () => {
    const doc = read('docs/deploy.md');
    for (const role of GRAPH_ROLES) expect(doc, `docs/deploy.md should name ${role}`).toContain(role);
    const scriptRoles = [...(/readonly ROLES=\(([^)]*)\)/.exec(readFileSync(script, 'utf8'))?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(scriptRoles).toEqual(GRAPH_ROLES);
  });
});
