import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';

const emptyDir = mkdtempSync(join(tmpdir(), 'qcfg-'));
const minimal = { VIVA_PROVIDER_ID: 'p', LMS_ADAPTER: 'file', LMS_FILE_PATH: 'x.csv', AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('queue mode settings', () => {
  it('accepts SYNC_MODE=queue, with the default work queue', () => {
    expect(loadConfig({ ...minimal, SYNC_MODE: 'queue' }, { cwd: emptyDir })).toMatchObject({ mode: 'queue', queueName: 'vivasync-work' });
    expect(loadConfig({ ...minimal, SYNC_QUEUE_NAME: 'tenant-a-work' }, { cwd: emptyDir }).queueName).toBe('tenant-a-work');
  });

  it.each(['Work', 'ab', 'a--b', '-abc', 'abc-', 'a'.repeat(57)])('refuses the queue name %s', (name) => {
    expect(() => loadConfig({ ...minimal, SYNC_QUEUE_NAME: name }, { cwd: emptyDir })).toThrow(/SYNC_QUEUE_NAME/);
  });
});
