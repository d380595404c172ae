import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import {
  bucketOf,
  createTableClient,
  createTableState,
  CursorConflictError,
  encodeKey,
  LeaseLostError,
  ledgerKeys,
  MAX_RECORD_LENGTH,
  TableCursorStore,
  TableDeadLetterStore,
  TableLearnerCache,
  TableLedgerStore,
  TableRunLease,
} from '../../src/state/index.js';
import type { DeadLetter, LedgerEntry, RunRecord } from '../../src/state/index.js';
import { truncateText } from '../../src/state/tableClients.js';
import { startAzurite } from '../support/azurite.js';
import { createTestState, testConnection } from '../support/state.js';
import type { TestState } from '../support/state.js';

const SPECIAL_IDS = [
  'a/b',
  'hash#tag',
  'what?',
  "o'brien",
  'urn:course:1:enr:2',
  '100%',
  'back\\slash',
  'bang!21',
  'ünïcødé 日本語 🎓',
  ' spaced out ',
  'x'.repeat(800), // over-long: stored under a hashed key
];

function ledgerEntry(externalId: string, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return { externalId, enrollmentId: `enr-${externalId}`, state: 'synced', vivaId: `viva:${externalId}`, fingerprint: 'f1', ...overrides };
}

/** The `filter` of every listEntities call the spy saw. */
function filtersOf(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map((call) => {
    const options = call[0] as { queryOptions?: { filter?: string } } | undefined;
    return options?.queryOptions?.filter ?? '';
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

describe('createTableState', () => {
  it('creates the seven tables, idempotently', async () => {
    const state = await createTestState('tables');
    expect(state.tableNames).toHaveLength(7);
    expect(state.tableNames).toContain(`${state.tablePrefix}Ledger`);
    const again = await createTableState({ connection: state.connection, tablePrefix: state.tablePrefix });
    expect(again.tableNames).toEqual(state.tableNames);
  });

  it.each(['9lives', 'has-dash', 'x'.repeat(60), 'under_score'])('rejects the prefix %j naming SYNC_TABLE_PREFIX', async (prefix) => {
    const error: unknown = await createTableState({ connection: testConnection(), tablePrefix: prefix }).catch((err: unknown) => err);
    expect(isConfigError(error)).toBe(true);
    expect(String(error)).toMatch(/SYNC_TABLE_PREFIX/);
  });

  it('refuses a credential over plain http, and builds an https client without sending anything', () => {
    const credential: TokenCredential = { getToken: () => Promise.resolve(null) };
    expect(() => createTableClient({ kind: 'endpoint', url: 'http://127.0.0.1:10002/devstoreaccount1', credential }, 'x')).toThrow(/https/);
    const client = createTableClient({ kind: 'endpoint', url: 'https://acct.table.core.windows.net', credential }, 'vivasyncLedger');
    expect(client.tableName).toBe('vivasyncLedger');
  });
});

describe('ledger', () => {
  let state: TestState;
  const ids = [...SPECIAL_IDS, ...Array.from({ length: 250 - SPECIAL_IDS.length }, (_, i) => `enr-${i}:course-${i % 7}`)];

  beforeAll(async () => {
    state = await createTestState('ledger');
    await state.ledger.putMany(ids.map((id) => ledgerEntry(id)));
  });

  it('reads back 250 entries across partitions, with keys that need encoding', async () => {
    const found = await state.ledger.getMany([...ids, 'missing-1', 'missing/2']);
    expect(found.size).toBe(250);
    for (const id of ids) expect(found.get(id)).toEqual(ledgerEntry(id));
    expect(found.has('missing-1')).toBe(false);
  });

  it('partitions by bucket (b00…b15) and keys rows by the encoded id', async () => {
    const rows = await collect(state.table('Ledger').listEntities<{ externalId: string }>());
    expect(rows).toHaveLength(250);
    const partitions = new Set(rows.map((row) => row.partitionKey));
    expect(partitions.size).toBe(16);
    for (const row of rows) {
      expect(row.partitionKey).toBe(`b${String(bucketOf(row.externalId, 16)).padStart(2, '0')}`);
      expect(row.rowKey).toBe(encodeKey(row.externalId));
    }
  });

  it('reads with partition queries of at most 14 row keys: no point reads, no scan', async () => {
    const client = state.table('Ledger');
    const listSpy = vi.spyOn(client, 'listEntities');
    const getSpy = vi.spyOn(client, 'getEntity');
    const found = await new TableLedgerStore(client).getMany(ids);
    expect(found.size).toBe(250);
    expect(getSpy).not.toHaveBeenCalled();
    const perPartition = new Map<string, number>();
    for (const id of new Set(ids)) {
      const { partitionKey } = ledgerKeys(id);
      perPartition.set(partitionKey, (perPartition.get(partitionKey) ?? 0) + 1);
    }
    const expectedQueries = [...perPartition.values()].reduce((sum, n) => sum + Math.ceil(n / 14), 0);
    const filters = filtersOf(listSpy);
    expect(filters).toHaveLength(expectedQueries);
    for (const filter of filters) {
      expect(filter).toMatch(/^PartitionKey eq 'b\d\d' and \(RowKey eq '[^']*(?:''[^']*)*'(?: or RowKey eq '[^']*(?:''[^']*)*')*\)$/);
      expect(filter.match(/RowKey eq/g)?.length).toBeLessThanOrEqual(14);
    }
  });

  it('returns an empty map for no ids without a request', async () => {
    const client = state.table('Ledger');
    const listSpy = vi.spyOn(client, 'listEntities');
    expect((await new TableLedgerStore(client).getMany([])).size).toBe(0);
    expect(listSpy).not.toHaveBeenCalled();
  });

  it('lists every entry', async () => {
    const listed = await collect(state.ledger.list());
    expect(listed.map((entry) => entry.externalId).sort()).toEqual([...ids].sort());
  });

  it('replaces whole rows (dropped fields disappear) and keeps the last of duplicate ids', async () => {
    await state.ledger.putMany([
      ledgerEntry('a/b', { state: 'pending', vivaId: undefined, fingerprint: undefined }),
      ledgerEntry('hash#tag', { fingerprint: 'first' }),
      ledgerEntry('hash#tag', { fingerprint: 'last', learnerObjectId: 'oid-1' }),
    ]);
    const found = await state.ledger.getMany(['a/b', 'hash#tag']);
    expect(found.get('a/b')).toEqual({ externalId: 'a/b', enrollmentId: 'enr-a/b', state: 'pending' });
    expect(found.get('hash#tag')).toEqual(ledgerEntry('hash#tag', { fingerprint: 'last', learnerObjectId: 'oid-1' }));
  });

  it('splits more than 100 rows of one partition into transactions of at most 100', async () => {
    const own = await createTestState('split');
    const samePartition: string[] = [];
    for (let i = 0; samePartition.length < 230; i++) if (bucketOf(`split-${i}`, 16) === 5) samePartition.push(`split-${i}`);
    const others = Array.from({ length: 20 }, (_, i) => `other-${i}`).filter((id) => bucketOf(id, 16) !== 5);
    const client = own.table('Ledger');
    const submitSpy = vi.spyOn(client, 'submitTransaction');
    const ledger = new TableLedgerStore(client);
    await ledger.putMany([...samePartition, ...others].map((id) => ledgerEntry(id)));

    const batches = submitSpy.mock.calls.map(([actions]) => actions);
    const b05 = batches.filter((actions) => actions[0]?.[1].partitionKey === 'b05');
    expect(b05.map((actions) => actions.length)).toEqual([100, 100, 30]);
    for (const actions of batches) {
      expect(actions.length).toBeLessThanOrEqual(100);
      expect(new Set(actions.map((action) => action[1].partitionKey)).size).toBe(1);
      expect(new Set(actions.map((action) => action[1].rowKey)).size).toBe(actions.length);
      for (const action of actions) expect(action).toEqual(['upsert', expect.anything(), 'Replace']);
    }
    const found = await ledger.getMany([...samePartition, ...others]);
    expect(found.size).toBe(samePartition.length + others.length);
  });

  it('refuses an entry that breaks a service limit before sending anything', async () => {
    const client = state.table('Ledger');
    const submitSpy = vi.spyOn(client, 'submitTransaction');
    await expect(new TableLedgerStore(client).putMany([ledgerEntry('big', { fingerprint: 'f'.repeat(40_000) })])).rejects.toThrow(/fingerprint/);
    expect(submitSpy).not.toHaveBeenCalled();
  });

  it('passes the abort signal to the SDK', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(state.ledger.getMany(['a/b'], { abortSignal: controller.signal })).rejects.toThrow(/abort/i);
    await expect(state.ledger.putMany([ledgerEntry('aborted')], { abortSignal: controller.signal })).rejects.toThrow(/abort/i);
    expect((await state.ledger.getMany(['aborted'])).size).toBe(0);
  });
});

describe('content store', () => {
  it('puts, overwrites and reads contents in batches', async () => {
    const state = await createTestState('contents');
    const ids = [...SPECIAL_IDS, ...Array.from({ length: 40 }, (_, i) => `course-${i}`)];
    for (const id of ids) await state.contents.put({ externalId: id, vivaId: `v-${id}`, fingerprint: 'f1', updatedAt: '2026-01-01T00:00:00.000Z' });
    await state.contents.put({ externalId: 'course-1', vivaId: 'v-new', fingerprint: 'f2' });
    const found = await state.contents.getMany([...ids, 'nope']);
    expect(found.size).toBe(ids.length);
    expect(found.get("o'brien")).toEqual({ externalId: "o'brien", vivaId: "v-o'brien", fingerprint: 'f1', updatedAt: '2026-01-01T00:00:00.000Z' });
    expect(found.get('course-1')).toEqual({ externalId: 'course-1', vivaId: 'v-new', fingerprint: 'f2' });
  });
});

describe('cursor', () => {
  let state: TestState;
  beforeAll(async () => {
    state = await createTestState('cursor');
  });

  it('starts empty', async () => {
    expect(await state.cursor.get()).toEqual({
      version: 1,
      value: undefined,
      ledgerComplete: false,
      runId: undefined,
      savedAt: undefined,
      etag: undefined,
    });
  });

  it('saves with ETags, and only one of two writers from the same read wins', async () => {
    const first = await state.cursor.save({ value: 'c1', ledgerComplete: false, runId: 'run-1' }, undefined);
    // Creating again "only if none exists" conflicts.
    await expect(state.cursor.save({ value: 'c1b', ledgerComplete: false, runId: 'run-x' }, undefined)).rejects.toBeInstanceOf(CursorConflictError);

    const read = await state.cursor.get();
    expect(read).toMatchObject({ version: 1, value: 'c1', ledgerComplete: false, runId: 'run-1', etag: first });
    expect(Date.parse(read.savedAt ?? '')).not.toBeNaN();

    const results = await Promise.allSettled([
      state.cursor.save({ value: 'c2-a', ledgerComplete: true, runId: 'run-a' }, read.etag),
      state.cursor.save({ value: 'c2-b', ledgerComplete: true, runId: 'run-b' }, read.etag),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(CursorConflictError);

    const after = await state.cursor.get();
    expect(after.etag).toBe(fulfilled[0]?.value);
    expect(after.value).toMatch(/^c2-[ab]$/);
    expect(after.ledgerComplete).toBe(true);

    // A stale ETag conflicts; the current one works and clears a value set to undefined.
    await expect(state.cursor.save({ value: 'c3', ledgerComplete: true, runId: 'run-3' }, read.etag)).rejects.toBeInstanceOf(CursorConflictError);
    await state.cursor.save({ value: undefined, ledgerComplete: true, runId: undefined }, after.etag);
    expect(await state.cursor.get()).toMatchObject({ value: undefined, runId: undefined, ledgerComplete: true });
  });

  it('stores flat primitive fields', async () => {
    const raw = await state.table('Cursor').getEntity<Record<string, unknown>>('cursor', 'sync');
    expect(raw).toMatchObject({ version: 1, ledgerComplete: true });
    expect(typeof raw['savedAt']).toBe('string');
  });

  it('uses the clock it is given', async () => {
    const own = await createTestState('cursorclock');
    const cursor = new TableCursorStore(own.table('Cursor'), { now: () => new Date('2030-05-06T07:08:09.000Z') });
    await cursor.save({ value: 'v', ledgerComplete: false, runId: 'r' }, undefined);
    expect((await cursor.get()).savedAt).toBe('2030-05-06T07:08:09.000Z');
  });
});

describe('run lease', () => {
  it('is exclusive, re-entrant for its owner, and taken over only when expired', async () => {
    const state = await createTestState('lease');
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const lease = new TableRunLease(state.table('Lease'), { now: () => now });

    expect(await lease.current()).toBeUndefined();
    const a = await lease.tryAcquire('run-a', 60_000);
    expect(a).toMatchObject({ owner: 'run-a', expiresAt: '2026-01-01T00:01:00.000Z' });
    expect(await lease.tryAcquire('run-b', 60_000)).toBeUndefined();
    expect(await lease.current()).toEqual({ owner: 'run-a', expiresAt: '2026-01-01T00:01:00.000Z' });

    // The same owner takes it again (e.g. after a restart within the TTL).
    now += 10_000;
    const a2 = await lease.tryAcquire('run-a', 60_000);
    expect(a2?.expiresAt).toBe('2026-01-01T00:01:10.000Z');
    // The first handle's ETag is stale now.
    await expect(a?.renew()).rejects.toBeInstanceOf(LeaseLostError);

    now += 30_000;
    await a2?.renew();
    expect(a2?.expiresAt).toBe('2026-01-01T00:01:40.000Z');

    // Expired: another run takes over, and the old holder finds out on renew.
    now += 61_000;
    expect(await lease.current()).toBeUndefined();
    const b = await lease.tryAcquire('run-b', 60_000);
    expect(b?.owner).toBe('run-b');
    await expect(a2?.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await a2?.release(); // a stale release neither throws nor frees b's lease
    expect((await lease.current())?.owner).toBe('run-b');

    await b?.release();
    expect(await lease.current()).toBeUndefined();
    await b?.release(); // already gone: fine
    await expect(b?.renew()).rejects.toBeInstanceOf(LeaseLostError);
    expect(await lease.tryAcquire('run-c', 60_000)).toBeDefined();
  });

  it('lets exactly one of many concurrent runs win', async () => {
    const state = await createTestState('leaserace');
    const owners = Array.from({ length: 6 }, (_, i) => `run-${i}`);
    const leases = await Promise.all(owners.map((owner) => state.lease.tryAcquire(owner, 60_000)));
    const winners = leases.filter((lease) => lease !== undefined);
    expect(winners).toHaveLength(1);
    expect((await state.lease.current())?.owner).toBe(winners[0]?.owner);
  });

  it('expires on the real clock', async () => {
    const state = await createTestState('leasettl');
    expect(await state.lease.tryAcquire('run-a', 200)).toBeDefined();
    expect(await state.lease.tryAcquire('run-b', 200)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await state.lease.tryAcquire('run-b', 60_000))?.owner).toBe('run-b');
  });
});

describe('dead letters', () => {
  let state: TestState;
  const letter = (key: string, overrides: Partial<DeadLetter> = {}): DeadLetter => ({
    key,
    kind: 'write',
    reason: 'Graph said 403',
    code: 'Forbidden',
    statusCode: 403,
    enrollmentId: `enr-${key}`,
    position: '2026-01-01T00:00:00Z',
    record: JSON.stringify({ key }),
    recordFingerprint: `fp-${key}`,
    attempts: 1,
    firstFailedAt: '2026-01-01T00:00:00.000Z',
    lastFailedAt: '2026-01-01T00:00:00.000Z',
    retryable: true,
    ...overrides,
  });

  beforeAll(async () => {
    state = await createTestState('deadletters');
  });

  it('stores, reads, replaces and deletes letters', async () => {
    await state.deadLetters.put(letter('act/1'));
    expect(await state.deadLetters.get('act/1')).toEqual(letter('act/1'));
    const minimal: DeadLetter = {
      key: 'line:abc',
      kind: 'invalid',
      reason: 'missing course.id',
      record: 'not json',
      recordFingerprint: 'fp',
      attempts: 1,
      firstFailedAt: '2026-01-01T00:00:00.000Z',
      lastFailedAt: '2026-01-01T00:00:00.000Z',
      retryable: false,
    };
    await state.deadLetters.put(minimal);
    expect(await state.deadLetters.get('line:abc')).toEqual(minimal);
    await state.deadLetters.put(letter('act/1', { attempts: 2, code: undefined }));
    expect(await state.deadLetters.get('act/1')).not.toHaveProperty('code');
    await state.deadLetters.delete('line:abc');
    await state.deadLetters.delete('line:abc'); // already gone: fine
    expect(await state.deadLetters.get('line:abc')).toBeUndefined();
  });

  it('tells which keys have a letter, with batched queries, long keys included', async () => {
    const long = `act/${'x'.repeat(600)}`;
    const keys = Array.from({ length: 30 }, (_, i) => `exists-${i}`);
    for (const key of [...keys, long]) await state.deadLetters.put(letter(key));
    const asked = [...keys, long, 'missing-1', "it's-missing"];
    expect(await state.deadLetters.existing(asked)).toEqual(new Set([...keys, long]));
    expect(await state.deadLetters.existing([])).toEqual(new Set());
  });

  it('truncates a huge record to fit, and says so', async () => {
    // ASCII on purpose: Azurite 3.35.0 corrupts a multi-byte character that straddles a 64 KiB
    // request chunk (Azure/Azurite#2670); Azure does not. Truncation of Unicode is tested below.
    const huge = JSON.stringify({ blob: 'x'.repeat(100_000) });
    await state.deadLetters.put(letter('huge', { record: huge, reason: 'r'.repeat(50_000) }));
    const read = await state.deadLetters.get('huge');
    expect(read?.record).toHaveLength(MAX_RECORD_LENGTH);
    expect(read?.record.startsWith(huge.slice(0, 29_000))).toBe(true);
    expect(read?.record).toMatch(/…\[truncated: 100011 characters in all\]$/);
    expect(read?.reason.length).toBeLessThan(10_000);
    expect(read?.recordFingerprint).toBe('fp-huge');
    const raw = await state.table('DeadLetters').getEntity<Record<string, unknown>>('dl', encodeKey('huge'));
    expect(raw['recordTruncated']).toBe(true);
    const small = await state.table('DeadLetters').getEntity<Record<string, unknown>>('dl', encodeKey('act/1'));
    expect(small['recordTruncated']).toBe(false);
  });

  it('keeps a record of exactly 30,000 characters whole', async () => {
    const record = `${'x'.repeat(MAX_RECORD_LENGTH - 2)}🎓`;
    await state.deadLetters.put(letter('emoji', { record }));
    expect((await state.deadLetters.get('emoji'))?.record).toBe(record);
  });

  it('lists all or only retryable letters, and counts them', async () => {
    const own = await createTestState('dlfilter');
    await own.deadLetters.put(letter('r1'));
    await own.deadLetters.put(letter('r2'));
    await own.deadLetters.put(letter('n1', { retryable: false, kind: 'invalid' }));
    const all = await collect(own.deadLetters.list());
    expect(all.map((l) => l.key).sort()).toEqual(['n1', 'r1', 'r2']);
    const client = own.table('DeadLetters');
    const listSpy = vi.spyOn(client, 'listEntities');
    const store = new TableDeadLetterStore(client);
    const retryable = await collect(store.list({ retryableOnly: true }));
    expect(retryable.map((l) => l.key).sort()).toEqual(['r1', 'r2']);
    expect(filtersOf(listSpy)[0]).toMatch(/retryable eq true/); // filtered by the service, not here
    expect(await store.count()).toBe(3);
    const countCall = listSpy.mock.calls[1]?.[0] as { queryOptions?: { select?: string[] } } | undefined;
    expect(countCall?.queryOptions?.select).toEqual(['rowKey']);
  });
});

describe('truncateText', () => {
  it('returns text that fits unchanged', () => {
    expect(truncateText('abc', 3)).toBe('abc');
  });

  it('cuts to the limit with a marker giving the original length', () => {
    const cut = truncateText('a'.repeat(200), 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/^a+…\[truncated: 200 characters in all\]$/);
  });

  it('never splits a surrogate pair', () => {
    for (const max of [100, 101]) {
      const cut = truncateText('🎓'.repeat(100), max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(() => encodeURIComponent(cut)).not.toThrow(); // throws on a lone surrogate
    }
  });
});

describe('run history', () => {
  const run = (runId: string, startedAt: string, overrides: Partial<RunRecord> = {}): RunRecord => ({
    runId,
    trigger: 'timer',
    status: 'succeeded',
    startedAt,
    finishedAt: startedAt,
    counts: { read: 10, created: 1, updated: 2, deleted: 3, unchanged: 4, failed: 0 },
    cursorBefore: 'c0',
    cursorAfter: 'c1',
    ...overrides,
  });

  it('lists newest first without a scan, gets by id, and updates in place', async () => {
    const state = await createTestState('runs');
    const runs = [
      run('run-3', '2026-03-01T00:00:00.000Z'),
      run('run-1', '2026-01-01T00:00:00.000Z'),
      run('run-5', '2026-05-01T00:00:00.000Z', { status: 'running', finishedAt: undefined, cursorAfter: undefined }),
      run('run-2', '2026-02-01T00:00:00.000Z', { status: 'failed', message: 'boom' }),
      run('run-4', '2026-04-01T00:00:00.000Z', { status: 'partial' }),
    ];
    for (const r of runs) await state.runs.put(r);

    const recent = await state.runs.listRecent(3);
    expect(recent.map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3']);
    expect((await state.runs.listRecent(50)).map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
    expect(await state.runs.listRecent(0)).toEqual([]);

    expect(await state.runs.get('run-2')).toEqual(runs[3]);
    expect(await state.runs.get('run-5')).toEqual(runs[2]);
    expect(await state.runs.get('nope')).toBeUndefined();

    const finished = run('run-5', '2026-05-01T00:00:00.000Z', { finishedAt: '2026-05-01T00:05:00.000Z' });
    await state.runs.put(finished);
    expect(await state.runs.get('run-5')).toEqual(finished);
    expect(await state.runs.listRecent(10)).toHaveLength(5);
  });

  it('stores counts as flat Int32 properties', async () => {
    const state = await createTestState('runcounts');
    await state.runs.put(run('r', '2026-01-01T00:00:00.000Z'));
    const [raw] = await collect(state.table('Runs').listEntities<Record<string, unknown>>({ disableTypeConversion: true }));
    expect(raw?.['countRead']).toEqual({ value: '10', type: 'Int32' });
    expect(raw?.['countFailed']).toEqual({ value: '0', type: 'Int32' });
    await expect(state.runs.put(run('big', '2026-01-01T00:00:00.000Z', { counts: { read: 2 ** 31, created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 } }))).rejects.toThrow(RangeError);
  });
});

describe('learner cache', () => {
  it('remembers hits and misses, case-insensitively, until they are too old', async () => {
    const state = await createTestState('learners');
    let now = Date.parse('2026-01-01T01:00:00.000Z');
    const cache = new TableLearnerCache(state.table('Learners'), { now: () => now });
    await cache.put('userPrincipalName:Ada@Contoso.com', { kind: 'found', objectId: 'oid-ada', resolvedAt: '2026-01-01T00:00:00.000Z' });
    await cache.put('mail:ghost@contoso.com', { kind: 'notFound', resolvedAt: '2026-01-01T00:30:00.000Z' });

    const hour = 3_600_000;
    expect(await cache.get('userPrincipalName:ada@contoso.com', 2 * hour)).toEqual({ kind: 'found', objectId: 'oid-ada', resolvedAt: '2026-01-01T00:00:00.000Z' });
    expect(await cache.get('mail:GHOST@contoso.com', 2 * hour)).toEqual({ kind: 'notFound', resolvedAt: '2026-01-01T00:30:00.000Z' });
    expect(await cache.get('mail:ada@contoso.com', 2 * hour)).toBeUndefined(); // other mode
    expect(await cache.get('userPrincipalName:ada@contoso.com', hour / 2)).toBeUndefined(); // too old
    now += 1.25 * hour; // 02:15: Ada's entry is 2 h 15 min old, the miss 1 h 45 min
    expect(await cache.get('userPrincipalName:ada@contoso.com', 2 * hour)).toBeUndefined();
    expect(await cache.get('mail:ghost@contoso.com', 2 * hour)).toEqual({ kind: 'notFound', resolvedAt: '2026-01-01T00:30:00.000Z' });

    // The store from createTableState uses the real clock.
    await state.learners.put('id:X/Y?', { kind: 'found', objectId: 'oid-x', resolvedAt: new Date().toISOString() });
    expect(await state.learners.get('id:x/y?', 60_000)).toMatchObject({ objectId: 'oid-x' });
    await expect(state.learners.get('no-colon', 1)).rejects.toThrow(TypeError);
  });
});

describe('startAzurite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'azurite-persist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('persists to a location across a stop and a start, on loopback only', async () => {
    const first = await startAzurite({ location: dir });
    try {
      expect(first.connectionString).toMatch(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/);
      expect(first.connectionString).not.toMatch(/(?:localhost|0\.0\.0\.0)/);
      const client = TableClient.fromConnectionString(first.connectionString, 'persisted', { allowInsecureConnection: true });
      await client.createTable();
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 'kept' });
    } finally {
      await first.stop();
    }
    const second = await startAzurite({ location: dir });
    try {
      const client = TableClient.fromConnectionString(second.connectionString, 'persisted', { allowInsecureConnection: true });
      expect((await client.getEntity<{ value: string }>('p', 'r')).value).toBe('kept');
    } finally {
      await second.stop();
    }
  });

  it('times out with an error that includes Azurite\'s output', async () => {
    await expect(startAzurite({ startTimeoutMs: 1 })).rejects.toThrow(/Azurite did not start: [\s\S]*within 1 ms[\s\S]*Azurite stderr:/);
  });

  it('refuses in-memory together with a location', async () => {
    await expect(startAzurite({ inMemory: true, location: dir })).rejects.toThrow(/cannot be combined/);
  });
});
