import { parseArgs } from 'node:util';
import { loadConfig } from '../config/loadConfig.js';
import type { Quarantine } from '../state/quarantineStore.js';
import { openSync } from '../sync/openSync.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './main.js';

export const QUARANTINE_USAGE = 'viva-sync quarantine show [--json] | quarantine clear [--allow-deletes] [--json]';

/**
 * `viva-sync quarantine`: why sync passes are being skipped, and lifting it once the cause is
 * fixed. `--allow-deletes` lets the next pass delete past SYNC_QUARANTINE_MAX_DELETES (until
 * one pass succeeds), for a withdrawal that really is that large.
 */
export async function quarantineCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { 'allow-deletes': { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
    allowPositionals: true,
  });
  const [action, ...extra] = positionals;
  if (action !== 'show' && action !== 'clear') throw new UsageError(`quarantine takes show or clear (got ${action === undefined ? 'nothing' : JSON.stringify(action)})`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (action === 'show' && values['allow-deletes'] === true) throw new UsageError('--allow-deletes goes with quarantine clear');
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const store = runner.quarantine;
  if (store === undefined) throw new Error('This build opens no quarantine store.');
  const json = values.json === true;
  if (action === 'show') {
    const q = await store.get();
    io.stdout.write(json ? `${JSON.stringify(q)}\n` : formatQuarantine(q));
    return EXIT.ok;
  }
  const before = await store.get();
  const cleared = await store.clear({ allowDeletes: values['allow-deletes'] === true });
  if (json) {
    io.stdout.write(`${JSON.stringify({ wasActive: before.active, ...cleared })}\n`);
  } else {
    io.stdout.write(
      `${before.active ? `Quarantine cleared (it began ${before.since ?? 'at an unknown time'}).` : 'The sync was not quarantined.'} The next \`viva-sync sync\` or timer run proceeds.\n` +
        (cleared.deletesApproved ? `That run may delete more than SYNC_QUARANTINE_MAX_DELETES (${config.quarantine.maxDeletes}) activities.\n` : ''),
    );
  }
  return EXIT.ok;
}

export function formatQuarantine(q: Quarantine): string {
  if (!q.active) return `Not quarantined.${q.clearedAt !== undefined ? ` (Last cleared ${q.clearedAt}.)` : ''}${q.deletesApproved ? ' The next pass may delete past the maximum.' : ''}\n`;
  const counts = q.counts === undefined ? '' : `\n  run ${q.runId ?? 'unknown'}: ${q.counts.attempted} writes attempted, ${q.counts.failed} failed, ${q.counts.deletes} deletes`;
  return `QUARANTINED since ${q.since ?? 'unknown'} (${q.trigger ?? 'unknown'}): ${(q.reason ?? '').replace(/^quarantined: /, '')}${counts}\n  Sync passes are skipped until \`viva-sync quarantine clear\`.\n`;
}
