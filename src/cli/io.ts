import type { Logger } from '../sync/logger.js';

/** Exit codes of DESIGN.md, "The command line". */
export const EXIT = { ok: 0, failure: 1, usage: 2, deadLetters: 3 } as const;

/** What a command may touch of the process: injected, so tests run commands in process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** A command line the parser accepted but the command cannot act on (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Log lines go to standard error, so standard output stays the summary alone. */
export function stderrLogger(stderr: { write(text: string): unknown }): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const extra = fields === undefined ? '' : ` ${Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`).join(' ')}`;
    stderr.write(`${new Date().toISOString()} ${level} ${message}${extra}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
