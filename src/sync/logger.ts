export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where the engine reports what it does. Fields never carry secrets: only ids, counts and reasons. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
