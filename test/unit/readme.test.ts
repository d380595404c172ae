import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/config/loadConfig.js';
import { ADAPTER_SETTING_NAMES } from '../../src/lms/settingNames.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const settingsSection = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## The command line'));
/** Setting names the settings table mentions (a row of its own, or inside a row such as GRAPH_AUTH's), including `LMS_XAPI_*` patterns. */
const documented = [...settingsSection.matchAll(/^\|.*$/gm)].flatMap((row) => [...row[0].matchAll(/`([A-Za-z_]+\*?)`/g)].map((m) => m[1] ?? ''));

function isDocumented(name: string): boolean {
  return documented.some((d) => (d.endsWith('*') ? name.startsWith(d.slice(0, -1)) : d === name));
}

describe('README', () => {
  it('documents every setting the code reads', () => {
    const identityStorage = /^AzureWebJobsStorage__/; // documented in the AzureWebJobsStorage row
    const missing = [...SETTING_NAMES, ...ADAPTER_SETTING_NAMES].filter((name) => !isDocumented(name) && !identityStorage.test(name));
    expect(missing, 'add these to the settings table in README.md').toEqual([]);
  });

  it('shows the two commands a new user runs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('links only documents that exist', () => {
    const links = [...readme.matchAll(/\]\(((?:docs|examples|infra)\/[^)#]*)\)/g)].map((m) => m[1] ?? '');
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(() => readFileSync(resolve(import.meta.dirname, '../..', link.endsWith('/') ? `${link}README.md` : link)), link).not.toThrow();
  });
});
