import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, type CliIo } from './io.js';
import { formatStatus, readStatus } from './status.js';

/** `viva-sync status`: cursor, lease, dead letters, recent runs and the quarantine. */
export async function statusCommand(options: { readonly json?: boolean }, io: CliIo): Promise<number> {
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const status = await readStatus(runner.state, runner.quarantine);
  io.stdout.write(options.json === true ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return EXIT.ok;
}

export function registerStatus(program: Command, context: CommandContext): void {
  const command = program
    .command('status')
    .summary('cursor, recent runs, dead letters')
    .description('Show the sync cursor, the run lease, the dead letters, the recent runs and whether the sync is quarantined.')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }) => context.exit(await statusCommand(options, context.io)));
  withExamples(command, [
    ['viva-sync status', 'what the sync did lately and what it could not send'],
    ['viva-sync status --json', 'the same for a script'],
  ]);
}
