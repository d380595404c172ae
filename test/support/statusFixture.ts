/**
 * A state with something to show on the status page: a run history with every outcome, dead
 * letters of three reasons (one of them with per-letter particulars that must group), and an
 * active quarantine. Written through the real stores, on Azurite.
 */
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/loadConfig.js';
import { TableDoctorStore } from '../../src/state/doctorStore.js';
import { TableQuarantineStore } from '../../src/state/quarantineStore.js';
import type { DeadLetter, RunRecord, RunStatus } from '../../src/state/types.js';
import type { TestState } from './state.js';

export const FIXTURE_NOW = new Date('2026-12-01T12:00:00Z');
export const FIXTURE_RUNS = 14;

/** Statuses of the runs, oldest first: two failed, two partial, the rest succeeded. */
const STATUSES: readonly RunStatus[] = ['succeeded', 'succeeded', 'partial', 'succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded', 'partial', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed'];

export function fixtureRuns(): RunRecord[] {
  return STATUSES.map((status, i) => {
    const started = new Date(FIXTURE_NOW.getTime() - (STATUSES.length - i) * 15 * 60_000);
    const failed = status === 'failed' ? 30 : i % 3;
    return {
      runId: `run-${String(i + 1).padStart(2, '0')}`,
      trigger: 'timer',
      status,
      startedAt: started.toISOString(),
      finishedAt: new Date(started.getTime() + 20_000 + i * 3_000).toISOString(),
      counts: { read: 500 + i * 10, created: i === 0 ? 400 : i * 2, updated: 10 + i, deleted: i % 4, unchanged: i === 0 ? 0 : 450 + i * 5, failed },
      graph: { requests: 40 + i * 3, retries: i % 5, throttled: i === 8 ? 6 : 0 },
      ...(status === 'failed' ? { message: 'Graph refused the provider (403 Forbidden)' } : status === 'partial' ? { message: 'stopped at the time budget' } : {}),
    };
  });
}

function letter(overrides: Partial<DeadLetter> & Pick<DeadLetter, 'key' | 'kind' | 'reason'>, i: number): DeadLetter {
  const failedAt = new Date(FIXTURE_NOW.getTime() - (i + 1) * 3_600_000).toISOString();
  return {
    record: JSON.stringify({ enrollmentId: overrides.key, learner: { id: `u${1000 + i}` }, course: { id: `c-${100 + (i % 3)}` } }),
    recordFingerprint: `fp${i}`,
    attempts: 1,
    firstFailedAt: failedAt,
    lastFailedAt: failedAt,
    retryable: overrides.kind === 'write',
    enrollmentId: overrides.key,
    ...overrides,
  };
}

/** Five unknown learners (one reason, five addresses), three invalid dates, two refused by Graph. */
export function fixtureDeadLetters(): DeadLetter[] {
  const letters: DeadLetter[] = [];
  for (let i = 0; i < 5; i++) {
    letters.push(letter({ key: `e-unknown-${i}`, kind: 'write', reason: `no Entra user has userPrincipalName "former.${i}@contoso.example"`, code: 'learnerNotFound' }, i));
  }
  for (let i = 0; i < 3; i++) {
    letters.push(letter({ key: `e-bad-date-${i}`, kind: 'invalid', reason: 'dueAt must be an ISO 8601 date-time', position: `line ${20 + i}` }, 5 + i));
  }
  for (let i = 0; i < 2; i++) {
    letters.push(letter({ key: `e-refused-${i}`, kind: 'write', reason: 'Graph refused the activity: Invalid value for assignmentType', code: 'badRequest', statusCode: 400 }, 8 + i));
  }
  return letters;
}

export async function seedStatusFixture(state: TestState): Promise<{ readonly quarantine: TableQuarantineStore }> {
  for (const run of fixtureRuns()) await state.runs.put(run);
  await Promise.all(fixtureDeadLetters().map((l) => state.deadLetters.put(l)));
  const client = state.table('Quarantine');
  await client.createTable();
  const quarantine = new TableQuarantineStore(client, { now: () => new Date(FIXTURE_NOW.getTime() - 30 * 60_000) });
  await quarantine.enter({ trigger: 'failureShare', reason: 'quarantined: 30 of 42 writes failed in run run-14 (more than SYNC_QUARANTINE_FAILURE_SHARE 0.4)', runId: 'run-14', counts: { attempted: 42, failed: 30, deletes: 0 } });
  const doctor = state.table('Doctor');
  await doctor.createTable();
  await new TableDoctorStore(doctor).put({ verdict: 'warnings', checkedAt: '2026-12-01T09:00:00.000Z', summary: '! learner resolution: 1 of 5 sample learners has no Entra user', reportJson: '{}' });
  await state.cursor.save({ value: '2026-12-01T11:40:00.000Z', ledgerComplete: true, runId: 'run-14' }, undefined);
  return { quarantine };
}

/** Settings that point at the fixture's tables (the LMS and Graph are never reached by the report). */
export function fixtureEnv(state: TestState): Record<string, string> {
  return {
    VIVA_PROVIDER_ID: '5f6d3c2a-1b4e-4c8d-9a7f-0e1d2c3b4a59',
    LMS_ADAPTER: 'file',
    LMS_FILE_PATH: 'export.jsonl',
    GRAPH_BASE_URL: 'http://127.0.0.1:9',
    GRAPH_AUTH: 'static-token',
    GRAPH_TOKEN: 'fixture-token',
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    SYNC_TABLE_PREFIX: state.tablePrefix,
  };
}

export function fixtureConfig(state: TestState): Config {
  return loadConfig(fixtureEnv(state));
}
