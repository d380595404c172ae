/**
 * The operator's status page (pure): StatusData in, one self-contained HTML document out. No
 * script, no font, no image, no request of any kind: inline CSS (allowed by its hash in the
 * page's own Content-Security-Policy) and inline SVG. Every value from the state is escaped.
 */
import { createHash } from 'node:crypto';
import type { RunRecord } from '../state/types.js';
import type { SyncStatusReport } from '../sync/status.js';
import type { DeadLetterOverview } from './deadLetterOverview.js';
import { durationOf, escapeHtml, formatAge, formatDuration, formatNumber } from './format.js';
import { renderRunChart } from './runChart.js';

const CSS = `
:root{color-scheme:light;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
body{margin:0 auto;max-width:1040px;padding:16px 24px 40px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta{color:#59636e;margin:0 0 12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:12px 0}
.verdict{display:inline-block;font-weight:700;border-radius:12px;padding:2px 12px;color:#fff;text-transform:uppercase;letter-spacing:.04em}
.v-ok{background:#1a7f37}.v-degraded{background:#9a6700}.v-failing{background:#cf222e}
.alert{border-color:#cf222e;background:#ffebe9}
ul.reasons{margin:8px 0 0;padding-left:20px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12.5px}
code.cmd{background:#eff1f3;border-radius:4px;padding:2px 6px;white-space:nowrap}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.facts dt{color:#59636e}dl.facts dd{margin:0}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.chart{display:block;max-width:100%;height:auto}
.axis line{stroke:#8c959f;stroke-width:1}.axis text{fill:#59636e;font-size:11px}.axis .panel-label{fill:#1f2328;font-weight:600}
.s-created,.l-created{fill:#1a7f37;background:#1a7f37}.s-updated,.l-updated{fill:#0969da;background:#0969da}
.s-deleted,.l-deleted{fill:#8250df;background:#8250df}.s-failed,.l-failed{fill:#cf222e;background:#cf222e}
.s-unchanged,.l-unchanged{fill:#8c959f;background:#8c959f}.s-duration,.l-duration{fill:#bc4c00;background:#bc4c00}
.hit{fill:transparent}.run:hover .hit{fill:rgba(9,105,218,.08)}
.m-failed{stroke:#cf222e;stroke-width:2.5;fill:none}.m-partial,.l-partial{fill:#d4a72c;background:#d4a72c}.m-running{fill:#0969da}
.status-failed{color:#cf222e;font-weight:600}.status-partial{color:#9a6700;font-weight:600}
.empty{color:#59636e;font-style:italic}
.samples{margin:0;padding-left:16px}
pre{white-space:pre-wrap;margin:8px 0 0}
`;

/** The stylesheet's hash, for the Content-Security-Policy that allows it and nothing else. */
const STYLE_HASH = `sha256-${createHash('sha256').update(CSS).digest('base64')}`;

/**
 * The policy the page needs (and sends in its own meta element): no scripts, no requests, only
 * its own stylesheet. The HTTP answer adds `frame-ancestors`, which a meta element cannot carry.
 */
export const STATUS_PAGE_CSP = `default-src 'none'; style-src '${STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
export const STATUS_PAGE_CSP_HEADER = `${STATUS_PAGE_CSP}; frame-ancestors 'none'`;

export interface RenderStatusPageOptions {
  /** Shown in the title, e.g. the Function App's name or "sandbox". */
  readonly title?: string;
}

export function renderStatusPage(report: SyncStatusReport, options: RenderStatusPageOptions = {}): string {
  const now = new Date(report.checkedAt);
  const title = options.title === undefined ? 'Viva Learning sync: status' : `Viva Learning sync: status of ${options.title}`;
  const sections = [
    verdictSection(report, now),
    quarantineSection(report.quarantine, now),
    report.runs === null ? '' : runsSection(report.runs),
    report.deadLetters === null ? '' : deadLetterSection(report.deadLetters, now),
    report.storage?.ok === true ? factsSection(report, now) : '',
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(STATUS_PAGE_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Checked ${escapeHtml(report.checkedAt)} from the state tables. The same data as JSON: <code>Accept: application/json</code>.</p>
${sections.filter((x) => x !== '').join('\n')}
</body>
</html>
`;
}

function verdictSection(report: SyncStatusReport, now: Date): string {
  const v = report.status;
  const success = report.lastSuccess;
  const reasons = report.problems.length > 0 ? report.problems : [`Every check passed${success === null ? '' : `: the last successful pass finished ${formatAge(success.finishedAt ?? success.startedAt, now)}`}.`];
  return `<section class="card" id="health"><span class="verdict v-${v}">${v}</span>
<ul class="reasons">${reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul></section>`;
}

