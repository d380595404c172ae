import type { InvocationContext } from '@azure/functions';
import { createLogger, type LogFields, type Logger } from '../src/sync/logger.js';
import { redactorFor, settingValuesOf } from '../src/sync/redaction.js';

/**
 * The engine's logger over the invocation's log (Application Insights in Azure), redacted: the
 * app's secret settings and anything shaped like a credential never reach it.
 */
export function contextLogger(context: InvocationContext): Logger {
  const text = (message: string, fields?: LogFields): string => (fields === undefined ? message : `${message} ${JSON.stringify(fields)}`);
  return createLogger({ settings: settingValuesOf(process.env, process.cwd()), write: (level, m, f) => context[level](text(m, f)) });
}

/**
 * Runs a function's body; an error it throws is rethrown with its message and stack redacted,
 * because the Functions host logs a failed invocation's error itself, past our logger.
 */
export async function redactingErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const redactor = redactorFor(process.env, process.cwd());
    const clean = new Error(redactor.text(err.message));
    clean.name = err.name;
    clean.stack = redactor.text(err.stack ?? '');
    throw clean;
  }
}
