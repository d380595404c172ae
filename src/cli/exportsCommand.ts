import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/loadConfig.js';
import { exportSourceFor } from '../lms/exportSource/index.js';
import { createExportStore, type ExportRecord } from '../state/exportStore.js';
import { tableConnectionOf } from '../state/httpState.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, UsageError, type CliIo } from './io.js';

/** The export source LMS_FILE_PATH names (its `root` keys the exports table); undefined for a plain local file. */
function currentRoot(config: Config, cwd: string): string | undefined {
  if (config.lms.adapter !== 'file') return undefined;
  return exportSourceFor({ setting: 'LMS_FILE_PATH', value: config.lms.filePath, cwd, extra: config.lms.extra ?? {}, storage: config.storage })?.root;
}

async function openStore(io: CliIo): Promise<{ config: Config; store: Awaited<ReturnType<typeof createExportStore>> }> {
  const config = loadConfig(io.env, { cwd: io.cwd });
  const store = await createExportStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  return { config, store };
}

/** `viva-sync exports list`: the exports seen in the current source (every source with --all), with status, counts and errors. */
export async function exportsList(io: CliIo, options: { readonly all?: boolean; readonly json?: boolean }): Promise<number> {
  const { config, store } = await openStore(io);
  const root = options.all === true ? undefined : currentRoot(config, io.cwd);
  if (options.all !== true && root === undefined) throw new UsageError('LMS_FILE_PATH is not a Blob Storage URL or a .gz file, so no exports are recorded for it (use --all to list every source)');
  const records = await store.list(root);
  io.stdout.write(options.json === true ? `${JSON.stringify({ exports: records })}\n` : formatExports(records));
  return EXIT.ok;
}

/** `viva-sync exports reprocess NAME`: the next run reads the export again, even though it was finished. */
export async function exportsReprocess(io: CliIo, name: string): Promise<number> {
  const { store } = await openStore(io);
  const marked = await store.requeue(name);
  if (marked.length === 0) {
    io.stderr.write(`viva-sync: no export named ${JSON.stringify(name)} was seen (\`viva-sync exports list --all\` shows the names)\n`);
    return EXIT.failure;
  }
  for (const record of marked) io.stdout.write(`${record.name} (${record.root}) will be read again by the next run\n`);
  return EXIT.ok;
}

export function formatExports(records: readonly ExportRecord[]): string {
  if (records.length === 0) return 'No exports seen yet.\n';
  const lines: string[] = [];
  let root: string | undefined;
  for (const r of records) {
    if (r.root !== root) {
      root = r.root;
      lines.push(root);
    }
    const counts = r.read === undefined ? '' : `, ${r.read} records read${r.invalid !== undefined && r.invalid > 0 ? `, ${r.invalid} refused` : ''}`;
    const run = r.runId === undefined ? '' : ` by run ${r.runId}`;
    lines.push(`  ${r.name}  ${r.status}${run} at ${r.updatedAt}${counts}; ${r.size} bytes, ETag ${r.etag}`);
    if (r.error !== undefined) lines.push(`      ${r.error}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerExports(program: Command, context: CommandContext): void {
  const exportsCommand = program
    .command('exports')
    .summary('the exports read from Blob Storage, and reading one again')
    .description('The exports LMS_FILE_PATH names in Blob Storage (or a local .gz): which were read, by which run, with how many records, and why any failed or waits.');
  const list = exportsCommand
    .command('list')
    .description('List the exports seen in the current LMS_FILE_PATH source: status (reading, done, failed, skipped, waiting, requeued), run, counts, errors.')
    .option('--all', 'every source ever recorded, not only the current LMS_FILE_PATH')
    .option('--json', 'print { exports: [...] } as one JSON object')
    .action(async (options: { all?: boolean; json?: boolean }) => context.exit(await exportsList(context.io, options)));
  withExamples(list, [['viva-sync exports list', 'what was read from the export folder']]);
  const reprocess = exportsCommand
    .command('reprocess')
    .argument('<name>', 'the export name, as `viva-sync exports list` shows it')
    .description('Read a finished (or failed, or skipped) export again on the next run.')
    .action(async (name: string) => context.exit(await exportsReprocess(context.io, name)));
  withExamples(reprocess, [['viva-sync exports reprocess daily/enrollments-2026-11-02.csv', 'read this export again on the next run']]);
}
