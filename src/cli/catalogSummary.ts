import type { CatalogSummary } from '../sync/catalog/catalogPass.js';

/** The catalog pass's lines of the run summary (text form). */
export function formatCatalogLines(catalog: CatalogSummary | undefined): string[] {
  if (catalog === undefined) return [];
  const lines = [
    `  catalog: read ${catalog.read}, content created ${catalog.created}, updated ${catalog.updated}, retired ${catalog.retired}, unchanged ${catalog.unchanged}, failed ${catalog.failed}${catalog.complete ? '' : ` (${catalog.finished ? 'a listing of changes: nothing retired by absence' : 'stopped early: nothing retired by absence'})`}`,
    `  Viva Learning items of this provider: ${catalog.capacity.active} active of ${catalog.capacity.maxActive}, ${catalog.capacity.total} in all of ${catalog.capacity.maxTotal}`,
  ];
  if (catalog.capacity.warning !== undefined) lines.push(`  WARNING: ${catalog.capacity.warning}`);
  return lines;
}
