import type { ContentStatusRow } from '../../state/types.js';

/**
 * Viva Learning holds at most 500,000 active and 1,000,000 total learning items per tenant
 * (reference/graph-learning-api.md, "Tenant limits"). Counted from what this provider wrote
 * (the content ledger); other providers' items in the tenant are not visible here.
 */
export const MAX_ACTIVE_ITEMS = 500_000;
export const MAX_TOTAL_ITEMS = 1_000_000;
/** A warning is given from this share of either limit on. */
export const CAPACITY_WARNING_SHARE = 0.8;

export interface Capacity {
  readonly active: number;
  readonly total: number;
  readonly maxActive: number;
  readonly maxTotal: number;
  /** Set from 80% of either limit: what to tell the operator. */
  readonly warning?: string;
}

export function capacityOf(rows: Iterable<Pick<ContentStatusRow, 'active'>>): Capacity {
  let active = 0;
  let total = 0;
  for (const row of rows) {
    total += 1;
    if (row.active !== false) active += 1;
  }
  return withWarning({ active, total, maxActive: MAX_ACTIVE_ITEMS, maxTotal: MAX_TOTAL_ITEMS });
}

export function withWarning(counts: Omit<Capacity, 'warning'>): Capacity {
  const parts: string[] = [];
  if (counts.active >= counts.maxActive * CAPACITY_WARNING_SHARE) parts.push(`${counts.active} active learning items of the tenant limit of ${counts.maxActive}`);
  if (counts.total >= counts.maxTotal * CAPACITY_WARNING_SHARE) parts.push(`${counts.total} learning items in all of the tenant limit of ${counts.maxTotal}`);
  if (parts.length === 0) return counts;
  return { ...counts, warning: `this provider has written ${parts.join(' and ')} (80% or more): retire courses no longer needed, or ask Microsoft about the limit` };
}
