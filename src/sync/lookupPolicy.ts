import type { ProviderDecisionStore, ProviderNewDecision } from '../state/providerDecisionStore.js';
import type { StateOperationOptions } from '../state/types.js';
import { silentLogger, type Logger } from './logger.js';

/**
 * Whether a create must first ask Graph if the activity exists already (a lookup by
 * externalCourseActivityId). A lookup guards against activities that exist in Graph but not in
 * the ledger: a lost or reset state store, another installation writing to the provider, a
 * crash between POST and ledger write. The last is covered by the write-ahead `pending` rows
 * whatever is decided here; the others are excluded only by a recorded decision that the
 * provider was new when this very ledger (its epoch) was started.
 */
export type LedgerCoverage =
  | { readonly kind: 'providerNew'; readonly decision: ProviderNewDecision }
  | { readonly kind: 'unproven'; readonly reason: string };

/** What the engine asks before planning (SyncDeps.lookups). */
export interface LookupPolicy {
  /** True when a record with no ledger row cannot have an activity in Graph. */
  ledgerCoversProvider(providerId: string, options?: StateOperationOptions): Promise<boolean>;
  /** The current ledger's epoch; undefined while none was started (a new, lost or replaced ledger table). */
  ledgerEpoch(options?: StateOperationOptions): Promise<string | undefined>;
  /** The current ledger's epoch, started now if it has none: what a cursor that vouches for this ledger records. */
  ensureLedgerEpoch(options?: StateOperationOptions): Promise<string>;
}

export async function ledgerCoverage(store: Pick<ProviderDecisionStore, 'get' | 'ledgerEpoch'>, providerId: string, options: StateOperationOptions = {}): Promise<LedgerCoverage> {
  const [decision, epoch] = await Promise.all([store.get(providerId, options), store.ledgerEpoch(options)]);
  if (decision === undefined) return { kind: 'unproven', reason: 'no one recorded that this provider was new (`viva-sync provider register` or `viva-sync provider mark-new`)' };
  if (decision.providerId !== providerId) return { kind: 'unproven', reason: 'the recorded decision names another provider' };
  if (epoch === undefined) return { kind: 'unproven', reason: `the ledger was replaced since the provider was marked new (${decision.decidedAt}): it has no epoch` };
  if (epoch !== decision.ledgerEpoch) return { kind: 'unproven', reason: `the ledger was replaced since the provider was marked new (${decision.decidedAt}): epoch ${epoch}, not ${decision.ledgerEpoch}` };
  return { kind: 'providerNew', decision };
}

/** The engine's policy over the decision store; says in the log when the answer changes. */
export function lookupPolicyOf(store: ProviderDecisionStore, logger: Logger = silentLogger): LookupPolicy {
  let last: string | undefined;
  // A run asks for the epoch and the coverage together (Run.loadState): one read in flight serves both.
  let inFlight: { readonly signal: AbortSignal | undefined; readonly read: Promise<string | undefined> } | undefined;
  const ledgerEpoch = (options: StateOperationOptions = {}): Promise<string | undefined> => {
    if (inFlight !== undefined && inFlight.signal === options.abortSignal) return inFlight.read;
    const read = store.ledgerEpoch(options);
    const mine = { signal: options.abortSignal, read };
    inFlight = mine;
    const forget = (): void => {
      if (inFlight === mine) inFlight = undefined;
    };
    read.then(forget, forget);
    return read;
  };
  const decisions = { get: (providerId: string, options?: StateOperationOptions) => store.get(providerId, options), ledgerEpoch };
  return {
    ledgerCoversProvider: async (providerId, options) => {
      const coverage = await ledgerCoverage(decisions, providerId, options);
      const said =
        coverage.kind === 'providerNew'
          ? `Creates skip the lookup by external id: provider ${providerId} was recorded new (${coverage.decision.decidedBy}, ${coverage.decision.decidedAt}) for this ledger`
          : `The provider is not recorded as new for this ledger (${coverage.reason}): a create the ledger cannot vouch for looks up by external id first`;
      if (said !== last) logger.info(said);
      last = said;
      return coverage.kind === 'providerNew';
    },
    ledgerEpoch,
    ensureLedgerEpoch: (options) => store.ensureLedgerEpoch(options),
  };
}
