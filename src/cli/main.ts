import { parseArgs } from 'node:util';
import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/loadConfig.js';
import { RunInProgressError, type RunProgress } from '../sync/engine.js';
import type { Logger } from '../sync/logger.js';
import { openSync } from '../sync/openSync.js';
import { runSyncPass } from '../sync/pending.js';
import type { RunSummary } from '../sync/types.js';
import { createHttpState, tableConnectionOf } from '../state/httpState.js';
import { CURSOR_USAGE, cursorCommand } from './cursorCommand.js';
import { DEADLETTERS_USAGE, deadLettersCommand } from './deadLettersCommand.js';
import { progressReporter } from './progress.js';
import { PROVIDER_USAGE, providerCommand } from './providerCommand.js';
import { QUARANTINE_USAGE, quarantineCommand } from './quarantineCommand.js';
import { RUNS_USAGE, runsCommand } from './runsCommand.js';
import { RESYNC_USAGE, resyncCommand } from './resyncCommand.js';
import { formatStatus, readStatus } from './status.js';
import { WEBHOOK_USAGE, webhookCommand } from './webhookCommand.js';
import { WORKER_USAGE, workerCommand } from './workerCommand.js';

/** Exit codes of DESIGN.md, "The command line". */
export const EXIT = { ok: 0, failure: 1, usage: 2, deadLetters: 3 } as const;

export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE = () => `Usage:
  viva-sync sync [--dry-run] [--full] [--json] [--mode inline|queue]
                                                 run one sync pass and exit (queue: plan, enqueue, wait for workers)
  ${WORKER_USAGE}
      perform the queued work batches (queue mode) until SIGINT or idle
  viva-sync status [--json]                      cursor, recent runs, dead letters
  ${RESYNC_USAGE}
      re-sync now (a learner, a course, an enrollment: writes forced), or
      ask the next sync pass to re-read everything (since a date)
  ${WEBHOOK_USAGE}
      print a signed test delivery for POST /api/lms/webhook (curl)
  ${DEADLETTERS_USAGE}
  ${RUNS_USAGE}
  viva-sync ${CURSOR_USAGE}
  viva-sync ${QUARANTINE_USAGE}
      operations: dead letters, run history, a deliberate cursor rewind, the quarantine (docs/operations.md)
  ${PROVIDER_USAGE}
  viva-sync help

Exit codes: 0 all records handled, 3 some records dead-lettered, 2 settings or usage error, 1 other failure.
Settings come from the environment and local.settings.json (Values); see README.md.`;

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
  const logger = options.logger ?? stderrLogger(process.stderr);
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
  return summary.counts.failed > 0 ? EXIT.deadLetters : EXIT.ok;
}

/** Runs the command line; returns the exit code. The one top-level catch maps errors to codes. */
export async function runCli(argv: readonly string[], io: CliIo, abortSignal?: AbortSignal): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'sync':
        return await syncCommand(rest, io, abortSignal);
      case 'status':
        return await statusCommand(rest, io);
      case 'resync':
        return await resyncCommand(rest, io);
      case 'webhook':
        return await webhookCommand(rest, io);
      case 'worker':
        return await workerCommand(rest, io, abortSignal);
      case 'deadletters':
        return await deadLettersCommand(rest, io);
      case 'runs':
        return await runsCommand(rest, io);
      case 'cursor':
        return await cursorCommand(rest, io);
      case 'quarantine':
        return await quarantineCommand(rest, io);
      case 'provider':
        return await providerCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE()}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (isConfigError(err)) {
      io.stderr.write(`viva-sync: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`viva-sync: ${err.message}\n${USAGE()}\n`);
      return EXIT.usage;
    }
    if (err instanceof RunInProgressError) {
      io.stderr.write(`viva-sync: ${err.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`viva-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}

async function syncCommand(args: readonly string[], io: CliIo, abortSignal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { 'dry-run': { type: 'boolean' }, full: { type: 'boolean' }, json: { type: 'boolean' }, mode: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const progress = progressReporter(io.stderr);
  if (values.mode !== undefined && values.mode !== 'inline' && values.mode !== 'queue') throw new UsageError('--mode is inline or queue');
  const summary = await sync({
    cwd: io.cwd,
    env: values.mode === undefined ? io.env : { ...io.env, SYNC_MODE: values.mode },
    logger: stderrLogger(io.stderr),
    dryRun: values['dry-run'] === true,
    full: values.full === true,
    onProgress: progress.update,
    ...(abortSignal !== undefined ? { abortSignal } : {}),
  });
  progress.done();
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    io.stdout.write(formatSummary(summary));
  }
  return exitCodeOf(summary);
}

async function statusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { json: { type: 'boolean' } }, strict: true, allowPositionals: false });
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const status = await readStatus(runner.state, runner.quarantine);
  io.stdout.write(values.json === true ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return EXIT.ok;
}

export function formatSummary(summary: RunSummary): string {
  const c = summary.counts;
  const lines = [
    `${summary.dryRun ? 'Dry run' : 'Run'} ${summary.runId}: ${summary.status}${summary.message !== undefined ? ` (${summary.message})` : ''}`,
    `  read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`,
    `  cursor ${summary.cursor.before ?? '(none)'} -> ${summary.cursor.after ?? '(none)'}, ${(summary.durationMs / 1000).toFixed(1)} s`,
  ];
  if (summary.graph !== undefined) lines.push(`  Graph: ${summary.graph.requests} requests, ${summary.graph.retries} retries, ${summary.graph.throttled} throttled`);
  if (c.failed > 0) lines.push('  Some records were dead-lettered: see `viva-sync status` for the reasons.');
  for (const call of summary.plannedCalls ?? []) lines.push(`  would ${call.method} ${call.operation}: ${call.target}`);
  return `${lines.join('\n')}\n`;
}

/** Log lines go to standard error, so standard output stays the summary alone. */
export function stderrLogger(stderr: { write(text: string): unknown }): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const extra = fields === undefined ? '' : ` ${Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`).join(' ')}`;
    stderr.write(`${new Date().toISOString()} ${level} ${message}${extra}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
