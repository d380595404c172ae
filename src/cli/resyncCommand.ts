import { parseArgs } from 'node:util';
import { loadConfig } from '../config/loadConfig.js';
import { openSyncServices } from '../sync/singleRecord.js';
import { parseResyncCommand, requestFullResync, resyncInline, type FullResyncResult, type InlineResyncResult } from '../sync/resync.js';
import { EXIT, exitCodeOf, formatSummary, stderrLogger, UsageError, type CliIo } from './main.js';

export const RESYNC_USAGE = 'viva-sync resync --learner ID|--course ID|--enrollment ID|--all [--since ISO] [--dry-run] [--json]';

/**
 * `viva-sync resync`: the CLI twin of POST /api/resync. Small scopes run now and force the
 * writes; `--all` rewinds the cursor (or resets it) for the next `viva-sync sync` or timer run.
 */
export async function resyncCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      learner: { type: 'string' },
      course: { type: 'string' },
      enrollment: { type: 'string' },
      all: { type: 'boolean' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const parsed = parseResyncCommand({
    ...(values.learner !== undefined ? { learner: values.learner } : {}),
    ...(values.course !== undefined ? { course: values.course } : {}),
    ...(values.enrollment !== undefined ? { enrollment: values.enrollment } : {}),
    ...(values.all === true ? { all: true } : {}),
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values['dry-run'] === true ? { dryRun: true } : {}),
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
