import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { writeStatusReport } from '../report/writeReport.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, type CliIo } from './io.js';

export interface ReportCommandOptions {
  readonly out: string;
  readonly json?: boolean;
}

/** `viva-sync report --out report.html`: the operator's status page (GET /api/status) as a file. */
export async function reportCommand(options: ReportCommandOptions, io: CliIo): Promise<number> {
  const config = loadConfig(io.env, { cwd: io.cwd });
  const outPath = resolve(io.cwd, options.out);
  const report = await writeStatusReport(config, { outPath, logger: stderrLogger(io.stderr) });
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify({ out: outPath, report })}\n`);
  } else {
    io.stdout.write(`Wrote the status page (${report.status}) to ${outPath}\n`);
  }
  return report.storage?.ok === false || report.config.ok === false ? EXIT.failure : EXIT.ok;
}

export function registerReport(program: Command, context: CommandContext): void {
  const command = program
    .command('report')
    .summary('write the status page (HTML) from the state tables')
    .description(
      'Write the operator\'s status page, the one GET /api/status shows, as one self-contained HTML file: the verdict and why, a chart of the last 50 runs, dead letters by reason, the quarantine, the cursor, Graph traffic and the queue. It needs no Function App, only the state tables.',
    )
    .requiredOption('--out <file>', 'where to write the page, e.g. report.html')
    .option('--json', 'also print the report\'s data as one JSON object')
    .action(async (options: ReportCommandOptions) => context.exit(await reportCommand(options, context.io)));
  withExamples(command, [
    ['viva-sync report --out report.html', 'the status page, to open in a browser or attach to a ticket'],
    ['viva-sync report --out report.html --json', 'the same, and its data for a script'],
  ]);
}
