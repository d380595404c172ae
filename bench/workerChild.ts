import { workerCommand } from '../src/cli/workerCommand.js';

/**
 * One `viva-sync worker --json` for the queue benchmark, in its own process so that its peak
 * memory is its own. Prints one JSON line: the worker's totals and its peak RSS.
 */
let out = '';
const code = await workerCommand({ idleExit: process.argv[2] ?? '3', json: true }, {
  stdout: { write: (text: string) => (out += text) },
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
const totals = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>;
process.stdout.write(`${JSON.stringify({ code, totals, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
