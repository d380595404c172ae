import { parseArgs } from 'node:util';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import { CursorConflictError } from '../state/types.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './main.js';

export const CURSOR_USAGE = 'viva-sync cursor show [--json] | cursor set VALUE --yes [--json]';

/** How long `cursor set` holds the run lease: ample for one read and one write. */
const LEASE_TTL_MS = 30_000;

/**
 * `viva-sync cursor`: show the sync cursor, or move it on purpose (a rewind re-reads from
 * there). The move takes the run lease, so it never races a run, and saves with the ETag read.
 */
export async function cursorCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { yes: { type: 'boolean' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const [action, value, ...extra] = positionals;
  if (action !== 'show' && action !== 'set') throw new UsageError(`cursor takes show or set (got ${action === undefined ? 'nothing' : JSON.stringify(action)})`);
  if (extra.length > 0 || (action === 'show' && value !== undefined)) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0] ?? value)}`);
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
    await state.cursor.save({ value, ledgerComplete: latest.ledgerComplete, runId: owner }, latest.etag);
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
