import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import type { Quarantine } from '../state/quarantineStore.js';
import { openSync } from '../sync/openSync.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, type CliIo } from './io.js';

/**
 * `viva-sync quarantine`: why sync passes are being skipped, and lifting it once the cause is
 * fixed. The deletes a pass staged (src/sync/stagedDeletes.ts) are discarded by `clear` (the
 * cursor goes back so the next pass reads them again) and sent by `clear --allow-deletes`, for a
 * withdrawal that really is that large; should that stop short, the next passes send the rest
 * past SYNC_QUARANTINE_MAX_DELETES (until one succeeds).
 */
export async function quarantineCommand(action: 'show' | 'clear', values: { readonly allowDeletes?: boolean; readonly json?: boolean }, io: CliIo): Promise<number> {
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const store = runner.quarantine;
  if (store === undefined) throw new Error('This build opens no quarantine store.');
  const json = values.json === true;
  if (action === 'show') {
    const q = await store.get();
    const stagedDeletes = (await runner.stagedDeletes.list()).length;
    io.stdout.write(json ? `${JSON.stringify({ ...q, stagedDeletes })}\n` : `${formatQuarantine(q)}${stagedDeletes > 0 ? `  ${stagedDeletes} deletes are staged: \`quarantine clear --allow-deletes\` sends them, \`quarantine clear\` discards them.\n` : ''}`);
    return EXIT.ok;
  }
  const before = await store.get();
  const staged = (await runner.stagedDeletes.list()).length;
  let stagedDeletes: Record<string, number | string | null>;
  let after;
  if (values.allowDeletes === true) {
    await store.clear({ allowDeletes: true });
    const applied = staged === 0 ? undefined : await runner.applyStagedDeletes();
    const remaining = (await runner.stagedDeletes.list()).length;
    stagedDeletes = { staged, deleted: applied?.counts.deleted ?? 0, failed: applied?.counts.failed ?? 0, remaining, ...(applied !== undefined ? { runId: applied.runId } : {}) };
    after = await store.get();
  } else {
    // Discarded first: while a run holds the lease this fails, and the quarantine stays.
    const discarded = await runner.discardStagedDeletes();
    after = await store.clear();
    stagedDeletes = { staged, discarded: discarded.discarded, ...(discarded.rewoundTo !== undefined ? { rewoundTo: discarded.rewoundTo } : {}) };
  }
  if (json) {
    io.stdout.write(`${JSON.stringify({ wasActive: before.active, ...after, stagedDeletes })}\n`);
  } else {
    const lines = [`${before.active ? `Quarantine cleared (it began ${before.since ?? 'at an unknown time'}).` : 'The sync was not quarantined.'} The next \`viva-sync sync\` or timer run proceeds.`];
    if (values.allowDeletes === true && staged > 0) {
      lines.push(`${stagedDeletes['deleted']} of ${staged} staged deletes sent, ${stagedDeletes['failed']} dead-lettered, ${stagedDeletes['remaining']} left.`);
      if (after.deletesApproved) lines.push(`The next passes send the rest, past SYNC_QUARANTINE_MAX_DELETES (${config.quarantine.maxDeletes}), until one succeeds.`);
    } else if (values.allowDeletes === true) {
      lines.push(`No deletes were staged; the next pass may delete more than SYNC_QUARANTINE_MAX_DELETES (${config.quarantine.maxDeletes}) activities.`);
    } else if (staged > 0) {
      lines.push(`${staged} staged deletes discarded; the next pass reads those records again from ${stagedDeletes['rewoundTo'] === null ? 'the start' : `cursor ${String(stagedDeletes['rewoundTo'] ?? 'unchanged')}`}.`);
    }
    io.stdout.write(`${lines.join('\n')}\n`);
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
    .option('--allow-deletes', 'send the staged deletes now, past SYNC_QUARANTINE_MAX_DELETES (without it they are discarded and read again)')
    .option('--json', 'print { wasActive, ... } as one JSON object')
    .action(async (options: { allowDeletes?: boolean; json?: boolean }) => context.exit(await quarantineCommand('clear', options, context.io)));
  withExamples(show, [['viva-sync quarantine show', 'why passes are being skipped']]);
  withExamples(clear, [
    ['viva-sync quarantine clear', 'the cause is fixed: discard the staged deletes, read them again, sync again'],
    ['viva-sync quarantine clear --allow-deletes', 'that large withdrawal is real: delete the staged activities now'],
  ]);
}