function quarantineSection(q: SyncStatusReport['quarantine'], now: Date): string {
  if (q === null || !q.active) return '';
  const command = q.trigger === 'deletes' ? 'viva-sync quarantine clear --allow-deletes' : 'viva-sync quarantine clear';
  return `<section class="card alert" id="quarantine"><h2>Quarantine</h2>
<p>Sync passes are skipped until an operator clears the quarantine.</p>
<dl class="facts"><dt>Why</dt><dd>${escapeHtml(q.reason ?? 'unknown')}</dd><dt>Tripped by</dt><dd>${escapeHtml(q.trigger ?? 'unknown')}</dd>
<dt>Since</dt><dd>${escapeHtml(q.since ?? 'unknown')} (${escapeHtml(formatAge(q.since, now))})</dd></dl>
<p>Once the cause is fixed: <code class="cmd">${escapeHtml(command)}</code></p></section>`;
}

function runsSection(runs: readonly RunRecord[]): string {
  const legend = ['created', 'updated', 'deleted', 'failed', 'unchanged', 'duration']
    .map((s) => `<span><i class="l-${s}"></i>${s}</span>`)
    .join('');
  const rows = runs
    .slice(0, 10)
    .map((r) => {
      const c = r.counts;
      const duration = durationOf(r);
      return `<tr><td class="mono">${escapeHtml(r.startedAt)}</td><td class="mono">${escapeHtml(r.runId)}</td><td>${escapeHtml(r.trigger)}</td><td class="status-${r.status}">${r.status}</td>${[c.read, c.created, c.updated, c.deleted, c.unchanged, c.failed].map((n) => `<td class="num">${formatNumber(n)}</td>`).join('')}<td class="num">${duration === undefined ? '' : escapeHtml(formatDuration(duration))}</td><td class="num">${r.graph === undefined ? '' : `${formatNumber(r.graph.requests)} / ${formatNumber(r.graph.retries)} / ${formatNumber(r.graph.throttled)}`}</td></tr>`;
    })
    .join('\n');
  return `<section id="runs"><h2>Runs (last ${runs.length})</h2>
<div class="card">${renderRunChart(runs)}
<p class="legend">${legend}<span><i class="l-partial"></i>partial (stopped at its time budget)</span><span><i class="l-failed"></i>× failed</span></p></div>
${runs.length === 0 ? '' : `<table><thead><tr><th>started</th><th>run</th><th>trigger</th><th>status</th><th>read</th><th>created</th><th>updated</th><th>deleted</th><th>unchanged</th><th>failed</th><th>duration</th><th>Graph requests / retries / throttled</th></tr></thead>
<tbody>${rows}</tbody></table>`}</section>`;
}

function deadLetterSection(d: DeadLetterOverview, now: Date): string {
  if (d.count === 0) return `<section id="dead-letters"><h2>Dead letters</h2><p class="empty">None: every record was sent.</p></section>`;
  const scope = d.complete ? `${formatNumber(d.count)} dead letters` : `At least ${formatNumber(d.count)} dead letters (the count stopped there; <code class="cmd">${escapeHtml(d.listCommand)}</code> lists them all)`;
  const rows = d.groups
    .map((g) => {
      const samples = g.samples
        .map((s) => {
          const parts = [`enrollment ${s.enrollmentId ?? s.key}`, ...(s.learner !== null ? [`learner ${s.learner}`] : []), ...(s.course !== null ? [`course ${s.course}`] : []), ...(s.position !== null ? [`at ${s.position}`] : [])];
          return `<li>${escapeHtml(parts.join(', '))}</li>`;
        })
        .join('');
      const code = g.code === null ? '' : `${g.code}${g.statusCode !== null ? ` (${g.statusCode})` : ''}`;
      return `<tr class="dl-group"><td class="reason">${escapeHtml(g.reason)}</td><td>${g.kind}</td><td class="mono">${escapeHtml(code)}</td><td class="num count">${formatNumber(g.count)}</td><td class="num">${formatNumber(g.retryable)}</td><td>${escapeHtml(formatAge(g.oldestFailedAt, now))}</td><td><ul class="samples mono">${samples}</ul></td></tr>`;
    })
    .join('\n');
  const others = d.otherGroups.count === 0 ? '' : `<p>${formatNumber(d.otherGroups.count)} more in ${formatNumber(d.otherGroups.groups)} other reasons: <code class="cmd">${escapeHtml(d.listCommand)}</code>.</p>`;
  return `<section id="dead-letters"><h2>Dead letters</h2>
<p>${scope}, grouped by reason; the oldest failed ${escapeHtml(formatAge(d.oldestFailedAt, now))}. Write failures are retried by later runs; to retry all of them now: <code class="cmd">${escapeHtml(d.retryCommand)}</code>. Invalid records wait until the LMS changes them.</p>
<table><thead><tr><th>reason</th><th>kind</th><th>Graph code</th><th>count</th><th>retried by runs</th><th>oldest</th><th>samples</th></tr></thead>
<tbody>${rows}</tbody></table>${others}</section>`;
}

