import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { exitCodeOf, formatSummary, stderrLogger } from '../cli/main.js';
import { readStatus } from '../cli/status.js';
import { writeStatusReport } from '../report/writeReport.js';
import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/loadConfig.js';
import { formatLastDoctorLine, readLastDoctorResult } from '../doctor/lastResult.js';
import { openSync } from '../sync/openSync.js';
import { startAzurite } from './azurite.js';
import { GraphStandIn } from './graphStandIn.js';
import { startDemoLms, type DemoAdapter } from './lms/demoLms.js';
import { sandboxTenant, stableGuid } from './tenant.js';

function isDemoAdapter(adapter: string): adapter is DemoAdapter {
  return adapter === 'canvas' || adapter === 'moodle' || adapter === 'oneroster' || adapter === 'xapi';
}

/**
 * `npm start`: the main job on embedded defaults, with no Azure account. Azurite keeps the
 * state on disk under .sandbox/, the Viva Learning stand-in plays Graph (its data saved in
 * .sandbox/ too), and the examples/ export is synced. A second start finds nothing to do.
 */
export async function startSandbox(cwd: string): Promise<number> {
  const sandboxDir = resolve(cwd, '.sandbox');
  const graphStatePath = join(sandboxDir, 'viva-learning.json');
  mkdirSync(sandboxDir, { recursive: true });
  // Any adapter can be tried by settings (e.g. against a stand-in from src/sandbox/lms/); the default is the example export.
  const adapter = process.env['LMS_ADAPTER'] ?? 'file';
  const exportPath = process.env['LMS_FILE_PATH'] ?? (adapter === 'file' ? 'examples/enrollments.csv' : undefined);
  // The example export comes with its catalog: courses nobody is enrolled in, and one retired.
  const catalogPath = process.env['LMS_CATALOG_PATH'] ?? (adapter === 'file' && process.env['LMS_FILE_PATH'] === undefined ? 'examples/catalog.csv' : undefined);
  // An API adapter with no LMS named: its stand-in, with generated data, plays the LMS (src/sandbox/lms/demoLms.ts).
  const demo = isDemoAdapter(adapter) && process.env['LMS_BASE_URL'] === undefined && process.env['LMS_FILE_PATH'] === undefined ? await startDemoLms(adapter) : undefined;
  const source = adapter === 'file' ? (exportPath ?? '') : `${adapter} at ${demo?.settings['LMS_BASE_URL'] ?? process.env['LMS_BASE_URL'] ?? exportPath ?? '(LMS_BASE_URL not set)'}${demo !== undefined ? ' (its local stand-in, with generated data)' : ''}`;

  const azurite = await startAzurite({ location: join(sandboxDir, 'azurite'), silent: true });
  const tenant = sandboxTenant([]);
  // The sandbox tenant has every person the LMS names, except "former.*" ones: they show what an unknown learner does.
  const standIn = new GraphStandIn({
    token: tenant.token,
    providers: [tenant.provider],
    provisionUser: ({ property, value }) => {
      const address = value.toLowerCase();
      if ((property !== 'userPrincipalName' && property !== 'mail') || address.startsWith('former.')) return undefined;
      return { id: stableGuid(address), userPrincipalName: address, mail: address };
    },
  });
  restoreStandIn(standIn, graphStatePath);
  const graphUrl = await standIn.start(0);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));

  try {
    const env = {
      ...process.env,
      ...demo?.settings,
      VIVA_PROVIDER_ID: tenant.provider.id,
      LMS_ADAPTER: adapter,
      ...(exportPath !== undefined ? { LMS_FILE_PATH: exportPath } : {}),
      ...(catalogPath !== undefined ? { LMS_CATALOG_PATH: catalogPath } : {}),
      GRAPH_BASE_URL: graphUrl,
      GRAPH_AUTH: 'static-token',
      GRAPH_TOKEN: tenant.token,
      AzureWebJobsStorage: azurite.connectionString,
      SYNC_STORAGE_CONNECTION: '',
      // One set of state tables per adapter: their cursors mean different things.
      SYNC_TABLE_PREFIX: adapter === 'file' ? 'vivasync' : `vivasync${adapter}`,
    };
    const config = loadConfig(env, { cwd });
    const runner = await openSync(config, { logger: stderrLogger(process.stderr), cwd });
    process.stdout.write(`Syncing ${source} into the local Viva Learning stand-in at ${graphUrl} …\n`);
    const summary = await runner.run({ trigger: 'sandbox', abortSignal: controller.signal });
    process.stdout.write(formatSummary(summary));
    // `viva-sync status` would need the sandbox's settings: show the dead letters here instead.
    const status = await readStatus(runner.state);
    if (status.deadLetters.count > 0) {
      process.stdout.write(`Dead letters (${status.deadLetters.count}; refused writes are retried by later runs, invalid records once they change):\n`);
      for (const d of status.deadLetters.recent) process.stdout.write(`  ${d.key}${d.position !== undefined ? ` (${d.position})` : ''}: ${d.reason}\n`);
    }
    // The last `viva-sync doctor` run against these tables, when there was one.
    const doctor = await readLastDoctorResult(config);
    if (doctor !== undefined) process.stdout.write(formatLastDoctorLine(doctor));
    const activities = standIn.activities();
    process.stdout.write(
      [
        `Viva Learning stand-in now holds ${activities.length} course activities and ${standIn.contents().length} courses.`,
        summary.counts.created + summary.counts.updated + summary.counts.deleted + (summary.catalog?.created ?? 0) + (summary.catalog?.updated ?? 0) + (summary.catalog?.retired ?? 0) === 0 ? 'Nothing to change: Viva Learning already matches the export.' : 'Run `npm start` again: it will find nothing to change.',
        `State (Azurite, Table Storage) lives in ${relative(cwd, join(sandboxDir, 'azurite'))}/; the stand-in's data in ${relative(cwd, graphStatePath)}. Delete .sandbox/ to start over.`,
        '',
      ].join('\n'),
    );
    // The first thing a new user sees: a picture of what happened (the page GET /api/status serves).
    const reportPath = join(sandboxDir, 'report.html');
    await writeStatusReport(config, { outPath: reportPath, logger: stderrLogger(process.stderr), state: runner.state, title: 'the sandbox' });
    process.stdout.write(`Status page: ${reportPath} (open it in a browser; \`viva-sync report --out FILE\` writes it from any state).\n`);
    // The examples carry dead letters on purpose: that is a successful demo, not an error for npm to report.
    return summary.status === 'failed' ? exitCodeOf(summary) : 0;
  } catch (err) {
    process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
    return isConfigError(err) ? 2 : 1;
  } finally {
    saveStandIn(standIn, graphStatePath);
    await standIn.stop();
    await demo?.stop();
    await azurite.stop();
  }
}

function restoreStandIn(standIn: GraphStandIn, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  standIn.importState(JSON.parse(text) as ReturnType<GraphStandIn['exportState']>);
}

function saveStandIn(standIn: GraphStandIn, path: string): void {
  writeFileSync(path, JSON.stringify(standIn.exportState()));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await startSandbox(process.cwd());
}
