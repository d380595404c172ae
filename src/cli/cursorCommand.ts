import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import { CursorConflictError } from '../state/types.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './io.js';

/** How long `cursor set` holds the run lease: ample for one read and one write. */
const LEASE_TTL_MS = 30_000;

/**
 * `viva-sync cursor`: show the sync cursor, or move it on purpose (a rewind re-reads from
 * there). The move takes the run lease, so it never races a run, and saves with the ETag read.
 */
export async function cursorCommand(action: 'show' | 'set', value: string | undefined, values: { readonly yes?: boolean; readonly json?: boolean }, io: CliIo): Promise<number> {
  if (action === 'set' && (value === undefined || value.trim() === '')) throw new UsageError('cursor set needs the new value (an ISO date-time for the file adapter, else the adapter\'s cursor)');

  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const { state } = runner;
  const current = await state.cursor.get();
  const shown = { value: current.value ?? null, savedAt: current.savedAt ?? null, runId: current.runId ?? null, ledgerComplete: current.ledgerComplete };
  if (action === 'show' || value === undefined) {
    io.stdout.write(
      values.json === true
        ? `${JSON.stringify(shown)}\n`
        : `Cursor: ${shown.value ?? '(none: the next run reads everything)'}${shown.savedAt !== null ? ` (saved ${shown.savedAt} by ${shown.runId ?? 'unknown'})` : ''}\n`,
    );
    return EXIT.ok;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isFinite(Date.parse(value))) throw new UsageError(`${JSON.stringify(value)} is not a valid ISO date-time`);
  if (values.yes !== true) {
    io.stderr.write(`viva-sync: this moves the cursor from ${shown.value ?? '(none)'} to ${value}; the next run reads the LMS from there. Add --yes to do it.\n`);
    return EXIT.usage;
  }
  const owner = `cli:cursor-set:${Date.now()}`;
  const lease = await state.lease.tryAcquire(owner, LEASE_TTL_MS);
  if (lease === undefined) {
    const holder = await state.lease.current();
    io.stderr.write(`viva-sync: a sync run (${holder?.owner ?? 'unknown'}) holds the run lease until ${holder?.expiresAt ?? 'unknown'}; the cursor was not moved. Try again when it ends.\n`);
    return EXIT.failure;
  }
  try {
    // Read again under the lease: a run that finished meanwhile may have moved it.
    const latest = await state.cursor.get();
    await state.cursor.save({ value, ledgerComplete: latest.ledgerComplete, ledgerEpoch: latest.ledgerEpoch, runId: owner }, latest.etag);
    const result = { before: latest.value ?? null, after: value, ledgerComplete: latest.ledgerComplete };
    io.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `Cursor moved: ${result.before ?? '(none)'} -> ${value}. The next run reads from there.\n`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof CursorConflictError)) throw err;
    io.stderr.write('viva-sync: the cursor changed while it was being set; nothing was written. Look again with `viva-sync cursor show`.\n');
    return EXIT.failure;
  } finally {
    await lease.release().catch(() => undefined);
  }
}

export function registerCursor(program: Command, context: CommandContext): void {
  const cursor = program.command('cursor').summary('show the sync cursor, or move it on purpose').description('The sync cursor: where the next run starts reading the LMS.');
  const show = cursor
    .command('show')
    .description('Show the cursor, when it was saved and by which run.')
    .option('--json', 'print { value, savedAt, runId, ledgerComplete } as one JSON object')
    .action(async (options: { json?: boolean }) => context.exit(await cursorCommand('show', undefined, options, context.io)));
  const set = cursor
    .command('set')
    .description('Move the cursor (a rewind re-reads from there). Takes the run lease, so it never races a run.')
    .argument('<value>', "the new cursor: an ISO date-time for the file adapter, else the adapter's cursor")
    .option('--yes', 'do it (without it, only says what would change)')
    .option('--json', 'print { before, after, ledgerComplete } as one JSON object')
    .action(async (value: string, options: { yes?: boolean; json?: boolean }) => context.exit(await cursorCommand('set', value, options, context.io)));
  withExamples(show, [['viva-sync cursor show', 'where the next run starts']]);
  withExamples(set, [['viva-sync cursor set 2026-11-01T00:00:00Z --yes', 'read the LMS again from 1 November']]);
}
