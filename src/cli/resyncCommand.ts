import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openSyncServices } from '../sync/singleRecord.js';
import { parseResyncCommand, requestFullResync, resyncInline, type FullResyncResult, type InlineResyncResult } from '../sync/resync.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './io.js';
import { exitCodeOf, formatSummary } from './syncCommand.js';

export interface ResyncOptions {
  readonly learner?: string;
  readonly course?: string;
  readonly enrollment?: string;
  readonly all?: boolean;
  readonly since?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/**
 * `viva-sync resync`: the CLI twin of POST /api/resync. Small scopes run now and force the
 * writes; `--all` rewinds the cursor (or resets it) for the next `viva-sync sync` or timer run.
 */
export async function resyncCommand(values: ResyncOptions, io: CliIo): Promise<number> {
  const parsed = parseResyncCommand({
    ...(values.learner !== undefined ? { learner: values.learner } : {}),
    ...(values.course !== undefined ? { course: values.course } : {}),
    ...(values.enrollment !== undefined ? { enrollment: values.enrollment } : {}),
    ...(values.all === true ? { all: true } : {}),
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values.dryRun === true ? { dryRun: true } : {}),
  });
  if (!parsed.ok) throw new UsageError(parsed.reason.replace(/\b(learner|course|enrollment|all|since|dryRun)\b/g, (m) => (m === 'dryRun' ? '--dry-run' : `--${m}`)));
  const { scope, dryRun } = parsed.command;
  const config = loadConfig(io.env, { cwd: io.cwd });
  const logger = stderrLogger(io.stderr);
  const services = await openSyncServices(config, { cwd: io.cwd, logger });

  if (scope.kind === 'all') {
    const result = await requestFullResync({ state: await services.state(), pending: services.http.pending, logger }, scope.since, { dryRun });
    io.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : formatFull(result));
    return EXIT.ok;
  }
  const result = await resyncInline({ runner: await services.runner('resync'), config, logger }, scope, { dryRun });
  if (values.json === true) io.stdout.write(`${JSON.stringify(result)}\n`);
  else io.stdout.write(formatInline(result));
  switch (result.kind) {
    case 'done':
      return exitCodeOf(result.summary);
    case 'tooLarge':
      return EXIT.usage;
    default:
      return EXIT.failure;
  }
}

function formatFull(result: FullResyncResult): string {
  if (result.kind === 'dryRun') {
    return `Dry run: the cursor ${result.cursor.current ?? '(none)'} would become ${result.cursor.wouldBecome ?? '(none: everything is read again)'}\n`;
  }
  const cursor = result.cursor === null ? 'the cursor is rewound when the current run releases the lease' : `cursor ${result.cursor.before ?? '(none)'} -> ${result.cursor.after ?? '(none: everything is read again)'}`;
  return `Full re-sync ${result.runId} requested (${cursor}).\nThe next \`viva-sync sync\` or timer run carries it out; \`viva-sync status\` shows it.\n`;
}

function formatInline(result: InlineResyncResult): string {
  if (result.kind !== 'done') return `${result.reason}\n`;
  const lines = [
    `Re-sync of ${result.scope.kind} ${'value' in result.scope ? result.scope.value : ''}: ${result.matched} matched, ${result.forced} forced`,
    ...(result.notInLms.length > 0 ? [`  not in the LMS (not written): ${result.notInLms.join(', ')}`] : []),
    ...result.invalid.map((i) => `  invalid in the LMS: ${i.enrollmentId}: ${i.reason}`),
    ...(result.unavailable.length > 0 ? [`  the LMS could not be asked for: ${result.unavailable.join(', ')}`] : []),
  ];
  return `${lines.join('\n')}\n${formatSummary(result.summary)}`;
}

export function registerResync(program: Command, context: CommandContext): void {
  const command = program
    .command('resync')
    .summary('re-sync a learner, course or enrollment now, or everything on the next pass')
    .description(
      'The CLI twin of POST /api/resync. A learner, a course or an enrollment is re-read from the LMS and written now\n' +
        '(writes forced); --all asks the next `viva-sync sync` or timer run to re-read everything (since a date).',
    )
    .option('--learner <id>', 'an LMS learner id, e-mail or UPN')
    .option('--course <id>', 'an LMS course id')
    .option('--enrollment <id>', 'an LMS enrollment id')
    .option('--all', 'the next pass re-reads everything')
    .option('--since <iso>', 'with --all: re-read from this date instead of the beginning')
    .option('--dry-run', 'say what would happen, change nothing')
    .option('--json', 'print the result as one JSON object')
    .action(async (options: ResyncOptions) => context.exit(await resyncCommand(options, context.io)));
  withExamples(command, [
    ['viva-sync resync --learner ada@contoso.example', "write one learner's activities again now"],
    ['viva-sync resync --all --since 2026-10-01', 'the next pass re-reads the LMS from 1 October'],
  ]);
}
