import type { Capacity } from '../sync/catalog/capacity.js';
import type { CatalogSummary } from '../sync/catalog/catalogPass.js';

/** The catalog pass's lines of the run summary (text form). */
export function formatCatalogLines(catalog: CatalogSummary | undefined): string[] {
  if (catalog === undefined) return [];
  return [
    `  catalog: read ${catalog.read}, content created ${catalog.created}, updated ${catalog.updated}, retired ${catalog.retired}, unchanged ${catalog.unchanged}, failed ${catalog.failed}${catalog.complete ? '' : ` (${catalog.finished ? 'a listing of changes: nothing retired by absence' : 'stopped early: nothing retired by absence'})`}`,
    ...formatCapacityLines(catalog.capacity, '  '),
  ];
}

/** The tenant capacity used, and the warning from 80% on: in the run summary and `viva-sync status`. */
export function formatCapacityLines(capacity: Capacity, indent = ''): string[] {
  const lines = [`${indent}Viva Learning items of this provider: ${capacity.active} active of ${capacity.maxActive}, ${capacity.total} in all of ${capacity.maxTotal}`];
  if (capacity.warning !== undefined) lines.push(`${indent}WARNING: ${capacity.warning}`);
  return lines;
}
