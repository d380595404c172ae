/**
 * The runs chart as inline SVG (pure): one `<g class="run">` per run, placed by its start time,
 * with three panels sharing the time axis: the writes (created, updated, deleted, failed,
 * stacked), the unchanged records, and the duration. Partial and failed runs carry a marker.
 * Colours come from classes in the page's one stylesheet: no style attributes, which a strict
 * Content-Security-Policy would block.
 */
import type { RunRecord } from '../state/types.js';
import { durationOf, escapeHtml, formatDuration, formatNumber } from './format.js';

const WIDTH = 960;
const LEFT = 64;
const RIGHT = 16;
const PLOT = WIDTH - LEFT - RIGHT;
const PANELS = [
  { id: 'writes', top: 28, height: 150, label: 'writes' },
  { id: 'unchanged', top: 204, height: 50, label: 'unchanged' },
  { id: 'duration', top: 280, height: 50, label: 'duration' },
] as const;
const HEIGHT = 364;
const WRITE_SERIES = ['created', 'updated', 'deleted', 'failed'] as const;

export function renderRunChart(runsNewestFirst: readonly RunRecord[]): string {
  const runs = [...runsNewestFirst].reverse();
  if (runs.length === 0) {
    return '<p class="empty">No runs recorded yet: the chart appears after the first sync.</p>';
  }
  const times = runs.map((r) => Date.parse(r.startedAt));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = last - first;
  const barWidth = Math.max(2, Math.min(16, (PLOT / runs.length) * 0.6));
  const xOf = (t: number): number => (span === 0 ? LEFT + PLOT / 2 : LEFT + barWidth / 2 + ((t - first) / span) * (PLOT - barWidth));
  const maxWrites = Math.max(1, ...runs.map((r) => WRITE_SERIES.reduce((n, s) => n + r.counts[s], 0)));
  const maxUnchanged = Math.max(1, ...runs.map((r) => r.counts.unchanged));
  const maxDuration = Math.max(1, ...runs.map((r) => durationOf(r) ?? 0));

  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title id="chart-title">The last ${runs.length} runs: writes, unchanged records and duration over time</title>`);
  const maxima = { writes: formatNumber(maxWrites), unchanged: formatNumber(maxUnchanged), duration: formatDuration(maxDuration) };
  for (const panel of PANELS) {
    const bottom = panel.top + panel.height;
    parts.push(
      `<g class="axis"><line x1="${LEFT}" y1="${bottom}" x2="${WIDTH - RIGHT}" y2="${bottom}"/><line x1="${LEFT}" y1="${panel.top}" x2="${LEFT}" y2="${bottom}"/>` +
        `<text x="${LEFT - 6}" y="${panel.top + 10}" text-anchor="end">${escapeHtml(maxima[panel.id])}</text>` +
        `<text x="${LEFT - 6}" y="${bottom}" text-anchor="end">0</text>` +
        `<text class="panel-label" x="${LEFT + 4}" y="${panel.top - 6}">${panel.label}</text></g>`,
    );
  }
  parts.push(
    `<g class="axis time"><text x="${LEFT}" y="${HEIGHT - 8}">${escapeHtml(shortTime(first))}</text>` +
      (span > 0 ? `<text x="${WIDTH - RIGHT}" y="${HEIGHT - 8}" text-anchor="end">${escapeHtml(shortTime(last))}</text>` : '') +
      '</g>',
  );

  runs.forEach((run, i) => {
    const x = xOf(times[i] ?? first) - barWidth / 2;
    const rects: string[] = [];
    const writes = PANELS[0];
    let y = writes.top + writes.height;
    for (const series of WRITE_SERIES) {
      const h = (run.counts[series] / maxWrites) * writes.height;
      if (h <= 0) continue;
      y -= h;
      rects.push(`<rect class="s-${series}" x="${fixed(x)}" y="${fixed(y)}" width="${fixed(barWidth)}" height="${fixed(h)}"/>`);
    }
    const unchanged = PANELS[1];
    const hu = (run.counts.unchanged / maxUnchanged) * unchanged.height;
    if (hu > 0) rects.push(`<rect class="s-unchanged" x="${fixed(x)}" y="${fixed(unchanged.top + unchanged.height - hu)}" width="${fixed(barWidth)}" height="${fixed(hu)}"/>`);
    const duration = PANELS[2];
    const durationMs = durationOf(run);
    const hd = ((durationMs ?? 0) / maxDuration) * duration.height;
    if (hd > 0) rects.push(`<rect class="s-duration" x="${fixed(x)}" y="${fixed(duration.top + duration.height - hd)}" width="${fixed(barWidth)}" height="${fixed(hd)}"/>`);
    // A transparent column over all panels: the whole height answers the pointer with the tooltip.
    rects.push(`<rect class="hit" x="${fixed(x)}" y="${writes.top}" width="${fixed(barWidth)}" height="${duration.top + duration.height - writes.top}"/>`);
    const cx = x + barWidth / 2;
    if (run.status === 'failed') rects.push(`<path class="m-failed" d="M${fixed(cx - 5)} 6 l10 10 m0 -10 l-10 10"/>`);
    if (run.status === 'partial') rects.push(`<path class="m-partial" d="M${fixed(cx)} 6 l6 11 h-12 z"/>`);
    if (run.status === 'running') rects.push(`<circle class="m-running" cx="${fixed(cx)}" cy="12" r="5"/>`);
    const c = run.counts;
    const tip =
      `${run.startedAt} ${run.runId} (${run.trigger}): ${run.status}\n` +
      `created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, failed ${c.failed}, unchanged ${c.unchanged}, read ${c.read}\n` +
      `duration ${durationMs === undefined ? 'unknown' : formatDuration(durationMs)}` +
      (run.graph !== undefined ? `; Graph ${run.graph.requests} requests, ${run.graph.retries} retries, ${run.graph.throttled} throttled` : '') +
      (run.message !== undefined ? `\n${run.message.split('\n', 1)[0] ?? ''}` : '');
    parts.push(`<g class="run run-${run.status}" data-run-id="${escapeHtml(run.runId)}"><title>${escapeHtml(tip)}</title>${rects.join('')}</g>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function fixed(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function shortTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}
