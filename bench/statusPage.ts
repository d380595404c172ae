import { parseArgs } from 'node:util';
import { readDeadLetterOverview } from '../src/report/deadLetterOverview.js';
import { startAzurite } from '../src/sandbox/azurite.js';
import type { TransactionAction } from '@azure/data-tables';
import { encodeKey } from '../src/state/keys.js';
import { createTableState } from '../src/state/tableState.js';

/**
 * `npm run bench:status`: how long the status report's dead-letter overview takes over many dead
 * letters on Azurite (in memory), against reading them in full. Figures, not assertions.
 *   node dist/bench/statusPage.js --letters 100000
 */
const { values: args } = parseArgs({ options: { letters: { type: 'string', default: '100000' } } });
const N = Number(args.letters);
const REASONS = [
  (i: number) => `no Entra user has userPrincipalName "former.${i}@contoso.example"`,
  () => 'dueAt must be an ISO 8601 date-time',
  (i: number) => `Graph refused the activity (request ${i}): Invalid value for assignmentType`,
  () => 'course.url must be an absolute https URL',
];

const azurite = await startAzurite({ inMemory: true, silent: true });
try {
  const connection = { kind: 'connectionString', connectionString: azurite.connectionString } as const;
  const state = await createTableState({ connection, tablePrefix: 'bench' });
  const { createTableClient } = await import('../src/state/tableClients.js');
  const client = createTableClient(connection, 'benchDeadLetters');
  const seedStart = performance.now();
  const day = Date.parse('2026-12-01T00:00:00Z');
  for (let start = 0; start < N; start += 100) {
    const batch: TransactionAction[] = [];
    for (let i = start; i < Math.min(N, start + 100); i++) {
      const key = `act-${String(i).padStart(7, '0')}`;
      const at = new Date(day - i * 1_000).toISOString();
      const reason = REASONS[i % REASONS.length]?.(i) ?? '';
      batch.push([
        'create',
        {
          partitionKey: 'dl',
          rowKey: encodeKey(key),
          key,
          kind: i % 4 === 1 || i % 4 === 3 ? 'invalid' : 'write',
          reason,
          enrollmentId: `enr-${i}`,
          record: JSON.stringify({ enrollmentId: `enr-${i}`, learner: { id: `u${i % 5000}`, email: `former.${i}@contoso.example` }, course: { id: `c-${i % 300}`, title: 'Security Awareness Essentials', url: 'https://learning.contoso.example/courses/sec-101' }, status: 'inProgress', updatedAt: at }),
          recordFingerprint: `fp${i}`,
          recordTruncated: false,
          attempts: 1,
          firstFailedAt: at,
          lastFailedAt: at,
          retryable: i % 4 === 0 || i % 4 === 2,
        },
      ]);
    }
    await client.submitTransaction(batch);
  }
  const seedMs = performance.now() - seedStart;

  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const result = await work();
    return [result, Math.round(performance.now() - t)];
  };
  const [overview, overviewMs] = await timed(() => readDeadLetterOverview(state.deadLetters, { scanMs: 600_000, maxDeadLetters: N + 1 }));
  const [capped, cappedMs] = await timed(() => readDeadLetterOverview(state.deadLetters));
  const [full, fullMs] = await timed(async () => {
    let n = 0;
    for await (const _ of state.deadLetters.list()) n++;
    return n;
  });
  const [count, countMs] = await timed(() => state.deadLetters.count());
  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  console.log(
    JSON.stringify(
      {
        letters: N,
        seedMs: Math.round(seedMs),
        overview: { ms: overviewMs, counted: overview.count, complete: overview.complete, groups: overview.groups.length },
        overviewDefaultCaps: { ms: cappedMs, counted: capped.count, complete: capped.complete },
        fullListScan: { ms: fullMs, letters: full },
        countScan: { ms: countMs, letters: count },
        rssMb,
      },
      null,
      2,
    ),
  );
} finally {
  await azurite.stop();
}
