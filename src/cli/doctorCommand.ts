import type { Command } from 'commander';
import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/loadConfig.js';
import { formatDoctorReport } from '../doctor/format.js';
import { saveLastDoctorResult } from '../doctor/lastResult.js';
import { runDoctor } from '../doctor/runDoctor.js';
import { exitCodeOfDoctor } from '../doctor/types.js';
import { withExamples, type CommandContext } from './command.js';
import type { CliIo } from './io.js';

export interface DoctorCliOptions {
  readonly json?: boolean;
  readonly learner?: string;
}

/**
 * `viva-sync doctor`: every prerequisite checked at once with the app's own settings and
 * credentials (src/doctor). Exit 0 all green, 3 warnings only, 1 a blocking problem.
 */
export async function doctorCommand(options: DoctorCliOptions, io: CliIo, abortSignal?: AbortSignal): Promise<number> {
  const report = await runDoctor({ env: io.env, cwd: io.cwd, ...(options.learner !== undefined ? { learner: options.learner } : {}), ...(abortSignal !== undefined ? { abortSignal } : {}) });
  io.stdout.write(options.json === true ? `${JSON.stringify(report)}\n` : formatDoctorReport(report));
  // Kept for /api/status and `npm start`, when the tables took the probe.
  if (report.checks.some((c) => c.id === 'storage' && c.status === 'pass')) {
    try {
      await saveLastDoctorResult(loadConfig(io.env, { cwd: io.cwd }), report);
    } catch (err) {
      if (!isConfigError(err)) io.stderr.write(`viva-sync: the result was not saved for /api/status: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    }
  }
  return exitCodeOfDoctor(report);
}

export function registerDoctor(program: Command, context: CommandContext): void {
  const command = program
    .command('doctor')
    .summary('check every prerequisite and print the fix for each')
    .description(
      'Check, with the app\'s own settings and credentials: settings, state storage, a Graph token and its application\n' +
        'permissions, the learning provider and its course-activity switch, the clock, a probe course (inactive), the LMS,\n' +
        'and with --learner a learner\'s resolution and a probe activity (created, read back, deleted). Each line says\n' +
        'what was found and the fix. It leaves nothing behind but the inactive probe course, and never prints a secret.\n' +
        'Exit codes: 0 all green, 3 warnings only, 1 a blocking problem.',
    )
    .option('--learner <id>', 'an LMS learner id, e-mail or UPN: check its resolution and the licence path end to end')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: DoctorCliOptions) => context.exit(await doctorCommand(options, context.io, context.abortSignal)));
  withExamples(command, [
    ['viva-sync doctor', 'after `azd up` and the permissions script: what is still missing'],
    ['viva-sync doctor --learner ada@contoso.example', 'also prove one learner can receive activities (licence, UPN match)'],
    ['viva-sync doctor --json', 'for a pipeline: exit 1 blocks a release'],
  ]);
}
