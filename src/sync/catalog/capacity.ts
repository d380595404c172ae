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

/** The limits to count against: the tenant's (tests lower them rather than write 400,000 rows). */
export interface CapacityLimits {
  readonly maxActive: number;
  readonly maxTotal: number;
}

export const TENANT_LIMITS: CapacityLimits = { maxActive: MAX_ACTIVE_ITEMS, maxTotal: MAX_TOTAL_ITEMS };

/** Counts content rows as they stream by, so a reader that also counts other things needs one pass. */
export class CapacityTally {
  private active = 0;
  private total = 0;

  add(row: Pick<ContentStatusRow, 'active'>): void {
    this.total += 1;
    if (row.active !== false) this.active += 1;
  }

  capacity(limits: CapacityLimits = TENANT_LIMITS): Capacity {
    return withWarning({ active: this.active, total: this.total, maxActive: limits.maxActive, maxTotal: limits.maxTotal });
  }
}

export function capacityOf(rows: Iterable<Pick<ContentStatusRow, 'active'>>, limits: CapacityLimits = TENANT_LIMITS): Capacity {
  const tally = new CapacityTally();
  for (const row of rows) tally.add(row);
  return tally.capacity(limits);
}

export function withWarning(counts: Omit<Capacity, 'warning'>): Capacity {
  const parts: string[] = [];
  if (counts.active >= counts.maxActive * CAPACITY_WARNING_SHARE) parts.push(`${counts.active} active learning items of the tenant limit of ${counts.maxActive}`);
  if (counts.total >= counts.maxTotal * CAPACITY_WARNING_SHARE) parts.push(`${counts.total} learning items in all of the tenant limit of ${counts.maxTotal}`);
  if (parts.length === 0) return counts;
  return { ...counts, warning: `this provider has written ${parts.join(' and ')} (80% or more): retire courses no longer needed, or ask Microsoft about the limit` };
}
