import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import type { Quarantine } from '../state/quarantineStore.js';
import { openSync } from '../sync/openSync.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, type CliIo } from './io.js';

/**
 * `viva-sync quarantine`: why sync passes are being skipped, and lifting it once the cause is
 * fixed. `--allow-deletes` lets the next pass delete past SYNC_QUARANTINE_MAX_DELETES (until
 * one pass succeeds), for a withdrawal that really is that large.
 */
export async function quarantineCommand(action: 'show' | 'clear', values: { readonly allowDeletes?: boolean; readonly json?: boolean }, io: CliIo): Promise<number> {
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
  const cleared = await store.clear({ allowDeletes: values.allowDeletes === true });
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

export function registerQuarantine(program: Command, context: CommandContext): void {
  const quarantine = program.command('quarantine').summary('why sync passes are skipped, and lifting it').description('The quarantine: sync passes are skipped after a run that failed too much, until it is cleared.');
  const show = quarantine
    .command('show')
    .description('Show whether the sync is quarantined, since when and why.')
    .option('--json', 'print the quarantine as one JSON object')
    .action(async (options: { json?: boolean }) => context.exit(await quarantineCommand('show', options, context.io)));
  const clear = quarantine
    .command('clear')
    .description('Lift the quarantine once the cause is fixed; the next pass proceeds.')
    .option('--allow-deletes', 'let the next pass delete past SYNC_QUARANTINE_MAX_DELETES (until one pass succeeds)')
    .option('--json', 'print { wasActive, ... } as one JSON object')
    .action(async (options: { allowDeletes?: boolean; json?: boolean }) => context.exit(await quarantineCommand('clear', options, context.io)));
  withExamples(show, [['viva-sync quarantine show', 'why passes are being skipped']]);
  withExamples(clear, [
    ['viva-sync quarantine clear', 'the cause is fixed: sync again'],
    ['viva-sync quarantine clear --allow-deletes', 'that large withdrawal is real: let the next pass delete it'],
  ]);
}
