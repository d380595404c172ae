import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'viva-learning-sync';

/**
 * The version in package.json. Walks up from this file because it runs from two depths:
 * src/cli (tests, tsx) and dist/src/cli (the built bin).
 */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === PACKAGE_NAME && 'version' in parsed && typeof parsed.version === 'string') {
        return parsed.version;
      }
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
