/** Text helpers of the status page (pure). */
import type { RunRecord } from '../state/types.js';

/** How long a finished run took; undefined while it runs. */
export function durationOf(run: Pick<RunRecord, 'startedAt' | 'finishedAt'>): number | undefined {
  if (run.finishedAt === undefined) return undefined;
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** Escapes text for HTML content and for double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 07 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const totalSeconds = Math.round(s);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long before `now` an ISO time was, e.g. "3 h 12 min ago". */
export function formatAge(iso: string | null, now: Date): string {
  if (iso === null) return 'never';
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return 'unknown';
  const ms = now.getTime() - at;
  return ms < 0 ? 'just now' : `${formatDuration(ms)} ago`;
}
