import type { CheckStatus, DoctorReport } from './types.js';

const MARK: Readonly<Record<CheckStatus, string>> = { pass: '✔', fail: '✘', warn: '?', skip: '-' };

/** The checklist: one line per check, and the fix under each that is not green. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = report.checks.flatMap((c) => [`${MARK[c.status]} ${c.title}: ${c.reason}`, ...(c.fix !== undefined && (c.status === 'fail' || c.status === 'warn') ? [`    fix: ${c.fix}`] : [])]);
  const verdict =
    report.verdict === 'green' ? 'All green.' : report.verdict === 'warnings' ? 'Warnings only: the sync can run; see the ? lines.' : 'Blocking problems: fix the ✘ lines, then run `viva-sync doctor` again.';
  const left = report.leftBehind.length > 0 ? `\nLeft behind: ${report.leftBehind.join('; ')} (never shown to learners).` : '';
  return `${lines.join('\n')}\n\n${verdict}${left}\n`;
}

/** One line per check that is not green, for status pages ("✘ provider: …"). */
export function doctorSummary(report: DoctorReport): string {
  const open = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  return open.length === 0 ? '✔ all checks green' : open.map((c) => `${MARK[c.status]} ${c.id}: ${c.reason}`).join('\n');
}
