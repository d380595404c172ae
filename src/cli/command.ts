import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** What every command's registration receives from the program that runs it. */
export interface CommandContext {
  readonly io: CliIo;
  /** Aborted on the first Ctrl-C (src/cli/index.ts): long commands stop at a checkpoint. */
  readonly abortSignal: AbortSignal | undefined;
  /** Records the exit code the command line returns (commander's actions return nothing). */
  exit(code: number): void;
}

/**
 * Adds one command (with its subcommands, options, help and examples) to the program. A new
 * command is one module exporting one of these, plus one line in main.ts's COMMANDS.
 */
export type CommandRegistration = (program: Command, context: CommandContext) => void;

/** An "Examples:" block under a command's --help, in the style of `az` and `azd`. */
export function withExamples(command: Command, examples: readonly (readonly [string, string])[]): Command {
  const lines = examples.map(([line, what]) => `  # ${what}\n  $ ${line}`);
  return command.addHelpText('after', `\nExamples:\n${lines.join('\n\n')}\n`);
}

/** "viva-sync cursor set", for messages that point at a command's --help. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
