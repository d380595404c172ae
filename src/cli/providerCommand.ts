import type { TokenCredential } from '@azure/core-auth';
import { DeviceCodeCredential } from '@azure/identity';
import type { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { isLoopback } from '../config/loadConfig.js';
import { mergeSettings, readLocalSettings } from '../config/localSettings.js';
import { staticTokenCredential } from '../graph/credentials.js';
import { isGraphRequestError } from '../graph/errors.js';
import { createGraphClient } from '../graph/graphClient.js';
import { LearningProviderClient, type LearningProvider, type LearningProviderFields } from '../graph/providerClient.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { providerNewCommand, recordRegisteredProvider } from './providerNewCommand.js';

export type ProviderAction = 'register' | 'show' | 'enable-activity-sync';

/** The options of the three provider subcommands (each takes its own subset). */
export interface ProviderOptions {
  readonly name?: string;
  readonly logos?: string;
  readonly longLogoLight?: string;
  readonly longLogoDark?: string;
  readonly squareLogoLight?: string;
  readonly squareLogoDark?: string;
  readonly loginUrl?: string;
  /** false with --no-activity-sync. */
  readonly activitySync?: boolean;
  readonly id?: string;
  readonly tenant?: string;
  readonly clientId?: string;
  readonly json?: boolean;
}

/** Microsoft Graph PowerShell's public client: any tenant can sign in to it with delegated scopes. */
export const GRAPH_POWERSHELL_CLIENT_ID = '14d82eec-204b-4c2f-b7e8-296a70dab67e';
/** The one delegated permission provider registration needs (graph-learning-api.md §1.1). */
export const PROVIDER_SCOPE = 'https://graph.microsoft.com/LearningProvider.ReadWrite';

const REFUSED_HINT =
  'Registering or changing a learning provider needs a signed-in user (delegated; the app cannot do it with its own identity) ' +
  'who holds a Viva Learning or Viva suite licence and the Knowledge Administrator role (or a higher one, such as Global Administrator). ' +
  'Sign in as such an administrator, or have one run this command.';

/**
 * `viva-sync provider`: the one delegated step of a deployment (docs/deploy.md §4). An
 * administrator signs in with a device code; the registration id printed goes into VIVA_PROVIDER_ID.
 */
export async function providerCommand(action: ProviderAction, values: ProviderOptions, io: CliIo): Promise<number> {
  const settings = mergeSettings(io.env, readLocalSettings(io.cwd));
  const json = values.json === true;

  // Check the arguments before anyone is asked to sign in.
  const fields = action === 'register' ? registrationFields(values) : undefined;
  const id = action === 'register' ? undefined : (values.id ?? settings['VIVA_PROVIDER_ID']?.trim());
  if (action !== 'register' && (id === undefined || id === '')) throw new UsageError(`provider ${action} needs --id or the VIVA_PROVIDER_ID setting`);

  const graph = graphSettings(settings);
  const credential =
    graph.staticToken !== undefined
      ? staticTokenCredential(graph.staticToken)
      : deviceCodeCredential(values.tenant ?? settings['AZURE_TENANT_ID']?.trim(), values.clientId ?? GRAPH_POWERSHELL_CLIENT_ID, io);
  const providers = new LearningProviderClient(createGraphClient({ baseUrl: graph.baseUrl, credential }), graph.apiVersion);

  try {
    if (fields !== undefined) {
      const created = await providers.createProvider(fields);
      // A provider this command just created holds no activities: record it, so the first sync skips lookups.
      const decision = await recordRegisteredProvider(created.id, io);
      if (json) io.stderr.write(decision);
      io.stdout.write(
        json
          ? `${JSON.stringify(created)}\n`
          : `Registered learning provider "${created.displayName}".\n  id: ${created.id}\n  course-activity sync: ${created.isCourseActivitySyncEnabled === true ? 'enabled' : 'disabled (enable it with `viva-sync provider enable-activity-sync`)'}\nSet VIVA_PROVIDER_ID=${created.id} (azd env set VIVA_PROVIDER_ID ${created.id}, or the Function App setting).\n${decision}`,
      );
      return EXIT.ok;
    }
    const providerId = id ?? '';
    const found = await providers.getProvider(providerId);
    if (found === undefined) {
      io.stderr.write(`viva-sync: there is no learning provider ${JSON.stringify(providerId)} in this tenant (register one with \`viva-sync provider register\`).\n`);
      return EXIT.failure;
    }
    if (action === 'show') {
      io.stdout.write(json ? `${JSON.stringify(found)}\n` : formatProvider(found));
      return EXIT.ok;
    }
    // The update page resends the provider's fields with the flag.
    const { id: _id, ...current } = found;
    await providers.updateProvider(providerId, { ...current, isCourseActivitySyncEnabled: true });
    const updated = (await providers.getProvider(providerId)) ?? { ...found, isCourseActivitySyncEnabled: true };
    io.stdout.write(json ? `${JSON.stringify(updated)}\n` : `Course-activity sync is ${updated.isCourseActivitySyncEnabled === true ? 'enabled' : 'still disabled'} for "${updated.displayName}" (${updated.id}).\n`);
    return updated.isCourseActivitySyncEnabled === true ? EXIT.ok : EXIT.failure;
  } catch (err) {
    if (isGraphRequestError(err) && (err.statusCode === 403 || err.statusCode === 401)) {
      io.stderr.write(`viva-sync: Graph refused (${err.statusCode} ${err.code}: ${err.message}). ${REFUSED_HINT}\n`);
      return EXIT.failure;
    }
    throw err;
  }
}

function registrationFields(values: ProviderOptions): LearningProviderFields {
  const name = values.name?.trim();
  if (name === undefined || name === '') throw new UsageError('provider register needs --name');
  const logo = (key: 'longLogoLight' | 'longLogoDark' | 'squareLogoLight' | 'squareLogoDark'): string => {
    const option = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const value = values[key] ?? values.logos;
    if (value === undefined) throw new UsageError(`provider register needs ${option} (or --logos for all four logos)`);
    return httpsUrl(value, values[key] !== undefined ? option : '--logos');
  };
  const loginUrl = values.loginUrl;
  return {
    displayName: name,
    longLogoWebUrlForLightTheme: logo('longLogoLight'),
    longLogoWebUrlForDarkTheme: logo('longLogoDark'),
    squareLogoWebUrlForLightTheme: logo('squareLogoLight'),
    squareLogoWebUrlForDarkTheme: logo('squareLogoDark'),
    ...(loginUrl !== undefined ? { loginWebUrl: httpsUrl(loginUrl, '--login-url') } : {}),
    isCourseActivitySyncEnabled: values.activitySync !== false,
  };
}

/** Viva Learning copies the logos from public URLs. */
function httpsUrl(value: string, option: string): string {
  try {
    if (new URL(value).protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new UsageError(`${option} takes a public https URL (got ${JSON.stringify(value)})`);
}

interface ProviderGraphSettings {
  readonly baseUrl: string;
  readonly apiVersion: 'v1.0' | 'beta';
  /** Only for a loopback simulator (GRAPH_AUTH=static-token), as for the sync itself. */
  readonly staticToken?: string;
}

function graphSettings(settings: Readonly<Record<string, string | undefined>>): ProviderGraphSettings {
  const value = (name: string): string | undefined => {
    const v = settings[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const baseUrl = (value('GRAPH_BASE_URL') ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  const version = value('GRAPH_API_VERSION') ?? 'v1.0';
  const problems: { setting: string; problem: string }[] = [];
  if (version !== 'v1.0' && version !== 'beta') problems.push({ setting: 'GRAPH_API_VERSION', problem: `must be one of v1.0, beta (got ${JSON.stringify(version)})` });
  let baseOk = false;
  try {
    const url = new URL(baseUrl);
    baseOk = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(baseUrl));
  } catch {
    baseOk = false;
  }
  if (!baseOk) problems.push({ setting: 'GRAPH_BASE_URL', problem: 'must be an https URL (plain http only for loopback simulators)' });
  let staticToken: string | undefined;
  if (value('GRAPH_AUTH') === 'static-token') {
    staticToken = value('GRAPH_TOKEN');
    if (staticToken === undefined) problems.push({ setting: 'GRAPH_TOKEN', problem: 'is required when GRAPH_AUTH=static-token' });
    if (baseOk && !isLoopback(baseUrl)) problems.push({ setting: 'GRAPH_AUTH', problem: 'static-token is refused unless GRAPH_BASE_URL is a loopback address (it exists for local simulators)' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { baseUrl, apiVersion: version === 'beta' ? 'beta' : 'v1.0', ...(staticToken !== undefined ? { staticToken } : {}) };
}

/** Device-code sign-in for LearningProvider.ReadWrite, whatever scope the Graph client asks for. */
function deviceCodeCredential(tenantId: string | undefined, clientId: string, io: CliIo): TokenCredential {
  const credential = new DeviceCodeCredential({
    tenantId: tenantId ?? 'organizations',
    clientId,
    userPromptCallback: (info) => {
      io.stderr.write(`${info.message}\n`);
    },
  });
  return { getToken: (_scopes, options) => credential.getToken(PROVIDER_SCOPE, options) };
}

function formatProvider(p: LearningProvider): string {
  return [
    `Learning provider "${p.displayName}"`,
    `  id: ${p.id}`,
    `  course-activity sync: ${p.isCourseActivitySyncEnabled === true ? 'enabled' : 'disabled (enable it with `viva-sync provider enable-activity-sync`)'}`,
    `  long logos: ${p.longLogoWebUrlForLightTheme} (light), ${p.longLogoWebUrlForDarkTheme} (dark)`,
    `  square logos: ${p.squareLogoWebUrlForLightTheme} (light), ${p.squareLogoWebUrlForDarkTheme} (dark)`,
    ...(p.loginWebUrl !== undefined && p.loginWebUrl !== null ? [`  login: ${p.loginWebUrl}`] : []),
  ].join('\n') + '\n';
}

export function registerProvider(program: Command, context: CommandContext): void {
  const provider = program
    .command('provider')
    .summary('register the learning provider, show it, enable course-activity sync')
    .description(
      'The one delegated step of a deployment (docs/deploy.md §4): an administrator with a Viva Learning licence and the\n' +
        'Knowledge Administrator role signs in with a device code. The registration id goes into VIVA_PROVIDER_ID.',
    );
  const run = (action: ProviderAction) => async (options: ProviderOptions) => context.exit(await providerCommand(action, options, context.io));
  const signIn = (command: Command): Command =>
    command.option('--tenant <id>', 'the tenant to sign in to (default: AZURE_TENANT_ID, else any work account)').option('--client-id <id>', 'the public client to sign in with (default: Microsoft Graph PowerShell)');
  const register = signIn(
    provider
      .command('register')
      .description('Register this LMS as a learning provider in Viva Learning.')
      .option('--name <name>', 'the display name learners see')
      .option('--logos <url>', 'one public https image for all four logos')
      .option('--long-logo-light <url>', 'long logo, light theme')
      .option('--long-logo-dark <url>', 'long logo, dark theme')
      .option('--square-logo-light <url>', 'square logo, light theme')
      .option('--square-logo-dark <url>', 'square logo, dark theme')
      .option('--login-url <url>', "the LMS's sign-in page")
      .option('--no-activity-sync', 'register with course-activity sync disabled'),
  )
    .option('--json', 'print the registration as one JSON object')
    .action(run('register'));
  const show = signIn(provider.command('show').description('Show a registration and whether course-activity sync is enabled.').option('--id <id>', 'the registration id (default: VIVA_PROVIDER_ID)'))
    .option('--json', 'print the registration as one JSON object')
    .action(run('show'));
  const enable = signIn(
    provider.command('enable-activity-sync').description('Set isCourseActivitySyncEnabled, without which Graph refuses every course activity.').option('--id <id>', 'the registration id (default: VIVA_PROVIDER_ID)'),
  )
    .option('--json', 'print the registration as one JSON object')
    .action(run('enable-activity-sync'));
  // Recorded decisions in the state tables (src/sync/lookupPolicy.ts): the app's settings, no sign-in.
  const markNew = provider
    .command('mark-new')
    .description(
      'Record that VIVA_PROVIDER_ID held no activities when the current ledger was started: creates then skip the lookup\n' +
        'by external id (one request per record instead of two on a first sync). A deleted or replaced ledger brings the\n' +
        'lookups back. `provider register` records this itself when the state storage settings are at hand.',
    )
    .option('--json', 'print the recorded decision as one JSON object')
    .action(async (options: { json?: boolean }) => context.exit(await providerNewCommand('mark-new', options.json === true, context.io)));
  const unmarkNew = provider
    .command('unmark-new')
    .description('Withdraw that decision (another tool or installation now writes to this provider): creates look up first again.')
    .option('--json', 'print the outcome as one JSON object')
    .action(async (options: { json?: boolean }) => context.exit(await providerNewCommand('unmark-new', options.json === true, context.io)));
  withExamples(markNew, [['viva-sync provider mark-new', 'before the first sync of a provider registered by other means, that holds no activities']]);
  withExamples(unmarkNew, [['viva-sync provider unmark-new', 'another installation writes to this provider now']]);
  withExamples(register, [['viva-sync provider register --name "Contoso Academy" --logos https://academy.contoso.example/logo.png', 'register, then set VIVA_PROVIDER_ID to the id printed']]);
  withExamples(show, [['viva-sync provider show', 'the registration in VIVA_PROVIDER_ID']]);
  withExamples(enable, [['viva-sync provider enable-activity-sync', 'doctor said: course-activity sync is disabled']]);
}
