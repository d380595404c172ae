/**
 * What the status reports (the operator's page and `viva-sync status`) say about the content this
 * provider wrote: the catalog's active and retired courses, and the tenant capacity used. One pass
 * over the Contents table without bodies, shared by both counts.
 */
import type { ContentStore, StateOperationOptions } from '../../state/types.js';
import { CapacityTally, type Capacity, type CapacityLimits } from './capacity.js';

export interface ContentCounts {
  /** Courses the catalog pass keeps, active and retired; null when it never ran (no catalog rows). */
  readonly catalog: { readonly active: number; readonly retired: number } | null;
  /** Every content row (catalog or enrollment written) against the tenant limits, with a warning from 80%. */
  readonly capacity: Capacity;
}

export interface ContentCountsOptions extends StateOperationOptions {
  readonly capacityLimits?: CapacityLimits;
}

export async function readContentCounts(contents: Pick<ContentStore, 'listStatus'>, options: ContentCountsOptions = {}): Promise<ContentCounts> {
  const tally = new CapacityTally();
  let active = 0;
  let retired = 0;
  for await (const row of contents.listStatus(options)) {
    tally.add(row);
    if (row.origin !== 'catalog') continue;
    if (row.active === false) retired += 1;
    else active += 1;
  }
  return { catalog: active + retired === 0 ? null : { active, retired }, capacity: tally.capacity(options.capacityLimits) };
}
