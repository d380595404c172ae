import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loadConfig.js';

const emptyDir = mkdtempSync(join(tmpdir(), 'cfg-q-'));
const minimal = { VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'file', LMS_FILE_PATH: 'x.csv', AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('quarantine settings', () => {
  it('default to a 40% failure share and 500 deletes', () => {
    expect(loadConfig(minimal, { cwd: emptyDir }).quarantine).toEqual({ failureShare: 0.4, maxDeletes: 500 });
  });

  it('read a share from 0 to 1 and a whole number of deletes', () => {
    const config = loadConfig({ ...minimal, SYNC_QUARANTINE_FAILURE_SHARE: '0.25', SYNC_QUARANTINE_MAX_DELETES: '0' }, { cwd: emptyDir });
    expect(config.quarantine).toEqual({ failureShare: 0.25, maxDeletes: 0 });
    expect(loadConfig({ ...minimal, SYNC_QUARANTINE_FAILURE_SHARE: '1' }, { cwd: emptyDir }).quarantine.failureShare).toBe(1);
  });

  it('name both settings when they are wrong', () => {
    let error: unknown;
    try {
      loadConfig({ ...minimal, SYNC_QUARANTINE_FAILURE_SHARE: '40%', SYNC_QUARANTINE_MAX_DELETES: '-1' }, { cwd: emptyDir });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting)).toEqual(['SYNC_QUARANTINE_FAILURE_SHARE', 'SYNC_QUARANTINE_MAX_DELETES']);
    expect((error as Error).message).toContain('SYNC_QUARANTINE_FAILURE_SHARE must be a number from 0 to 1, such as 0.4 (got "40%")');
    for (const bad of ['1.5', 'abc', '-0.1']) expect(() => loadConfig({ ...minimal, SYNC_QUARANTINE_FAILURE_SHARE: bad }, { cwd: emptyDir })).toThrow(/SYNC_QUARANTINE_FAILURE_SHARE/);
  });
});
