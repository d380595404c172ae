import { parseArgs } from 'node:util';
import { loadConfig } from '../config/loadConfig.js';
import { openSync } from '../sync/openSync.js';
import type { RunRecord } from '../state/types.js';
import { EXIT, stderrLogger, UsageError, type CliIo } from './main.js';

export const RUNS_USAGE = 'viva-sync runs [--limit N] [--json]';

/** `viva-sync runs`: the recent runs, newest first, with their counts and outcomes. */
export async function runsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { limit: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false });
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit takes a whole number from 1 to 1000 (got ${JSON.stringify(values.limit)})`);
  const config = loadConfig(io.env, { cwd: io.cwd });
  const runner = await openSync(config, { logger: stderrLogger(io.stderr), cwd: io.cwd });
  const runs = await runner.state.runs.listRecent(limit);
  io.stdout.write(values.json === true ? `${JSON.stringify({ runs })}\n` : formatRuns(runs));
  return EXIT.ok;
}

export function formatRuns(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'No runs yet.\n';
  const lines = runs.map((r) => {
    const c = r.counts;
    const took = r.finishedAt === undefined ? '' : ` in ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s`;
    const head = `${r.startedAt} ${r.runId} (${r.trigger}) ${r.status}${took}: read ${c.read}, created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`;
    return r.message === undefined ? head : `${head}\n    ${r.message.split('\n')[0] ?? ''}`;
  });
  return `${lines.join('\n')}\n`;
}
