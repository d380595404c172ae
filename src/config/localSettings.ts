import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Reads `local.settings.json` `Values` from `cwd`, as Azure Functions Core Tools does, so
 * that the CLI and `npm start` see the same settings as `func start`. A missing file is
 * normal; an unreadable one is a settings error.
 */
export function readLocalSettings(cwd: string): Record<string, string> {
  const path = join(cwd, 'local.settings.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([{ setting: 'local.settings.json', problem: `cannot be read (${(err as Error).message})` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError([{ setting: 'local.settings.json', problem: 'is not valid JSON' }]);
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (values === undefined) return {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError([{ setting: 'local.settings.json', problem: '"Values" must be an object of strings' }]);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
}

/** The environment wins over local.settings.json. */
export function mergeSettings(env: NodeJS.ProcessEnv, local: Record<string, string>): Record<string, string | undefined> {
  return { ...local, ...env };
}
