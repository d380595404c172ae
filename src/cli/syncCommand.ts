import { formatCatalogLines } from './catalogSummary.js';
import { Option, type Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import type { RunProgress } from '../sync/engine.js';
import type { Logger } from '../sync/logger.js';
import { redactingWriter, redactorFor } from '../sync/redaction.js';
import { openSync } from '../sync/openSync.js';
import { runSyncPass } from '../sync/pending.js';
import type { RunSummary } from '../sync/types.js';
import { createHttpState, tableConnectionOf } from '../state/httpState.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, type CliIo } from './io.js';
import { progressReporter } from './progress.js';

export interface SyncCommandOptions {
  readonly dryRun?: boolean;
  readonly full?: boolean;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  readonly abortSignal?: AbortSignal;
  readonly onProgress?: (progress: RunProgress) => void;
  readonly trigger?: string;
}

/**
 * `viva-sync sync` as a function (STYLE.md §12): settings in, summary out. Like the timer, the
 * pass carries out full re-sync requests and then drains the records webhooks queued.
 */
export async function sync(options: SyncCommandOptions = {}): Promise<RunSummary> {
  const cwd = options.cwd ?? process.cwd();
  const config = loadConfig(options.env ?? process.env, { cwd });
  const logger = options.logger ?? stderrLogger(redactingWriter(process.stderr, redactorFor(options.env ?? process.env, cwd)));
  const runner = await openSync(config, { logger, cwd });
  const run = {
    ...(options.dryRun === true ? { dryRun: true } : {}),
    ...(options.full === true ? { full: true } : {}),
    ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    trigger: options.trigger ?? 'cli',
  };
  if (options.dryRun === true) return runner.run(run);
  const queues = await createHttpState({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  return runSyncPass(runner, queues, { logger, run });
}

export function exitCodeOf(summary: RunSummary): number {
  if (summary.status === 'failed') return EXIT.failure;
  return summary.counts.failed > 0 || (summary.catalog?.failed ?? 0) > 0 ? EXIT.deadLetters : EXIT.ok;
}

export function formatSummary(summary: RunSummary): string {
  const c = summary.counts;
  const lines = [
    `${summary.dryRun ? 'Dry run' : 'Run'} ${summary.runId}: ${summary.status}${summary.message !== undefined ? ` (${summary.message})` : ''}`,
    `  read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`,
    `  cursor ${summary.cursor.before ?? '(none)'} -> ${summary.cursor.after ?? '(none)'}, ${(summary.durationMs / 1000).toFixed(1)} s`,
  ];
  lines.push(...formatCatalogLines(summary.catalog));
  if (summary.graph !== undefined) lines.push(`  Graph: ${summary.graph.requests} requests, ${summary.graph.retries} retries, ${summary.graph.throttled} throttled`);
  if (c.failed > 0) lines.push('  Some records were dead-lettered: see `viva-sync status` for the reasons.');
  for (const call of summary.plannedCalls ?? []) lines.push(`  would ${call.method} ${call.operation}: ${call.target}`);
  return `${lines.join('\n')}\n`;
}

export interface SyncCliOptions {
  readonly dryRun?: boolean;
  readonly full?: boolean;
  readonly json?: boolean;
  readonly mode?: 'inline' | 'queue';
}

/** The command line around `sync()`: progress on standard error, the summary on standard output. */
export async function syncCommand(options: SyncCliOptions, io: CliIo, abortSignal?: AbortSignal): Promise<number> {
  const progress = progressReporter(io.stderr);
  const summary = await sync({
    cwd: io.cwd,
    env: options.mode === undefined ? io.env : { ...io.env, SYNC_MODE: options.mode },
    logger: stderrLogger(io.stderr),
    dryRun: options.dryRun === true,
    full: options.full === true,
    onProgress: progress.update,
    ...(abortSignal !== undefined ? { abortSignal } : {}),
  });
  progress.done();
  io.stdout.write(options.json === true ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return exitCodeOf(summary);
}

export function registerSync(program: Command, context: CommandContext): void {
  const command = program
    .command('sync')
    .summary('run one sync pass and exit')
    .description(
      'Run one sync pass with the settings (environment, then local.settings.json) and exit. Like the timer, the pass\n' +
        'carries out requested full re-syncs, then the records webhooks queued. In queue mode it plans, enqueues the\n' +
        'work batches and waits for the workers (`viva-sync worker`).',
    )
    .option('--dry-run', 'write nothing to Graph or to the state; print the planned calls')
    .option('--full', 'ignore the cursor and reconcile everything')
    .option('--json', 'print the run summary as one JSON object on the last line')
    .addOption(new Option('--mode <mode>', 'override SYNC_MODE for this pass').choices(['inline', 'queue']))
    .action(async (options: SyncCliOptions) => context.exit(await syncCommand(options, context.io, context.abortSignal)));
  withExamples(command, [
    ['viva-sync sync --dry-run', 'see what the next pass would write, without writing'],
    ['viva-sync sync --json', 'one pass; the JSON summary for a pipeline (exit 3: some records dead-lettered)'],
    ['viva-sync sync --mode queue', 'plan and enqueue; run `viva-sync worker` alongside'],
  ]);
}
