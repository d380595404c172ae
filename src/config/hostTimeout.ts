import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Consumption's default when host.json says nothing (reference/azure-platform.md §1.7). */
const DEFAULT_TIMEOUT_SECONDS = 5 * 60;

/** host.json `functionTimeout` ("hh:mm:ss") in seconds; unlimited ("-1") counts as 30 minutes. */
export function readHostTimeoutSeconds(appRoot: string): number {
  let text: string;
  try {
    text = readFileSync(join(appRoot, 'host.json'), 'utf8');
  } catch {
    return DEFAULT_TIMEOUT_SECONDS;
  }
  const value = (JSON.parse(text) as { functionTimeout?: unknown }).functionTimeout;
  return parseTimeSpan(value) ?? DEFAULT_TIMEOUT_SECONDS;
}

export function parseTimeSpan(value: unknown): number | undefined {
  if (value === '-1') return 30 * 60;
  if (typeof value !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(value.trim());
  if (match === null) return undefined;
  const [, days, h, m, s] = match;
  return Number(days ?? 0) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}
