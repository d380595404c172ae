import type { InvocationContext } from '@azure/functions';
import type { LogFields, Logger } from '../src/sync/logger.js';

/** The engine's logger over the invocation's log (Application Insights in Azure). */
export function contextLogger(context: InvocationContext): Logger {
  const text = (message: string, fields?: LogFields): string => (fields === undefined ? message : `${message} ${JSON.stringify(fields)}`);
  return {
    info: (m, f) => context.info(text(m, f)),
    warn: (m, f) => context.warn(text(m, f)),
    error: (m, f) => context.error(text(m, f)),
  };
}
