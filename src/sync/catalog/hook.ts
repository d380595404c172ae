import type { FinalRunStatus } from '../types.js';
import type { CatalogSummary } from './catalogPass.js';

export type { CatalogSummary } from './catalogPass.js';

export interface CatalogRunContext {
  readonly runId: string;
  readonly abortSignal: AbortSignal;
  readonly full?: boolean;
  readonly pageSize?: number;
}

/** The catalog pass as the engine sees it: undefined when the adapter cannot list courses. */
export type CatalogHook = (context: CatalogRunContext) => Promise<CatalogSummary | undefined>;

interface Outcome {
  readonly status: FinalRunStatus;
  readonly message?: string;
  readonly catalog?: CatalogSummary;
}

/**
 * The catalog pass first, then the enrollment pass, under one lease: content exists before the
 * activities that use it. A fatal Graph failure in the catalog pass stops the run; an early
 * stop (time budget) leaves a run that is at best partial.
 */
export async function withCatalogPass<T extends Outcome>(hook: CatalogHook | undefined, context: CatalogRunContext, enrollmentPass: () => Promise<T>): Promise<Outcome> {
  const catalog = hook === undefined ? undefined : await hook(context);
  if (catalog?.fatal !== undefined) return { status: 'failed', message: catalog.fatal, catalog };
  const outcome = await enrollmentPass();
  if (catalog === undefined) return outcome;
  if (!catalog.finished && outcome.status === 'succeeded') return { ...outcome, status: 'partial', message: catalog.message ?? 'the catalog pass did not finish', catalog };
  return { ...outcome, catalog };
}
