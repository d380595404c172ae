// Builds the lean deployment package azd uploads (azure.yaml: `dist: .deploy`, run as the service's
// prepackage hook after azd's `npm install` and `npm run build`): only dist/functions, dist/src,
// host.json, package.json (+ lock) and the PRODUCTION node_modules. The project folder holds the
// dev tools too (azurite, vitest, typescript, eslint: most of node_modules), and Flex Consumption
// gives an app 30 s to initialise, so they must not travel.
//
//   node scripts/package.mjs            stage into .deploy/
//   node scripts/package.mjs --measure  stage, then print the package's size against the whole folder
//   node scripts/package.mjs --check    stage, then import every function entry from .deploy/ with
//                                       plain Node (fails if a production import needs a dev package)
//
// The production packages are copied from the installed node_modules by `npm ls --omit=dev`, so no
// network is needed and the versions are exactly those of package-lock.json.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { deflateRawSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.deploy');
const args = new Set(process.argv.slice(2));

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}

if (!existsSync(join(root, 'dist/functions'))) fail('dist/functions is missing: run `npm run build` first');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// The app: compiled functions and core (not the bench), and what the host reads.
for (const path of ['dist/functions', 'dist/src', 'host.json', 'package.json', 'package-lock.json']) {
  if (!existsSync(join(root, path))) fail(`${path} is missing`);
  cpSync(join(root, path), join(out, path), { recursive: true });
}

// Production packages: the top-level ones npm lists without dev dependencies; the packages nested
// inside them (their own node_modules) come along with them.
const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (listed.status !== 0 && listed.stdout.trim() === '') fail(`npm ls failed: ${listed.stderr.trim()}`);
const topLevel = new Set();
for (const line of listed.stdout.split('\n')) {
  const rel = relative(root, line.trim());
  const parts = rel.split(sep);
  if (parts[0] !== 'node_modules' || parts.length < 2) continue;
  topLevel.add(parts[1]?.startsWith('@') ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/'));
}
for (const pkg of topLevel) {
  if (!existsSync(join(root, pkg))) continue;
  cpSync(join(root, pkg), join(out, pkg), { recursive: true, filter: (src) => !src.includes(`${sep}.bin`) });
}

const summary = measure(out);
process.stdout.write(`package: .deploy/ holds ${summary.files} files, ${mb(summary.bytes)} (about ${mb(summary.zipped)} zipped); ${topLevel.size} production packages\n`);

if (args.has('--measure')) {
  // What azd uploaded before: the folder after `npm install` (dev dependencies included), less
  // the sources the old .funcignore dropped.
  const all = measure(root, (rel) => /^(\.git|\.deploy|\.sandbox|\.azure|coverage|test|infra|examples|scripts|bench|docs|src|functions)(\/|$)/.test(rel) || /\.ts$/.test(rel) && !rel.startsWith('dist/'));
  const packages = readdirSync(join(root, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(root, 'node_modules', n)).map((m) => `${n}/${m}`) : [n])).filter((n) => !n.startsWith('.'));
  process.stdout.write(`package: the whole folder would be ${all.files} files, ${mb(all.bytes)} (about ${mb(all.zipped)} zipped), ${packages.length} top-level packages\n`);
}

if (args.has('--check')) {
  const entries = readdirSync(join(out, 'dist/functions')).filter((f) => f.endsWith('.js'));
  const script = entries.map((f) => `await import(${JSON.stringify(`./dist/functions/${f}`)});`).join('\n');
  // From a copy outside the project: inside it, imports would also resolve from the full node_modules above.
  const copy = mkdtempSync(join(tmpdir(), 'viva-deploy-'));
  cpSync(out, copy, { recursive: true });
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: copy, encoding: 'utf8' });
  rmSync(copy, { recursive: true, force: true });
  if (result.status !== 0) fail(`importing the functions from .deploy/ failed:\n${result.stderr}`);
  process.stdout.write(`package: the ${entries.length} function entries import from .deploy/ alone\n`);
}

/** Files, bytes and an estimate of the zip (each file deflated) under `dir`, minus what `skip` drops. */
function measure(dir, skip = () => false) {
  let files = 0;
  let bytes = 0;
  let zipped = 0;
  const walk = (path) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const rel = relative(dir, full).split(sep).join('/');
      if (skip(rel)) continue;
      const stat = statSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) {
        files += 1;
        bytes += stat.size;
        zipped += deflateRawSync(readFileSync(full)).length + 30 + 46 + 2 * rel.length;
      }
    }
  };
  walk(dir);
  return { files, bytes, zipped };
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
