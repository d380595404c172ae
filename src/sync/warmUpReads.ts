import type { StagedDeleteStore } from '../state/stagedDeleteStore.js';
import type { StateOperationOptions, SyncState } from '../state/types.js';
import type { LookupPolicy } from './lookupPolicy.js';

/** A key no enrollment, course or learner has: the reads below find nothing. */
const NO_SUCH_KEY = 'viva-sync warm-up';

/**
 * At start-up (never at a module's top level): the reads a single-record run makes before its
 * first Graph request, made once with a key that matches nothing. Each store's first request
 * then no longer pays for the code it runs the first time (the table SDK's request pipeline, the
 * query and batch paths, the stores' parsing), and the connections to the storage are open.
 * Reads only: nothing is written, no lease is taken, no Graph request is sent.
 */
export async function warmUpReads(stores: { readonly state: SyncState; readonly stagedDeletes: StagedDeleteStore; readonly lookups?: LookupPolicy }, options: StateOperationOptions = {}): Promise<void> {
  const { state, stagedDeletes, lookups } = stores;
  await Promise.all([
    state.cursor.get(options),
    state.lease.current(options),
    lookups?.ledgerEpoch(options),
    state.deadLetters.get(NO_SUCH_KEY, options),
    stagedDeletes.list(options),
    state.ledger.getMany([NO_SUCH_KEY], options),
    state.contents.getMany([NO_SUCH_KEY], options),
    state.learners.get(`userPrincipalName:${NO_SUCH_KEY}`, 0, options),
  ]);
}
