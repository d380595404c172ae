import { runCli } from './main.js';

/** The process shell: only here does SIGINT become an abort (STYLE.md §12). */
export async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nviva-sync: stopping at the next checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('interrupted'));
  });
  const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, controller.signal);
  process.exitCode = code;
}
