import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Enrollment } from '../src/mapping/enrollment.js';
import { startAzurite } from '../src/sandbox/azurite.js';
import { createProviderDecisionStore } from '../src/state/providerDecisionStore.js';
import { GraphStandIn } from '../src/sandbox/graphStandIn.js';
import { sandboxTenant, stableGuid } from '../src/sandbox/tenant.js';
import type { RunSummary } from '../src/sync/types.js';
import { exportBench } from './exportBench.js';
import { runNaive } from './naive.js';

/**
 * `npm run bench`: the product against the Graph stand-in (configurable latency, rate limit
 * and faults) and Azurite, with a naive one-record-at-a-time baseline in the same run.
 * Figures, not assertions: see README.md, "Performance".
 */
const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '10' },
    rate: { type: 'string', default: '0' },
    throttle: { type: 'string', default: '0' },
    unavailable: { type: 'string', default: '0' },
    faults: { type: 'boolean', default: false },
    batch: { type: 'string', default: '1' },
    // 'auto': GRAPH_MAX_CONCURRENCY unset (the product's default: latency-aware, 8 growing to 64).
    concurrency: { type: 'string', default: 'auto' },
    // The provider recorded as new before the first sync (`viva-sync provider mark-new`): no lookups before create.
    'provider-new': { type: 'boolean', default: false },
    // Also run a first sync with the settings of before issue 16 (GRAPH_MAX_CONCURRENCY=8, no decision), on its own provider.
    compare: { type: 'boolean', default: false },
    budget: { type: 'string', default: '0' },
    'baseline-records': { type: 'string' },
    'skip-baseline': { type: 'boolean', default: false },
    'max-runs': { type: 'string', default: '50' },
    mode: { type: 'string', default: 'inline' },
    workers: { type: 'string', default: '1,2,4' },
    // --mode webhook: processes started this many times each, without and with the start-up warm-up.
    'webhook-runs': { type: 'string', default: '5' },
    // Read an export of this many MB from a local file and from Azurite's blob service (peak memory), nothing else.
    'export-mb': { type: 'string' },
    // --catalog N: the catalog pass alone on N courses (first sync, unchanged re-sync, 1% retired).
    catalog: { type: 'string' },
    // Print each phase's Graph traffic second by second (accepted, refused), to see where time goes.
    timeline: { type: 'boolean', default: false },
  },
});

const N = Number(args.records);
const latencyMs = Number(args.latency);
const rate = Number(args.rate);
const throttleRate = args.faults ? 0.1 : Number(args.throttle);
const unavailableRate = args.faults ? 0.03 : Number(args.unavailable);
const baselineRecords = Math.min(N, Number(args['baseline-records'] ?? 300));
const repoRoot = resolve(import.meta.dirname, '../..');

interface Phase {
  readonly name: string;
  readonly runs: number;
  readonly read: number;
  readonly writes: number;
  readonly wallMs: number;
  readonly requests: number;
  readonly refused: number;
  /** GETs of an activity by its external id (the lookups before create). */
  readonly lookups: number;
  readonly peakRssMb: number | undefined;
  readonly status: string;
}

function generate(n: number, day: string, changedEvery = 0): Enrollment[] {
  const learners = Math.max(50, Math.floor(n / 20));
  const courses = Math.max(20, Math.floor(n / 100));
  const base = Date.parse(`${day}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => {
    const changed = changedEvery > 0 && i % changedEvery === 0;
    const statusIndex = (i + (changed ? 1 : 0)) % 3;
    const status = (['notStarted', 'inProgress', 'completed'] as const)[statusIndex] ?? 'inProgress';
    const updatedAt = new Date(base + i * 1000 + (changed ? 86_400_000 * 3 : 0)).toISOString();
    const learner = `learner${i % learners}@contoso.example`;
    const courseId = `course-${i % courses}`;
    return {
      enrollmentId: `bench-${i}`,
      learner: { id: `u${i % learners}`, upn: learner, email: learner },
      course: { id: courseId, title: `Course ${courseId}`, url: `https://lms.example/c/${courseId}`, durationMinutes: 30 },
      source: 'assigned',
      assignmentType: i % 5 === 0 ? 'recommended' : 'required',
      assignedAt: new Date(base - 86_400_000).toISOString(),
      status,
      progressPercent: status === 'completed' ? 100 : status === 'inProgress' ? 50 : 0,
      ...(status === 'completed' ? { completedAt: updatedAt } : {}),
      updatedAt,
    } satisfies Enrollment;
  });
}

