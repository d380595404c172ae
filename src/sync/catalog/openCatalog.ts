import type { CatalogScope } from '../../config/loadConfig.js';
import type { VivaGateway } from '../../graph/gateway.js';
import type { LmsAdapter } from '../../lms/types.js';
import type { CursorStore, SyncState } from '../../state/types.js';
import type { TimeBudget } from '../budget.js';
import type { Logger } from '../logger.js';
import { runCatalogPass } from './catalogPass.js';
import type { CatalogHook } from './hook.js';

export interface CatalogWiring {
  readonly scope: CatalogScope;
  readonly adapter: LmsAdapter;
  readonly gateway: VivaGateway;
  readonly state: Pick<SyncState, 'contents' | 'deadLetters'>;
  /** The catalog's own cursor (not the enrollments'). */
  readonly cursor: CursorStore;
  readonly logger: Logger;
  readonly budget: TimeBudget;
}

/** `{ catalog }` for the engine's deps when SYNC_CATALOG=all and the adapter lists courses; `{}` otherwise. */
export function catalogHookFor(wiring: CatalogWiring): { catalog?: CatalogHook } {
  if (wiring.scope !== 'all' || wiring.adapter.listCatalog === undefined) return {};
  const catalog: CatalogHook = (context) =>
    runCatalogPass(
      { adapter: wiring.adapter, gateway: wiring.gateway, contents: wiring.state.contents, cursor: wiring.cursor, deadLetters: wiring.state.deadLetters, logger: wiring.logger, budget: wiring.budget, runId: context.runId, abortSignal: context.abortSignal },
      { ...(context.full !== undefined ? { full: context.full } : {}), ...(context.pageSize !== undefined ? { pageSize: context.pageSize } : {}) },
    );
  return { catalog };
}
