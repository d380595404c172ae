import type { Command } from 'commander';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import type { DeadLetter, DeadLetterStore } from '../state/types.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './io.js';

export type DeadLettersAction = 'list' | 'retry' | 'discard';

export interface DeadLettersOptions {
  readonly key?: string;
  readonly all?: boolean;
  readonly olderThan?: string;
  readonly json?: boolean;
}

const UNITS_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `7d` → milliseconds; a UsageError naming the option otherwise. */
export function parseAge(text: string, option = '--older-than'): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  const unit = match?.[2] as keyof typeof UNITS_MS | undefined;
  if (match === null || unit === undefined || Number(match[1]) <= 0) {
    throw new UsageError(`${option} takes a positive age such as 30m, 12h or 7d (got ${JSON.stringify(text)})`);
  }
  return Number(match[1]) * UNITS_MS[unit];
}

interface Selection {
  readonly key?: string;
  readonly all: boolean;
  /** Only letters whose first failure is older than this (ms). */
  readonly olderThanMs?: number;
}

/**
 * `viva-sync deadletters`: list the records that could not be sent, ask the next run to retry
 * write failures now, or discard them. An age filter (`--older-than`) looks at the first failure.
 */
export async function deadLettersCommand(action: DeadLettersAction, values: DeadLettersOptions, io: CliIo): Promise<number> {
  const olderThanMs = values.olderThan === undefined ? undefined : parseAge(values.olderThan);
  const selection: Selection = { ...(values.key !== undefined ? { key: values.key } : {}), all: values.all === true, ...(olderThanMs !== undefined ? { olderThanMs } : {}) };
  if (action === 'list' && (selection.key !== undefined || selection.all)) throw new UsageError('deadletters list takes --older-than and --json only');
  if (action !== 'list' && (selection.key === undefined) === !selection.all) throw new UsageError(`deadletters ${action} needs --key KEY or --all`);

  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const store = runner.state.deadLetters;
  const letters = await select(store, selection, new Date());
  const json = values.json === true;

  if (action === 'list') {
    io.stdout.write(json ? `${JSON.stringify({ count: letters.length, deadLetters: letters })}\n` : formatList(letters));
    return EXIT.ok;
  }
  if (selection.key !== undefined && letters.length === 0) {
    io.stderr.write(`viva-sync: no dead letter ${JSON.stringify(selection.key)}${olderThanMs !== undefined ? ' older than that' : ''} (see \`viva-sync deadletters list\`)\n`);
    return EXIT.failure;
  }
  if (action === 'discard') {
    for (const letter of letters) await store.delete(letter.key);
    const keys = letters.map((l) => l.key);
    io.stdout.write(json ? `${JSON.stringify({ action, keys })}\n` : `Discarded ${keys.length} dead letter${keys.length === 1 ? '' : 's'}.${keys.length > 0 ? ' A record read again from the LMS is tried as new.' : ''}\n`);
    return EXIT.ok;
  }

  // retry: only write failures are retried by runs; invalid records wait for the LMS to change them.
  const invalid = letters.filter((l) => l.kind === 'invalid');
  if (selection.key !== undefined && invalid.length > 0) {
    io.stderr.write(
      `viva-sync: ${JSON.stringify(selection.key)} is an invalid record (${invalid[0]?.reason ?? ''}): it is retried when the record changes in the LMS; fix it there (or discard it).\n`,
    );
    return EXIT.usage;
  }
  const retried: string[] = [];
  for (const letter of letters) {
    if (letter.kind !== 'write') continue;
    // Attempts start again, and the last failure is put far enough back that the next run's back-off has passed.
    await store.put({ ...letter, retryable: true, attempts: 0, lastFailedAt: new Date(0).toISOString() });
    retried.push(letter.key);
  }
  const skipped = invalid.length;
  if (json) {
    io.stdout.write(`${JSON.stringify({ action, keys: retried, skippedInvalid: skipped })}\n`);
  } else {
    io.stdout.write(
      `Marked ${retried.length} dead letter${retried.length === 1 ? '' : 's'} for retry: the next \`viva-sync sync\` or timer run sends ${retried.length === 1 ? 'it' : 'them'} again.\n` +
        (skipped > 0 ? `Left ${skipped} invalid record${skipped === 1 ? '' : 's'}: they are retried when the record changes in the LMS.\n` : ''),
    );
  }
  return EXIT.ok;
}

async function select(store: DeadLetterStore, selection: Selection, now: Date): Promise<DeadLetter[]> {
  const old = (letter: DeadLetter): boolean => selection.olderThanMs === undefined || now.getTime() - Date.parse(letter.firstFailedAt) > selection.olderThanMs;
  if (selection.key !== undefined) {
    const letter = await store.get(selection.key);
    return letter !== undefined && old(letter) ? [letter] : [];
  }
  const letters: DeadLetter[] = [];
  for await (const letter of store.list()) if (old(letter)) letters.push(letter);
  return letters;
}

function formatList(letters: readonly DeadLetter[]): string {
  if (letters.length === 0) return 'No dead letters.\n';
  const lines = [`${letters.length} dead letter${letters.length === 1 ? '' : 's'}:`];
  for (const l of letters) {
    const state = l.kind === 'invalid' ? 'invalid: waits for the record to change' : l.retryable ? 'write: retried by the next runs' : 'write: waits for `deadletters retry`';
    lines.push(`  ${l.key}${l.position !== undefined ? ` (${l.position})` : ''} [${state}; attempts ${l.attempts}; first ${l.firstFailedAt}, last ${l.lastFailedAt}]`);
    lines.push(`    ${l.statusCode !== undefined ? `${l.statusCode} ${l.code ?? ''}: ` : ''}${l.reason.split('\n')[0] ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerDeadLetters(program: Command, context: CommandContext): void {
  const deadletters = program
    .command('deadletters')
    .summary('list, retry or discard the records that could not be sent')
    .description('The records that could not be sent (write failures) or were refused as invalid (docs/operations.md).');
  const olderThan = '--older-than <age>';
  const olderThanHelp = 'only letters whose first failure is older than this (30m, 12h, 7d)';
  const run = (action: DeadLettersAction) => async (options: DeadLettersOptions) => context.exit(await deadLettersCommand(action, options, context.io));
  const list = deadletters.command('list').description('List the dead letters with their reasons.').option(olderThan, olderThanHelp).option('--json', 'print { count, deadLetters } as one JSON object').action(run('list'));
  const retry = deadletters
    .command('retry')
    .description('Ask the next run to send write failures again now (invalid records wait for the LMS to change them).')
    .option('--key <key>', 'one dead letter')
    .option('--all', 'every dead letter (with --older-than: every old one)')
    .option(olderThan, olderThanHelp)
    .option('--json', 'print { action, keys, skippedInvalid } as one JSON object')
    .action(run('retry'));
  const discard = deadletters
    .command('discard')
    .description('Delete dead letters; a record read again from the LMS is then tried as new.')
    .option('--key <key>', 'one dead letter')
    .option('--all', 'every dead letter (with --older-than: every old one)')
    .option(olderThan, olderThanHelp)
    .option('--json', 'print { action, keys } as one JSON object')
    .action(run('discard'));
  withExamples(list, [['viva-sync deadletters list --older-than 7d', 'what has been failing for a week']]);
  withExamples(retry, [['viva-sync deadletters retry --all', 'after fixing a licence or a permission, send everything again']]);
  withExamples(discard, [['viva-sync deadletters discard --key e-1001', 'forget one record']]);
}
