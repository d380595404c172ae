import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/loadConfig.js';
import { tableConnectionOf } from '../state/httpState.js';
import { createProviderDecisionStore, type ProviderNewDecision } from '../state/providerDecisionStore.js';
import { EXIT, type CliIo } from './io.js';

function storeFor(env: NodeJS.ProcessEnv, cwd: string): { store: ReturnType<typeof createProviderDecisionStore>; providerId: string } {
  const config = loadConfig(env, { cwd });
  return { store: createProviderDecisionStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix }), providerId: config.providerId };
}

/**
 * `viva-sync provider mark-new | unmark-new`: the operator's recorded assertion that the provider
 * is new, against the current ledger's epoch (a replaced ledger brings the lookups back).
 */
export async function providerNewCommand(action: 'mark-new' | 'unmark-new', json: boolean, io: CliIo): Promise<number> {
  const { store, providerId } = storeFor(io.env, io.cwd);
  if (action === 'unmark-new') {
    const withdrawn = await store.withdraw(providerId);
    io.stdout.write(json ? `${JSON.stringify({ providerId, withdrawn })}\n` : withdrawn ? `Withdrawn: creates for provider ${providerId} look up by external id first again.\n` : `Provider ${providerId} was not marked new; nothing changed.\n`);
    return EXIT.ok;
  }
  const decision = await store.record(providerId, 'provider mark-new');
  io.stdout.write(json ? `${JSON.stringify(decision)}\n` : describeDecision(decision));
  return EXIT.ok;
}

/** The decision and what it means, for the operator. */
export function describeDecision(decision: ProviderNewDecision): string {
  return (
    `Recorded: provider ${decision.providerId} held no activities when ledger epoch ${decision.ledgerEpoch} was started (${decision.decidedBy}, ${decision.decidedAt}).\n` +
    '  Creates skip the lookup by external id while this ledger is in use; a deleted or replaced ledger brings the lookups back.\n' +
    '  Withdraw it with `viva-sync provider unmark-new` if another tool or installation writes to this provider.\n'
  );
}

/**
 * After `provider register`: record that the new provider is new, when the app's settings (with
 * VIVA_PROVIDER_ID set to it) reach the state storage; otherwise say how to do it later.
 */
export async function recordRegisteredProvider(providerId: string, io: CliIo): Promise<string> {
  const later = `To let the first sync skip lookups, run \`viva-sync provider mark-new\` with the app's settings (VIVA_PROVIDER_ID=${providerId}) before the first sync.\n`;
  try {
    const { store } = storeFor({ ...io.env, VIVA_PROVIDER_ID: providerId }, io.cwd);
    return describeDecision(await store.record(providerId, 'provider register'));
  } catch (err) {
    if (!isConfigError(err)) io.stderr.write(`viva-sync: could not record that the provider is new (${err instanceof Error ? err.message : String(err)}).\n`);
    return later;
  }
}
