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

describe('the CLI worker and the hosted queue trigger agree (host.json)', () => {
  it('maxDequeueCount and the retry delay (visibilityTimeout) are the same', async () => {
    const { readFileSync } = await import('node:fs');
    const { MAX_DEQUEUE_COUNT, RETRY_DELAY_SECONDS, DEFAULT_VISIBILITY_SECONDS } = await import('../../src/sync/queue/worker.js');
    const host = JSON.parse(readFileSync(join(import.meta.dirname, '../../host.json'), 'utf8')) as { extensions: { queues: { maxDequeueCount: number; visibilityTimeout: string } } };
    const [h, m, s] = host.extensions.queues.visibilityTimeout.split(':').map(Number);
    expect(host.extensions.queues.maxDequeueCount).toBe(MAX_DEQUEUE_COUNT);
    expect((h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0)).toBe(RETRY_DELAY_SECONDS);
    // A taken message is hidden longer than the retry delay and renewed meanwhile.
    expect(DEFAULT_VISIBILITY_SECONDS).toBeGreaterThan(RETRY_DELAY_SECONDS);
  });
});
