import { Command, CommanderError } from 'commander';
import { isConfigError } from '../config/errors.js';
import { RunInProgressError } from '../sync/engine.js';
import { redactingWriter, redactorFor } from '../sync/redaction.js';
import { commandPath, type CommandContext, type CommandRegistration } from './command.js';
import { registerCursor } from './cursorCommand.js';
import { registerDeadLetters } from './deadLettersCommand.js';
import { registerDoctor } from './doctorCommand.js';
import { registerExports } from './exportsCommand.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { registerProvider } from './providerCommand.js';
import { registerQuarantine } from './quarantineCommand.js';
import { registerReport } from './reportCommand.js';
import { registerResync } from './resyncCommand.js';
import { registerRuns } from './runsCommand.js';
import { registerStatus } from './statusCommand.js';
import { registerSync } from './syncCommand.js';
import { packageVersion } from './version.js';
import { registerWebhook } from './webhookCommand.js';
import { registerWorker } from './workerCommand.js';

// The contract other modules (and tests) import from here; the definitions live in their own modules.
export { EXIT, UsageError, stderrLogger, type CliIo } from './io.js';
export { exitCodeOf, formatSummary, sync, type SyncCommandOptions } from './syncCommand.js';

/** Every command, in the order `viva-sync --help` lists them. A new command is one line here. */
export const COMMANDS: readonly CommandRegistration[] = [
  registerSync,
  registerWorker,
  registerStatus,
  registerReport,
  registerResync,
  registerWebhook,
  registerDeadLetters,
  registerRuns,
  registerCursor,
  registerQuarantine,
  registerProvider,
  registerDoctor,
  registerExports,
];

const FOOTER = `
Exit codes: 0 all records handled, 3 some records dead-lettered, 2 settings or usage error, 1 other failure.
Settings come from the environment and local.settings.json (Values); see README.md.
Every command takes --help, e.g. \`viva-sync sync --help\`.`;

/** The parser: built fresh for each call, because commander keeps the parsed values on the commands. */
export function buildProgram(context: CommandContext, registrations: readonly CommandRegistration[] = COMMANDS): Command {
  const { io } = context;
  const program = new Command('viva-sync')
    .description('Keeps Microsoft Viva Learning in step with a learning management system.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    // Set before the commands are added: subcommands inherit them.
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`viva-sync: ${text.replace(/^error: /, '').replace(/unknown command '([^']*)'/, 'unknown command "$1"')}`),
      getOutHelpWidth: () => 120,
      getErrHelpWidth: () => 120,
    })
    .addHelpText('after', FOOTER);
  for (const register of registrations) register(program, context);
  for (const command of descendants(program)) command.showHelpAfterError(`Run \`${commandPath(command)} --help\` for its options and examples.`);
  return program;
}

/** Runs the command line; returns the exit code. The one top-level catch maps errors to codes. */
export async function runCli(argv: readonly string[], rawIo: CliIo, abortSignal?: AbortSignal): Promise<number> {
  // Everything the CLI prints goes through the redaction the function app's log uses (src/sync/redaction.ts).
  const redactor = redactorFor(rawIo.env, rawIo.cwd);
  const io: CliIo = { ...rawIo, stdout: redactingWriter(rawIo.stdout, redactor), stderr: redactingWriter(rawIo.stderr, redactor) };
  let code: number = EXIT.ok;
  let active: Command | undefined;
  const program = buildProgram({ io, abortSignal, exit: (c) => (code = c) });
  program.hook('preAction', (_program, actionCommand) => {
    active = actionCommand;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "exit" 0; everything else commander refuses is a usage error. A bare
      // `viva-sync` (help shown because no command was named) is a usage error too, as before.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isConfigError(err)) {
      io.stderr.write(`viva-sync: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`viva-sync: ${err.message}\nRun \`${commandPath(active ?? program)} --help\` for its options and examples.\n`);
      return EXIT.usage;
    }
    if (err instanceof RunInProgressError) {
      io.stderr.write(`viva-sync: ${err.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`viva-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}

function descendants(command: Command): Command[] {
  return [command, ...command.commands.flatMap((c) => descendants(c))];
}
