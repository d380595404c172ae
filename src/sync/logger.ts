import { Redactor, secretValuesOf } from './redaction.js';

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where the engine reports what it does. Fields never carry secrets: only ids, counts and reasons. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export type LogLevel = 'info' | 'warn' | 'error';

/**
 * Defence in depth: whatever an outside system's error message carries (a URL with a token, a
 * connection string, an echoed Authorization header), no secret reaches the log. `secrets` are
 * the settings' secret values (or a Redactor built from them); credential-shaped text is hidden
 * whatever its value.
 */
export function redactingLogger(logger: Logger, secrets: readonly string[] | Redactor): Logger {
  const redactor = secrets instanceof Redactor ? secrets : new Redactor(secrets);
  const fields = (f: LogFields | undefined): LogFields | undefined =>
    f === undefined ? undefined : Object.fromEntries(Object.entries(f).map(([k, v]) => [k, typeof v === 'string' ? redactor.text(v) : v]));
  return {
    info: (m, f) => logger.info(redactor.text(m), fields(f)),
    warn: (m, f) => logger.warn(redactor.text(m), fields(f)),
    error: (m, f) => logger.error(redactor.text(m), fields(f)),
  };
}

export interface CreateLoggerOptions {
  /** Receives each line, already redacted. */
  readonly write: (level: LogLevel, message: string, fields: LogFields | undefined) => void;
  /** The settings (environment and local.settings.json values) whose secret values are hidden. */
  readonly settings?: Readonly<Record<string, string | undefined>>;
  /** Further values to hide. */
  readonly secrets?: readonly string[];
}

/**
 * The one way an entry point (function, CLI command, worker) makes its logger: every line goes
 * through the redaction of src/sync/redaction.ts before `write` sees it.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const sink: Logger = {
    info: (m, f) => options.write('info', m, f),
    warn: (m, f) => options.write('warn', m, f),
    error: (m, f) => options.write('error', m, f),
  };
  return redactingLogger(sink, [...(options.settings !== undefined ? secretValuesOf(options.settings) : []), ...(options.secrets ?? [])]);
}
