/**
 * A webhook is never lost to a crash: an instance SIGKILLed between claiming the `webhook-id` and
 * writing to Graph leaves the claim `processing`; once it expires, the sender's redelivery is
 * processed (not answered "duplicate"), and after that a redelivery is a duplicate.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/sync/logger.js';
import { webhookEndpoint } from '../../src/webhook/endpoints.js';
import { signWebhook } from '../../src/webhook/signature.js';
import { anEnrollment } from '../support/builders.js';
import { SyncHarness } from '../support/syncHarness.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const CLAIM_TTL_MS = 3_000;
const repoRoot = resolve(import.meta.dirname, '../..');

let harness: SyncHarness | undefined;
let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await harness?.close();
  harness = undefined;
});

function table(h: SyncHarness, suffix: string): TableClient {
  return TableClient.fromConnectionString(inject('azuriteConnectionString'), `${h.env.SYNC_TABLE_PREFIX ?? ''}${suffix}`, { allowInsecureConnection: true });
}

async function rows<T extends object>(client: TableClient): Promise<T[]> {
  const out: T[] = [];
  for await (const entity of client.listEntities<T>()) out.push(entity);
  return out;
}

/** Time passing, as far as the run lease is concerned: the killed instance's lease has expired. */
async function expireLease(h: SyncHarness): Promise<void> {
  const client = table(h, 'Lease');
  const lease = await client.getEntity<{ owner: string; expiresAt: string }>('lease', 'sync');
  await client.updateEntity({ partitionKey: 'lease', rowKey: 'sync', owner: lease.owner, expiresAt: '2000-01-01T00:00:00.000Z' }, 'Merge');
}

describe('a webhook whose instance dies mid-delivery', () => {
  it('is processed again once its claim expires; then a redelivery is a duplicate', async () => {
    const h = (harness = await SyncHarness.create());
    h.env.WEBHOOK_SECRET = SECRET;
    h.writeExport([anEnrollment({ enrollmentId: 'k1', learner: { upn: 'ada.lovelace@contoso.example', email: 'ada.lovelace@contoso.example' } })]);

    const instance = spawn(process.execPath, [join(repoRoot, 'test/support/webhookInstance.mjs')], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', ...h.env, WEBHOOK_CLAIM_TTL_MS: String(CLAIM_TTL_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = instance;
    const exited = new Promise<NodeJS.Signals | null>((done) => instance.on('close', (_code, signal) => done(signal)));
    const port = await new Promise<string>((done, fail) => {
      instance.stdout.once('data', (chunk: Buffer) => done(chunk.toString().trim()));
      instance.once('close', () => fail(new Error('the webhook instance did not start')));
    });

    // The instance dies on its first Graph request: after the claim, before any write.
    let graphRequests = 0;
    h.standIn.setOptions({ faults: { decide: () => ((graphRequests += 1), instance.kill('SIGKILL'), 'hang') } });
    const body = JSON.stringify({ enrollmentId: 'k1' });
    const signed = signWebhook(SECRET, 'msg_crash', body);
    const headers = { 'content-type': 'application/json', ...signed.headers };
    const first = await fetch(`http://127.0.0.1:${port}/api/lms/webhook`, { method: 'POST', headers, body }).then(
      () => 'answered',
      () => 'no answer',
    );
    expect(first).toBe('no answer');
    expect(await exited).toBe('SIGKILL');
    expect(graphRequests).toBeGreaterThan(0);
    h.standIn.setOptions({ faults: {} });
    expect(h.standIn.activities()).toHaveLength(0);
    const claims = await rows<{ state: string; expiresAt: string }>(table(h, 'WebhookIds'));
    expect(claims.map((c) => c.state)).toEqual(['processing']);
    await expireLease(h);

    // The sender redelivers (same id, body and signature).
    const redeliver = () =>
      webhookEndpoint(new Request('http://127.0.0.1/api/lms/webhook', { method: 'POST', headers, body }), { logger: silentLogger, env: h.env, cwd: h.dir, webhookClaimTtlMs: CLAIM_TTL_MS });
    // While the claim may still belong to a live instance: try later.
    const early = await redeliver();
    expect(early).toMatchObject({ status: 409, jsonBody: { error: 'inProgress' }, headers: { 'Retry-After': expect.stringMatching(/^\d+$/) } });
    await sleep(Math.max(0, Date.parse(claims[0]?.expiresAt ?? '') - Date.now()) + 100);

    const redelivered = await redeliver();
    expect(redelivered).toMatchObject({ status: 200, jsonBody: { status: 'processed', duplicate: false, enrollmentId: 'k1', outcome: 'created' } });
    expect(h.standIn.activities().map((a) => a.externalCourseActivityId)).toEqual(['k1']);
    expect(await redeliver()).toMatchObject({ status: 200, jsonBody: { status: 'duplicate', duplicate: true } });
    const done = await rows<{ state: string; attempts: number }>(table(h, 'WebhookIds'));
    expect(done).toMatchObject([{ state: 'done', attempts: 2 }]);
  });
});