function runChild(env: Record<string, string>, cwd: string, extra: string[]): Promise<{ summary: RunSummary; maxRssMb: number }> {
  // BENCH_PROFILE_DIR: CPU-profile the unchanged re-sync (open the .cpuprofile in Chrome DevTools).
  // BENCH_FULL_NODE_FLAGS: node flags for that run, e.g. `--max-old-space-size=64` to show what it really keeps.
  // BENCH_PROFILE_FIRST_DIR: CPU-profile the runs of the other phases (first sync, 10% changed).
  const nodeFlags = !extra.includes('--full')
    ? process.env['BENCH_PROFILE_FIRST_DIR'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_FIRST_DIR']}`] : []
    : [
        ...(process.env['BENCH_PROFILE_DIR'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`] : []),
        ...(process.env['BENCH_FULL_NODE_FLAGS']?.split(/\s+/).filter((f) => f !== '') ?? []),
      ];
  return runJsonChild('dist/bench/child.js', extra, { env, cwd, nodeFlags });
}

/** Runs one of the bench's child scripts in its own process and parses the JSON line it prints last. */
function runJsonChild<T>(script: string, args: readonly string[], options: { env: Record<string, string>; cwd: string; nodeFlags?: readonly string[] }): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), join(repoRoot, script), ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`${script} exited ${code} without its JSON line: ${out.slice(-500)}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vivasync-bench-'));
  const azurite = await startAzurite({ inMemory: true });
  const tenant = sandboxTenant([]);
  const baselineProvider = { ...tenant.provider, id: stableGuid('baseline provider'), displayName: 'Baseline' };
  const standIn = new GraphStandIn({
    token: tenant.token,
    latencyMs,
    providers: [tenant.provider, baselineProvider],
    ...(rate > 0 ? { rateLimit: { requestsPerSecond: rate, burst: rate } } : {}),
    ...(throttleRate > 0 || unavailableRate > 0 ? { faults: { seed: 1, throttleRate, unavailableRate, retryAfterSeconds: 1, retryAfterStyle: 'header' as const } } : {}),
  });
  const graphUrl = await standIn.start(0);
  const exportPath = join(dir, 'export.jsonl');
  const records = generate(N, '2026-10-01');
  for (const r of records) standIn.addUser({ id: stableGuid(r.learner.upn ?? ''), userPrincipalName: r.learner.upn ?? '', mail: r.learner.email ?? '' });
  writeFileSync(exportPath, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const env = {
    VIVA_PROVIDER_ID: tenant.provider.id,
    LMS_ADAPTER: 'file',
    LMS_FILE_PATH: exportPath,
    GRAPH_BASE_URL: graphUrl,
    GRAPH_AUTH: 'static-token',
    GRAPH_TOKEN: tenant.token,
    ...(args.concurrency === 'auto' ? {} : { GRAPH_MAX_CONCURRENCY: args.concurrency }),
    GRAPH_BATCH_SIZE: args.batch,
    AzureWebJobsStorage: azurite.connectionString,
    SYNC_TABLE_PREFIX: `b${randomBytes(4).toString('hex')}`,
    SYNC_TIME_BUDGET_SECONDS: args.budget,
  };
  const markNew = async (settings: Record<string, string>): Promise<void> => {
    await createProviderDecisionStore({ connection: { kind: 'connectionString', connectionString: azurite.connectionString }, tablePrefix: settings.SYNC_TABLE_PREFIX ?? '' }).record(settings.VIVA_PROVIDER_ID ?? '', 'provider mark-new');
  };
  console.error(`bench: ${N} records, latency ${latencyMs} ms, rate limit ${rate > 0 ? `${rate}/s` : 'none'}, 429 ${throttleRate * 100}%, 503 ${unavailableRate * 100}%, batch ${args.batch}, concurrency ${args.concurrency}, provider new: ${args['provider-new']}, budget ${args.budget === '0' ? 'none' : `${args.budget} s`}`);

  if (args.mode === 'webhook') {
    await webhookBench(env, dir, standIn, tenant.provider, Number(args['webhook-runs']));
    await standIn.stop();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }

  if (args['export-mb'] !== undefined) {
    await exportBench({ megabytes: Number(args['export-mb']), dir, connectionString: azurite.connectionString, baseEnv: env, runChild: (childEnv) => runJsonChild('dist/bench/exportChild.js', [], { env: childEnv, cwd: dir }) });
    await standIn.stop();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  if (args.catalog !== undefined) {
    await catalogBench(env, dir, standIn, Number(args.catalog));
    await standIn.stop();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  if (args.mode === 'queue') {
    await queueBench(env, dir, standIn, tenant.provider, records.length);
    await standIn.stop();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }

  const phases: Phase[] = [];
  const phase = async (name: string, extra: string[], phaseEnv: Record<string, string> = env): Promise<Phase> => {
    standIn.resetStats();
    const started = Date.now();
    let runs = 0;
    let read = 0;
    let peak = 0;
    let summary: RunSummary | undefined;
    const runWalls: number[] = [];
    // Partial runs (time budget) and runs with dead letters (faults) are followed by more runs, as the timer would.
    do {
      const runStarted = Date.now();
      const result = await runChild(phaseEnv, dir, extra);
      runWalls.push(Date.now() - runStarted);
      runs += 1;
      summary = result.summary;
      read += summary.counts.read;
      peak = Math.max(peak, result.maxRssMb);
    } while ((summary.status === 'partial' || summary.counts.failed > 0) && runs < Number(args['max-runs']));
    const stats = standIn.stats();
    const lookups = standIn.requests().filter((r) => r.method === 'GET' && r.path.includes('externalCourseActivityId=')).length;
    if (args.timeline) printTimeline(name, started, standIn.requests());
    if (args.timeline) printKinds(name, standIn.requests());
    const p: Phase = {
      name,
      lookups,
      runs,
      read,
      writes: stats.writes,
      wallMs: Date.now() - started,
      requests: stats.total,
      refused: (stats.byStatus[429] ?? 0) + (stats.byStatus[503] ?? 0),
      peakRssMb: peak,
      status: summary.status,
    };
    if (Number(args.budget) > 0) console.error(`  ${name}: run wall times (s): ${runWalls.map((w) => (w / 1000).toFixed(1)).join(', ')}`);
    phases.push(p);
    console.error(`  ${name}: done in ${(p.wallMs / 1000).toFixed(1)} s`);
    return p;
  };

  if (args.compare) {
    // Before issue 16: 8 requests in flight, a lookup before every create of the first sync.
    const todayProvider = { ...tenant.provider, id: stableGuid(`bench today ${randomBytes(4).toString('hex')}`), displayName: 'Today' };
    standIn.addProvider(todayProvider);
    await phase('first sync, settings of before (concurrency 8, lookups)', [], { ...env, VIVA_PROVIDER_ID: todayProvider.id, GRAPH_MAX_CONCURRENCY: '8', SYNC_TABLE_PREFIX: `t${randomBytes(4).toString('hex')}` });
  }
  if (args['provider-new']) await markNew(env);
  await phase(`first sync${args['provider-new'] ? ', provider marked new' : ''}`, []);
  await phase('unchanged re-sync (--full)', ['--full']);
  const changed = generate(N, '2026-10-01', 10);
  writeFileSync(exportPath, `${changed.map((r) => JSON.stringify(r)).join('\n')}\n`);
  await phase('10% changed', []);

  // Exactness: one activity per enrollment, in the latest state.
  const activities = standIn.activities(tenant.provider.id);
  const byId = new Map<string, number>();
  for (const a of activities) byId.set(a.externalCourseActivityId ?? '', (byId.get(a.externalCourseActivityId ?? '') ?? 0) + 1);
  const duplicates = [...byId.values()].filter((c) => c > 1).length;
  const statusOf = new Map(activities.map((a) => [a.externalCourseActivityId ?? '', a.status]));
  const wrong = changed.filter((r) => statusOf.get(r.enrollmentId) !== r.status).length;

  let baseline: Phase | undefined;
  if (!args['skip-baseline']) {
    standIn.resetStats();
    const result = await runNaive(records.slice(0, baselineRecords), graphUrl, tenant.token, baselineProvider.id);
    const stats = standIn.stats();
    const lookups = standIn.requests().filter((r) => r.method === 'GET' && r.path.includes('externalCourseActivityId=')).length;
    baseline = { name: `naive baseline (${baselineRecords} records)`, runs: 1, read: result.records, writes: stats.writes, lookups, wallMs: result.wallMs, requests: stats.total, refused: (stats.byStatus[429] ?? 0) + (stats.byStatus[503] ?? 0), peakRssMb: undefined, status: 'succeeded' };
  }

  const rows = [...phases, ...(baseline === undefined ? [] : [baseline])].map((p) => {
    const seconds = p.wallMs / 1000;
    const accepted = (p.requests - p.refused) / seconds;
    return {
      phase: p.name,
      runs: p.runs,
      'records/s': Math.round(p.read / p.runs / seconds),
      'requests/record': (p.requests / Math.max(1, p.read / p.runs)).toFixed(2),
      'lookups/record': (p.lookups / Math.max(1, p.read / p.runs)).toFixed(2),
      writes: p.writes,
      '429+503': p.refused,
      'refused %': ((p.refused / Math.max(1, p.requests)) * 100).toFixed(1),
      'accepted req/s': Math.round(accepted),
      ...(rate > 0 ? { 'of limit': (accepted / rate).toFixed(2) } : {}),
      'wall s': seconds.toFixed(1),
      'peak RSS MB': p.peakRssMb ?? '(in bench)',
    };
  });
  console.table(rows);
  if (baseline !== undefined) {
    for (const first of phases.filter((p) => p.name.startsWith('first sync'))) {
      const speedup = first.read / first.runs / (first.wallMs / 1000) / (baseline.read / (baseline.wallMs / 1000));
      console.log(`${first.name} vs naive baseline: ${speedup.toFixed(1)}x records per second`);
    }
  }
  console.log(`exactness: ${byId.size} activities for ${N} enrollments, ${duplicates} duplicated, ${wrong} not in the latest state`);
  console.log(JSON.stringify({ args, rows, duplicates, wrong }));

  await standIn.stop();
  await azurite.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** `--timeline`: accepted/refused Graph requests per second since the phase started (a `.` per 5 accepted). */
function printTimeline(name: string, started: number, requests: readonly { readonly status: number; readonly at: number }[]): void {
  const seconds = new Map<number, { accepted: number; refused: number }>();
  for (const r of requests) {
    const s = Math.floor((r.at - started) / 1000);
    const bucket = seconds.get(s) ?? { accepted: 0, refused: 0 };
    if (r.status === 429 || r.status === 503) bucket.refused += 1;
    else bucket.accepted += 1;
    seconds.set(s, bucket);
  }
  const last = Math.max(0, ...seconds.keys());
  console.error(`  ${name}: Graph requests per second (accepted/refused)`);
  for (let s = 0; s <= last; s += 1) {
    const b = seconds.get(s) ?? { accepted: 0, refused: 0 };
    console.error(`    ${String(s).padStart(4)} s ${String(b.accepted).padStart(4)} ${String(b.refused).padStart(3)} ${'.'.repeat(Math.round(b.accepted / 5))}`);
  }
}

/** `--timeline`: the phase's requests by method, path shape and status. */
function printKinds(name: string, requests: readonly { readonly method: string; readonly path: string; readonly status: number }[]): void {
  const kinds = new Map<string, number>();
  for (const r of requests) {
    const shape = `${r.method} ${r.path.replace(/\?.*$/, '').replace(/\/(learningProviders|learningCourseActivities|learningContents|users)(\([^)]*\)[^/]*|\/[^/]+)/g, '/$1/{id}')} ${r.status}`;
    kinds.set(shape, (kinds.get(shape) ?? 0) + 1);
  }
  console.error(`  ${name}: requests by kind`);
  for (const [shape, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.error(`    ${String(count).padStart(6)} ${shape}`);
}

/**
 * `--mode queue --workers 1,2,4`: the first sync in queue mode, planner and W `viva-sync worker`
 * processes, for each W (a fresh provider, tables and queue each time, so the runs do not mix).
 */
interface WorkerReport {
  readonly code: number;
  readonly totals: Record<string, number>;
  readonly maxRssMb: number;
}

async function queueBench(base: Record<string, string>, dir: string, standIn: GraphStandIn, provider: ReturnType<typeof sandboxTenant>['provider'], n: number): Promise<void> {
  const rows = [];
  for (const w of args.workers.split(',').map(Number)) {
    const providerId = stableGuid(`bench queue ${w} ${randomBytes(4).toString('hex')}`);
    standIn.addProvider({ ...provider, id: providerId, displayName: `Queue bench ${w}` });
    const env = { ...base, VIVA_PROVIDER_ID: providerId, SYNC_MODE: 'queue', SYNC_QUEUE_NAME: `bench-${randomBytes(4).toString('hex')}`, SYNC_TABLE_PREFIX: `q${randomBytes(4).toString('hex')}` };
    standIn.resetStats();
    const started = Date.now();
    const workers = Array.from({ length: w }, () => runJsonChild<WorkerReport>('dist/bench/workerChild.js', ['3'], { env, cwd: dir }));
    let runs = 0;
    let summary: RunSummary;
    let plannerRssMb = 0;
    do {
      const result = await runChild(env, dir, []);
      summary = result.summary;
      plannerRssMb = Math.max(plannerRssMb, result.maxRssMb);
      runs += 1;
    } while (summary.status === 'partial' && runs < Number(args['max-runs']));
    const wallMs = Date.now() - started;
    const reports = await Promise.all(workers);
    const sum = (name: string): number => reports.reduce((total, r) => total + (r.totals[name] ?? 0), 0);
    const stats = standIn.stats();
    const activities = standIn.activities(providerId);
    const ids = new Set(activities.map((a) => a.externalCourseActivityId));
    const refused = (stats.byStatus[429] ?? 0) + (stats.byStatus[503] ?? 0);
    const acceptedPerSecond = (stats.total - refused) / (wallMs / 1000);
    rows.push({
      workers: w,
      runs,
      status: summary.status,
      'records/s': Math.round(n / (wallMs / 1000)),
      requests: stats.total,
      '429+503': refused,
      'accepted req/s': Math.round(acceptedPerSecond),
      ...(rate > 0 ? { 'of limit': (acceptedPerSecond / rate).toFixed(2) } : {}),
      activities: activities.length,
      duplicated: activities.length - ids.size,
      batches: sum('batches'),
      redelivered: sum('redelivered'),
      'failed deliveries': sum('failedDeliveries'),
      'dead letters': sum('failed'),
      'planner MB': plannerRssMb,
      'worker MB': reports.map((r) => r.maxRssMb).join('/'),
      'wall s': (wallMs / 1000).toFixed(1),
    });
    console.error(`  queue mode, ${w} workers: done in ${(wallMs / 1000).toFixed(1)} s`);
  }
  console.table(rows);
  console.log(JSON.stringify({ args, rows }));
}

/**
 * `--catalog N`: the catalog pass (SYNC_CATALOG=all, LMS_CATALOG_PATH) over N courses and no
 * enrollments: the first sync, an unchanged re-sync (no request expected), and a catalog in
 * which every hundredth course turned inactive (exactly those PATCHed with isActive false).
 */
async function catalogBench(base: Record<string, string>, dir: string, standIn: GraphStandIn, n: number): Promise<void> {
  const catalogPath = join(dir, 'catalog.csv');
  const emptyExport = join(dir, 'no-enrollments.jsonl');
  writeFileSync(emptyExport, '');
  const write = (retiredEvery: number): void => {
    const lines = ['id,title,url,description,language,durationMinutes,contributors,additionalTags,skillTags,format,level,active,updatedAt'];
    for (let i = 0; i < n; i += 1) {
      const retired = retiredEvery > 0 && i % retiredEvery === 0;
      lines.push(`cat-${i},Course ${i},https://lms.example/c/${i},"Course ${i}, with a description",en-US,${30 + (i % 90)},Instructor ${i % 50},topic-${i % 20};level-${i % 3},skill-${i % 40},Course,${(['beginner', 'intermediate', 'advanced'] as const)[i % 3]},${retired ? 'false' : 'true'},2026-10-0${retired ? 2 : 1}T00:00:00Z`);
    }
    writeFileSync(catalogPath, `${lines.join('\n')}\n`);
  };
  const env = { ...base, LMS_FILE_PATH: emptyExport, LMS_CATALOG_PATH: catalogPath, SYNC_CATALOG: 'all', SYNC_TABLE_PREFIX: `c${randomBytes(4).toString('hex')}` };
  const rows = [];
  for (const [name, retiredEvery] of [['first catalog sync', 0], ['unchanged re-sync', 0], ['1% retired', 100]] as const) {
    write(retiredEvery);
    standIn.resetStats();
    const started = Date.now();
    const { summary, maxRssMb } = await runChild(env, dir, []);
    const wallMs = Date.now() - started;
    const patches = standIn.requests().filter((r) => r.method === 'PATCH' && r.path.includes('learningContents'));
    const retiredIds = new Set(Array.from({ length: retiredEvery > 0 ? Math.ceil(n / retiredEvery) : 0 }, (_, k) => `cat-${k * retiredEvery}`));
    const exact = retiredEvery === 0 || (patches.length === retiredIds.size && patches.every((r) => [...retiredIds].some((id) => decodeURIComponent(r.path).includes(`'${id}'`))));
    const c = summary.catalog;
    rows.push({
      phase: name,
      courses: n,
      created: c?.created ?? 0,
      updated: c?.updated ?? 0,
      retired: c?.retired ?? 0,
      unchanged: c?.unchanged ?? 0,
      'Graph requests': standIn.stats().total,
      'content PATCHes': patches.length,
      'exactly the retired': retiredEvery === 0 ? '-' : exact,
      'courses/s': Math.round(n / (wallMs / 1000)),
      'wall s': (wallMs / 1000).toFixed(1),
      'peak RSS MB': maxRssMb,
      status: summary.status,
    });
    console.error(`  catalog ${name}: done in ${(wallMs / 1000).toFixed(1)} s`);
  }
  const inactive = standIn.contents().filter((x) => !x.isActive).length;
  console.error(`  Viva Learning stand-in: ${standIn.contents().length} contents, ${inactive} inactive`);
  console.table(rows);
  console.log(JSON.stringify({ args, rows }));
}

/**
 * `--mode webhook`: the first webhook after a cold start, timed from the handler's call to the
 * stand-in's first Graph request and to the activity's write, in fresh processes without and with
 * the start-up warm-up (functions/warmUp.ts); the second webhook of each process is the warm one.
 * The tables exist already (a first process made them), as they do after a deployment's first start.
 */
async function webhookBench(base: Record<string, string>, dir: string, standIn: GraphStandIn, provider: ReturnType<typeof sandboxTenant>['provider'], runs: number): Promise<void> {
  const providerId = stableGuid(`bench webhook ${randomBytes(4).toString('hex')}`);
  standIn.addProvider({ ...provider, id: providerId, displayName: 'Webhook bench' });
  const exportPath = join(dir, 'webhook.jsonl');
  const records = generate(4 * runs + 2, '2026-10-05').map((r) => ({ ...r, enrollmentId: `hook-${r.enrollmentId}` }));
  writeFileSync(exportPath, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const env = { ...base, VIVA_PROVIDER_ID: providerId, LMS_FILE_PATH: exportPath, SYNC_TABLE_PREFIX: `w${randomBytes(4).toString('hex')}`, WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` };
  interface Sent { readonly calledAt: number; readonly status: number; readonly ms: number }
  interface Report { readonly warmUpMs?: number; readonly first: Sent; readonly second: Sent }
  const timeTo = (sent: Sent): { graph: number; write: number } => {
    const after = standIn.requests().filter((r) => r.at >= sent.calledAt);
    const write = after.find((r) => r.method === 'POST' && r.path.includes('learningCourseActivities'));
    return { graph: (after[0]?.at ?? NaN) - sent.calledAt, write: (write?.at ?? NaN) - sent.calledAt };
  };
  let next = 0;
  const ids = (): string => [records[next++]?.enrollmentId ?? '', records[next++]?.enrollmentId ?? ''].join(',');
  await runJsonChild<Report>('dist/bench/webhookChild.js', [], { env: { ...env, BENCH_WEBHOOK_IDS: ids() }, cwd: dir });
  const rows = [];
  for (const mode of ['cold start', 'cold start + warm-up'] as const) {
    const firsts: { graph: number; write: number; handler: number }[] = [];
    const seconds: { graph: number; write: number; handler: number }[] = [];
    const warmUps: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      standIn.resetStats();
      const report = await runJsonChild<Report>('dist/bench/webhookChild.js', mode === 'cold start' ? [] : ['--warm-up'], { env: { ...env, BENCH_WEBHOOK_IDS: ids() }, cwd: dir });
      if (report.first.status !== 200 || report.second.status !== 200) console.error(`  webhook answered ${report.first.status}, ${report.second.status}`);
      firsts.push({ ...timeTo(report.first), handler: report.first.ms });
      seconds.push({ ...timeTo(report.second), handler: report.second.ms });
      if (report.warmUpMs !== undefined) warmUps.push(report.warmUpMs);
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    rows.push({
      process: mode,
      runs,
      'first: ms to Graph': median(firsts.map((f) => f.graph)),
      'first: ms to the write': median(firsts.map((f) => f.write)),
      'first: handler ms': median(firsts.map((f) => f.handler)),
      'second: ms to Graph': median(seconds.map((f) => f.graph)),
      'second: ms to the write': median(seconds.map((f) => f.write)),
      'warm-up ms': warmUps.length === 0 ? '-' : median(warmUps),
    });
  }
  console.table(rows);
  console.log(JSON.stringify({ args, rows }));
}

await main();
