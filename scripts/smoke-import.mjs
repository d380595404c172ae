// Imports every compiled function entry with plain Node, outside vitest: a bad ESM import
// (a named class import from @azure/functions, a directory import) makes Azure load zero
// functions while tsc and vitest stay green (reference/azure-platform.md §1.2).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const dirs = ['dist/functions', 'dist/src/cli'];
let failed = 0;
let loaded = 0;
for (const dir of dirs) {
  for (const name of readdirSync(join(root, dir)).filter((f) => f.endsWith('.js'))) {
    try {
      await import(pathToFileURL(join(root, dir, name)).href);
      loaded += 1;
    } catch (err) {
      failed += 1;
      console.error(`smoke-import: ${dir}/${name} failed to load: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
if (loaded === 0) {
  console.error('smoke-import: no entry files found; run npm run build first');
  process.exit(1);
}
console.log(`smoke-import: ${loaded} entry files loaded, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
