// Copies the non-TypeScript files the compiled code reads at run time into dist/ (tsc copies only
// what it compiles). Today: the Graph stand-in's metadata (src/sandbox/graphStandIn/metadata/*.xml).
import { cpSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ASSET_DIRS = ['src/sandbox/graphStandIn/metadata'];

for (const dir of ASSET_DIRS) {
  const from = resolve(root, dir);
  if (!existsSync(from)) throw new Error(`copy-assets: ${dir} is missing`);
  cpSync(from, resolve(root, 'dist', dir), { recursive: true });
}