function factsSection(report: SyncStatusReport, now: Date): string {
  const c = report.cursor;
  const q = report.queue;
  const g = report.graph;
  const lease = report.runLease;
  const t = report.throttling;
  const queue =
    q === null || q.mode === 'inline'
      ? '<dt>Mode</dt><dd>inline (the run writes to Graph itself)</dd>'
      : `<dt>Mode</dt><dd>queue</dd><dt>Work queue</dt><dd>${q.depth === null ? 'unknown' : `${formatNumber(q.depth)} messages`}</dd><dt>Poison queue</dt><dd>${q.poisonDepth === null ? 'unknown' : `${formatNumber(q.poisonDepth)} messages`}</dd><dt>Outstanding pages</dt><dd>${q.outstandingPages === null ? 'unknown' : formatNumber(q.outstandingPages)}</dd>`;
  const pending = report.pending === null ? '' : `<dt>Webhook records waiting</dt><dd>${formatNumber(report.pending.count)}</dd>`;
  const doctor =
    report.doctor === null
      ? ''
      : `<h2>Last <code>viva-sync doctor</code></h2><div class="card" id="doctor"><p><span class="verdict v-${report.doctor.verdict === 'green' ? 'ok' : report.doctor.verdict === 'warnings' ? 'degraded' : 'failing'}">${report.doctor.verdict}</span> ${escapeHtml(report.doctor.checkedAt)} (${escapeHtml(formatAge(report.doctor.checkedAt, now))})</p>${report.doctor.summary === '' ? '' : `<pre class="mono">${escapeHtml(report.doctor.summary)}</pre>`}</div>`;
  const catalog = catalogSection(report.catalog, report.capacity);
  const traffic =
    g === null || g.runs === 0
      ? '<p class="empty">No run recorded its Graph traffic yet.</p>'
      : `<dl class="facts"><dt>Over the last</dt><dd>${formatNumber(g.runs)} runs</dd><dt>Requests</dt><dd>${formatNumber(g.requests)}</dd><dt>Retries</dt><dd>${formatNumber(g.retries)}</dd><dt>Throttled (429/503)</dt><dd>${formatNumber(g.throttled)}</dd>${t === null ? '' : `<dt>Shared rate</dt><dd>${t.sharedRatePerSecond === null ? 'none learned' : `${formatNumber(t.sharedRatePerSecond)} requests/s`}${t.pausedUntil === null ? '' : `, paused until ${escapeHtml(t.pausedUntil)}`}</dd>`}</dl>`;
  return `<section id="facts"><h2>Cursor and lease</h2><div class="card"><dl class="facts">
<dt>Cursor</dt><dd class="mono">${escapeHtml(c?.value ?? '(none: the next run reads everything)')}</dd>
<dt>Saved</dt><dd>${escapeHtml(c?.savedAt ?? 'never')} (${escapeHtml(formatAge(c?.savedAt ?? null, now))})</dd>
<dt>Ledger complete</dt><dd>${c?.ledgerComplete === true ? 'yes' : 'no (a first full pass has not finished)'}</dd>
<dt>Run lease</dt><dd>${lease === null || !lease.held ? 'free' : `held by <span class="mono">${escapeHtml(lease.holder ?? lease.owner ?? 'unknown')}</span> until ${escapeHtml(lease.expiresAt ?? 'unknown')}`}</dd>${pending}</dl></div>
<h2>Graph traffic</h2><div class="card" id="graph">${traffic}</div>
<h2>Queue</h2><div class="card"><dl class="facts">${queue}</dl></div>${catalog}${doctor}</section>`;
}

/** The catalog's counts and the tenant capacity this provider uses; an alert from 80% of either limit. */
function catalogSection(catalog: SyncStatusReport['catalog'], capacity: SyncStatusReport['capacity']): string {
  // Before anything was written there is nothing to count (and no limit to approach).
  if (catalog === null && (capacity === null || capacity.total === 0)) return '';
  const courses = catalog === null ? '' : `<dt>Active courses</dt><dd>${formatNumber(catalog.active)}</dd><dt>Retired</dt><dd>${formatNumber(catalog.retired)}</dd>`;
  const used =
    capacity === null
      ? ''
      : `<dt>Viva Learning items of this provider</dt><dd>${formatNumber(capacity.active)} active of ${formatNumber(capacity.maxActive)}, ${formatNumber(capacity.total)} in all of ${formatNumber(capacity.maxTotal)}</dd>`;
  const warning = capacity?.warning === undefined ? '' : `<p class="capacity-warning"><strong>Warning:</strong> ${escapeHtml(capacity.warning)}</p>`;
  return `<h2>Course catalog</h2><div class="card${warning === '' ? '' : ' alert'}" id="catalog"><dl class="facts">${courses}${used}</dl>${warning}</div>`;
}
