/**
 * The settings of exports read from Blob Storage (README, "Exports in Blob Storage"), read from
 * the file adapter's LMS_* settings and validated when the adapter is created. LMS_EXPORT_MODE
 * is a common setting (src/config/loadConfig.ts).
 */
import { tmpdir } from 'node:os';
import { ConfigError, type SettingProblem } from '../../config/errors.js';
import type { CompletenessRules } from './completeness.js';

export const EXPORT_SETTINGS = {
  settleSeconds: 'LMS_EXPORT_SETTLE_SECONDS',
  doneSuffix: 'LMS_EXPORT_DONE_SUFFIX',
  spoolDir: 'LMS_EXPORT_SPOOL_DIR',
} as const;

export interface ExportSettings {
  readonly rules: CompletenessRules;
  readonly spoolDir: string;
}

/** A blob must be unchanged this long before it is read, unless a marker says it is complete. */
export const DEFAULT_SETTLE_SECONDS = 30;

export function readExportSettings(extra: Readonly<Record<string, string>>): ExportSettings {
  const problems: SettingProblem[] = [];
  const value = (name: string): string | undefined => {
    const raw = extra[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const rawSettle = value(EXPORT_SETTINGS.settleSeconds);
  let settleSeconds = DEFAULT_SETTLE_SECONDS;
  if (rawSettle !== undefined) {
    settleSeconds = Number(rawSettle);
    if (!/^\d{1,6}$/.test(rawSettle)) problems.push({ setting: EXPORT_SETTINGS.settleSeconds, problem: `must be a whole number of seconds, 0 or more (got ${JSON.stringify(rawSettle)})` });
  }
  const doneSuffix = value(EXPORT_SETTINGS.doneSuffix);
  if (doneSuffix !== undefined && (/[\s/]/.test(doneSuffix) || /\.(jsonl|csv)(\.gz)?$/i.test(doneSuffix))) {
    problems.push({ setting: EXPORT_SETTINGS.doneSuffix, problem: `must be a file-name ending such as .done, without spaces or /, that is not itself an export's extension (got ${JSON.stringify(doneSuffix)})` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    rules: { settleMs: settleSeconds * 1000, ...(doneSuffix !== undefined ? { doneSuffix } : {}) },
    spoolDir: value(EXPORT_SETTINGS.spoolDir) ?? tmpdir(),
  };
}
