import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseTimeSpan } from '../../src/config/hostTimeout.js';
import { defaultBudget, loadConfig } from '../../src/config/loadConfig.js';

const emptyDir = mkdtempSync(join(tmpdir(), 'cfg-'));
const minimal = { VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'file', LMS_FILE_PATH: 'x.csv', AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

function problemsOf(env: NodeJS.ProcessEnv, cwd = emptyDir): string {
  try {
    loadConfig(env, { cwd });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(minimal, { cwd: emptyDir });
    expect(c.graph).toMatchObject({ baseUrl: 'https://graph.microsoft.com', apiVersion: 'v1.0', auth: { kind: 'default' } });
    expect(c).toMatchObject({ tablePrefix: 'vivasync', learnerMatch: 'userPrincipalName', schedule: '0 */15 * * * *', mode: 'inline', timeBudgetSeconds: undefined });
  });

  it('names every bad setting in one line', () => {
    const message = problemsOf({ LMS_ADAPTER: 'file', GRAPH_API_VERSION: 'v2', LEARNER_MATCH: 'name' });
    expect(message.split('\n')).toHaveLength(1);
    for (const name of ['VIVA_PROVIDER_ID', 'LMS_FILE_PATH', 'GRAPH_API_VERSION', 'LEARNER_MATCH', 'AzureWebJobsStorage']) expect(message).toContain(name);
  });

  it('refuses a static token unless Graph is a loopback address', () => {
    expect(problemsOf({ ...minimal, GRAPH_AUTH: 'static-token', GRAPH_TOKEN: 'secret-value' })).toContain('GRAPH_AUTH static-token is refused');
    const c = loadConfig({ ...minimal, GRAPH_AUTH: 'static-token', GRAPH_TOKEN: 't', GRAPH_BASE_URL: 'http://127.0.0.1:9999' }, { cwd: emptyDir });
    expect(c.graph.auth).toEqual({ kind: 'static-token', token: 't' });
  });

  it('never repeats a secret value', () => {
    const message = problemsOf({ ...minimal, AzureWebJobsStorage: 'super-secret-thing', WEBHOOK_SECRET: 'not-a-whsec' });
    expect(message).not.toContain('super-secret-thing');
    expect(message).not.toContain('not-a-whsec');
    expect(message).toContain('WEBHOOK_SECRET');
  });

  it('reads local.settings.json Values, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ Values: { ...minimal, VIVA_PROVIDER_ID: 'from-file', LEARNER_MATCH: 'mail' } }));
    const c = loadConfig({ VIVA_PROVIDER_ID: 'from-env' }, { cwd: dir });
    expect(c.providerId).toBe('from-env');
    expect(c.learnerMatch).toBe('mail');
  });

  it('accepts an identity-based storage connection', () => {
    const { AzureWebJobsStorage: _omit, ...rest } = minimal;
    const c = loadConfig({ ...rest, AzureWebJobsStorage__accountName: 'acct' }, { cwd: emptyDir });
    expect(c.storage).toEqual({ kind: 'endpoint', url: 'https://acct.table.core.windows.net' });
  });

  it('derives the time budget from the host timeout, and 0 means none', () => {
    expect(loadConfig(minimal, { cwd: emptyDir, hostTimeoutSeconds: 600 }).timeBudgetSeconds).toBe(defaultBudget(600));
    expect(defaultBudget(600)).toBe(480);
    expect(loadConfig({ ...minimal, SYNC_TIME_BUDGET_SECONDS: '0' }, { cwd: emptyDir, hostTimeoutSeconds: 600 }).timeBudgetSeconds).toBeUndefined();
    expect(problemsOf({ ...minimal, SYNC_TIME_BUDGET_SECONDS: '-5' })).toContain('SYNC_TIME_BUDGET_SECONDS');
    expect(parseTimeSpan('00:10:00')).toBe(600);
  });

  it('rejects a malformed schedule and a bad table prefix', () => {
    const message = problemsOf({ ...minimal, SYNC_SCHEDULE: 'every hour', SYNC_TABLE_PREFIX: '9-bad' });
    expect(message).toContain('SYNC_SCHEDULE');
    expect(message).toContain('SYNC_TABLE_PREFIX');
  });
});
