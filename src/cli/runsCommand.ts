import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import type { RunRecord } from '../state/types.js';
import { withAbandoned } from '../sync/runStatus.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './io.js';

/** `viva-sync runs`: the recent runs, newest first, with their counts and outcomes. */
export async function runsCommand(values: { readonly limit?: string; readonly json?: boolean }, io: CliIo): Promise<number> {
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit takes a whole number from 1 to 1000 (got ${JSON.stringify(values.limit)})`);
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const [recent, lease] = await Promise.all([runner.state.runs.listRecent(limit), runner.state.lease.current()]);
  const runs = withAbandoned(recent, lease);
  io.stdout.write(values.json === true ? `${JSON.stringify({ runs })}\n` : formatRuns(runs));
  return EXIT.ok;
}

export function formatRuns(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'No runs yet.\n';
  const lines = runs.map((r) => {
    const c = r.counts;
    const took = r.finishedAt === undefined ? '' : ` in ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s`;
    const head = `${r.startedAt} ${r.runId} (${r.trigger}) ${r.status}${took}: read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`;
    return r.message === undefined ? head : `${head}\n    ${r.message.split('\n')[0] ?? ''}`;
  });
  return `${lines.join('\n')}\n`;
}

export function registerRuns(program: Command, context: CommandContext): void {
  const command = program
    .command('runs')
    .summary('the recent runs with their counts')
    .description('List the recent runs, newest first, with their trigger, outcome, counts and duration.')
    .option('--limit <n>', 'how many runs (1-1000)', '20')
    .option('--json', 'print { runs: [...] } as one JSON object')
    .action(async (options: { limit?: string; json?: boolean }) => context.exit(await runsCommand(options, context.io)));
  withExamples(command, [['viva-sync runs --limit 5', 'the last five runs']]);
}
