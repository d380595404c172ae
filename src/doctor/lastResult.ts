import type { Config } from '../config/loadConfig.js';
import { createDoctorStore, type LastDoctorResult } from '../state/doctorStore.js';
import { tableConnectionOf } from '../state/httpState.js';
import { doctorSummary } from './format.js';
import type { DoctorReport } from './types.js';

/** The report as the state tables keep it (for /api/status and `npm start`). */
export function toLastResult(report: DoctorReport): LastDoctorResult {
  return { verdict: report.verdict, checkedAt: report.checkedAt, summary: doctorSummary(report), reportJson: JSON.stringify(report) };
}

/** Saves the report as the last doctor result of these tables. */
export async function saveLastDoctorResult(config: Config, report: DoctorReport): Promise<void> {
  const store = await createDoctorStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
  await store.put(toLastResult(report));
}

/** The last saved result, or undefined (never ran, or the tables cannot be read). */
export async function readLastDoctorResult(config: Config): Promise<LastDoctorResult | undefined> {
  try {
    const store = await createDoctorStore({ connection: tableConnectionOf(config.storage), tablePrefix: config.tablePrefix });
    return await store.get();
  } catch {
    return undefined;
  }
}

/** "Last `viva-sync doctor` (time): verdict", and the lines that were not green. */
export function formatLastDoctorLine(result: LastDoctorResult): string {
  const open = result.verdict === 'green' ? '' : `\n${result.summary.split('\n').map((l) => `  ${l}`).join('\n')}`;
  return `Last \`viva-sync doctor\` (${result.checkedAt}): ${result.verdict}${open}\n`;
}
