/**
 * Manual re-sync. Small scopes (one enrollment, a learner's, a course's) run inline on the
 * single-record path and FORCE a write: the ledger would call an enrollment whose body did not
 * change "unchanged", yet an operator re-syncs precisely because Viva may have lost or altered
 * it, so the matched ledger rows lose their fingerprint first and the engine PATCHes each one
 * (and re-creates it if Viva answers 404). `all` rewinds (or resets) the cursor and is carried
 * out by the following sync passes, which re-read everything changed since then and write what
 * differs from the ledger; its progress is kept in the run history under the returned run id.
 */
import type { Config } from '../config/loadConfig.js';
import type { EnrollmentRecord } from '../mapping/enrollment.js';
import { normalizeDateTime } from '../mapping/enrollment.js';
import { learnerKey } from '../mapping/learnerRef.js';
import { externalActivityId } from '../mapping/toActivity.js';
import type { PendingStore, ResyncRequest } from '../state/pendingStore.js';
import type { LedgerEntry, RunCounts, RunRecord, SyncState } from '../state/types.js';
import { TimeBudget } from './budget.js';
import { readOnlyState, RecordingGateway } from './dryRun.js';
import { newRunId, RunInProgressError, syncRecords } from './engine.js';
import type { Logger } from './logger.js';
import type { SyncRunner } from './openSync.js';
import { currentRecord, isRunInProgress, RESYNC_TIME_BUDGET_MS, withLeaseWait } from './singleRecord.js';
import { emptyCounts, type RunSummary } from './types.js';

export type ResyncScope =
  | { readonly kind: 'learner'; readonly value: string }
  | { readonly kind: 'course'; readonly value: string }
  | { readonly kind: 'enrollment'; readonly value: string }
  | { readonly kind: 'all'; readonly since?: string };

export interface ResyncCommand {
  readonly scope: ResyncScope;
  readonly dryRun: boolean;
}

/** At most this many enrollments are re-synced inline; more is a job for `all`. */
export const MAX_INLINE_ENROLLMENTS = 1000;
const MAX_VALUE_LENGTH = 400;
const LMS_CONCURRENCY = 4;

/**
 * Reads `{ "learner" | "course" | "enrollment": "…" }` or `{ "all": true, "since"?: ISO }`,
 * with an optional `"dryRun": true`. Exactly one scope; nothing else.
 */
export function parseResyncCommand(value: unknown): { ok: true; command: ResyncCommand } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'the body must be a JSON object' };
  const body = value as Record<string, unknown>;
  const allowed = new Set(['learner', 'course', 'enrollment', 'all', 'since', 'dryRun']);
  const unknown = Object.keys(body).filter((k) => !allowed.has(k));
  if (unknown.length > 0) return { ok: false, reason: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` };
  const scopes = (['learner', 'course', 'enrollment', 'all'] as const).filter((k) => body[k] !== undefined);
  if (scopes.length !== 1) return { ok: false, reason: 'name exactly one of learner, course, enrollment or all' };
  const dryRun = body['dryRun'];
  if (dryRun !== undefined && typeof dryRun !== 'boolean') return { ok: false, reason: 'dryRun must be true or false' };
  const kind = scopes[0] ?? 'all';
  if (body['since'] !== undefined && kind !== 'all') return { ok: false, reason: 'since goes with all only' };
  if (kind === 'all') {
    if (body['all'] !== true) return { ok: false, reason: 'all must be true' };
    const since = body['since'];
    if (since === undefined) return { ok: true, command: { scope: { kind }, dryRun: dryRun === true } };
    const normalized = typeof since === 'string' ? normalizeDateTime(since) : undefined;
    if (normalized === undefined) return { ok: false, reason: 'since must be an ISO 8601 date-time such as 2026-11-01T00:00:00Z' };
    if (Date.parse(normalized) > Date.now()) return { ok: false, reason: 'since is in the future' };
    return { ok: true, command: { scope: { kind, since: normalized }, dryRun: dryRun === true } };
  }
  const raw = body[kind];
  // eslint-disable-next-line no-control-regex
  if (typeof raw !== 'string' || raw.trim() === '' || raw.length > MAX_VALUE_LENGTH || /[\u0000-\u001f]/.test(raw)) {
    return { ok: false, reason: `${kind} must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters` };
  }
  return { ok: true, command: { scope: { kind, value: raw.trim() }, dryRun: dryRun === true } };
}

export interface ResyncContext {
  readonly runner: Pick<SyncRunner, 'adapter' | 'state' | 'runRecords'>;
  readonly config: Pick<Config, 'providerId' | 'learnerMatch'>;
  readonly logger: Logger;
}

export type InlineResyncResult =
  | {
      readonly kind: 'done';
      readonly scope: ResyncScope;
      /** Enrollments the scope matched (ledger rows, or the one named). */
      readonly matched: number;
      /** Ledger rows whose fingerprint was dropped so that the engine writes them again. */
      readonly forced: number;
      /** Matched, but the LMS no longer knows them (not written). */
      readonly notInLms: readonly string[];
      readonly invalid: readonly { enrollmentId: string; reason: string }[];
      readonly unavailable: readonly string[];
      readonly summary: RunSummary;
    }
  | { readonly kind: 'notFound'; readonly reason: string }
  | { readonly kind: 'tooLarge'; readonly reason: string }
  | { readonly kind: 'busy'; readonly reason: string };

/** A small-scope re-sync, inline: find the enrollments, read them from the LMS, force the writes. */
export interface ResyncInlineOptions {
  readonly dryRun?: boolean;
  readonly abortSignal?: AbortSignal;
  /** Time allowed for reading the records from the LMS; what is not read by then is reported `unavailable`. */
  readonly lookupTimeoutMs?: number;
}

export async function resyncInline(ctx: ResyncContext, scope: Exclude<ResyncScope, { kind: 'all' }>, options: ResyncInlineOptions = {}): Promise<InlineResyncResult> {
  const { state, adapter } = ctx.runner;
  const ids = await matchEnrollments(state, ctx.config, scope);
  if (ids.length === 0 && scope.kind !== 'enrollment') return { kind: 'notFound', reason: `no synced enrollment matches ${scope.kind} ${JSON.stringify(scope.value)}` };
  if (ids.length > MAX_INLINE_ENROLLMENTS) {
    return { kind: 'tooLarge', reason: `${scope.kind} ${JSON.stringify(scope.value)} matches ${ids.length} enrollments, more than ${MAX_INLINE_ENROLLMENTS}; use {"all": true}` };
  }
  const wanted = scope.kind === 'enrollment' ? [scope.value] : ids;

  const records: EnrollmentRecord[] = [];
  const notInLms: string[] = [];
  const invalid: { enrollmentId: string; reason: string }[] = [];
  const unavailable: string[] = [];
  const queue = [...wanted];
  const lookupSignals = [options.abortSignal, options.lookupTimeoutMs === undefined ? undefined : AbortSignal.timeout(options.lookupTimeoutMs)].filter((x) => x !== undefined);
  const lookupSignal = lookupSignals.length === 0 ? undefined : AbortSignal.any(lookupSignals);
  await Promise.all(
    Array.from({ length: Math.min(LMS_CONCURRENCY, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const current = await currentRecord(adapter, id, undefined, { ...(lookupSignal !== undefined ? { abortSignal: lookupSignal } : {}), logger: ctx.logger });
        if (current.kind === 'record') records.push(current.record);
        else if (current.kind === 'unknown') notInLms.push(id);
        else if (current.kind === 'invalid') invalid.push({ enrollmentId: id, reason: current.reason });
        else unavailable.push(id);
      }
    }),
  );
  if (scope.kind === 'enrollment' && records.length === 0 && ids.length === 0 && notInLms.length > 0) {
    return { kind: 'notFound', reason: `neither the LMS nor the ledger knows enrollment ${JSON.stringify(scope.value)}` };
  }
  records.sort((a, b) => a.enrollmentId.localeCompare(b.enrollmentId));
  const trigger = `resync:${scope.kind}`;
  const externalIds = records.map((r) => externalActivityId(r.enrollmentId));
  const runId = newRunId();
  let forced = 0;
  let summary: RunSummary;
  try {
    if (options.dryRun === true) {
      forced = (await forceable(state, externalIds)).length;
      summary = await dryRunForced(ctx, records, new Set(externalIds), trigger);
    } else {
      forced = await markForced(state, externalIds, runId);
      summary = await withLeaseWait(() => ctx.runner.runRecords(records, { runId, trigger, ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}) }), 2_000, options.abortSignal);
    }
  } catch (err) {
    if (isRunInProgress(err)) return { kind: 'busy', reason: err instanceof Error ? err.message : String(err) };
    throw err;
  }
  ctx.logger.info('Re-sync finished', { scope: scope.kind, matched: wanted.length, forced, runId: summary.runId, status: summary.status });
  return { kind: 'done', scope, matched: wanted.length, forced, notInLms, invalid, unavailable, summary };
}

/** The enrollment ids the scope names, from the ledger (one enrollment: itself, known or not). */
async function matchEnrollments(state: SyncState, config: ResyncContext['config'], scope: Exclude<ResyncScope, { kind: 'all' }>): Promise<string[]> {
  if (scope.kind === 'enrollment') {
    const entries = await state.ledger.getMany([externalActivityId(scope.value)]);
    return [...entries.values()].map((e) => e.enrollmentId);
  }
  let matches: (entry: LedgerEntry) => boolean;
  if (scope.kind === 'course') {
    matches = (e) => e.contentExternalId === scope.value;
  } else {
    // A learner is named by Entra object id, or by the value LEARNER_MATCH uses (UPN, mail, …).
    const objectIds = new Set([scope.value, scope.value.toLowerCase()]);
    for (const key of new Set([learnerKey({ match: config.learnerMatch, value: scope.value.toLowerCase() }), learnerKey({ match: config.learnerMatch, value: scope.value })])) {
      const cached = await state.learners.get(key, Number.MAX_SAFE_INTEGER);
      if (cached?.kind === 'found') objectIds.add(cached.objectId);
    }
    matches = (e) => e.learnerObjectId !== undefined && objectIds.has(e.learnerObjectId);
  }
  const ids: string[] = [];
  for await (const entry of state.ledger.list()) {
    if (matches(entry)) ids.push(entry.enrollmentId);
    // Enough to say "too many"; no need to scan on.
    if (ids.length > MAX_INLINE_ENROLLMENTS) break;
  }
  return ids;
}

async function forceable(state: SyncState, externalIds: readonly string[]): Promise<LedgerEntry[]> {
  if (externalIds.length === 0) return [];
  const entries = await state.ledger.getMany(externalIds);
  return [...entries.values()].filter((e) => e.state === 'synced' && e.fingerprint !== undefined);
}

/**
 * Drops the fingerprint of these ledger rows, under the run lease (so that no run in progress
 * has its fresher row overwritten): the engine then sees a body it cannot vouch for and PATCHes.
 */
async function markForced(state: SyncState, externalIds: readonly string[], owner: string): Promise<number> {
  if (externalIds.length === 0) return 0;
  const lease = await state.lease.tryAcquire(owner, 60_000);
  if (lease === undefined) {
    const holder = await state.lease.current();
    throw new RunInProgressError(holder?.owner ?? 'unknown', holder?.expiresAt ?? 'unknown');
  }
  try {
    const marked = (await forceable(state, externalIds)).map(({ fingerprint: _dropped, ...rest }) => rest);
    if (marked.length > 0) await state.ledger.putMany(marked);
    return marked.length;
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** A dry run that plans as the forced run will: the real ledger, read through a view without those fingerprints. */
async function dryRunForced(ctx: ResyncContext, records: readonly EnrollmentRecord[], forcedIds: ReadonlySet<string>, trigger: string): Promise<RunSummary> {
  const base = readOnlyState(ctx.runner.state);
  const state: SyncState = {
    ...base,
    ledger: {
      getMany: async (ids, o) => {
        const entries = await base.ledger.getMany(ids, o);
        for (const [id, entry] of entries) {
          if (forcedIds.has(id) && entry.state === 'synced') {
            const { fingerprint: _dropped, ...rest } = entry;
            entries.set(id, rest);
          }
        }
        return entries;
      },
      putMany: (e, o) => base.ledger.putMany(e, o),
      list: (o) => base.ledger.list(o),
      listStatus: async function* (o) {
        for await (const row of base.ledger.listStatus(o)) {
          if (!forcedIds.has(row.externalId) || row.state !== 'synced') yield row;
          else {
            const { fingerprint: _dropped, ...rest } = row;
            yield rest;
          }
        }
      },
    },
  };
  const gateway = new RecordingGateway();
  return syncRecords(
    {
      adapter: ctx.runner.adapter,
      gateway,
      state,
      providerId: ctx.config.providerId,
      learnerMatch: ctx.config.learnerMatch,
      logger: ctx.logger,
      budget: new TimeBudget(RESYNC_TIME_BUDGET_MS),
      dryRun: true,
      plannedCalls: () => gateway.calls,
    },
    records,
    { trigger },
  );
}

// ---------------------------------------------------------------------------------------------
// `all`: a request carried out by the following sync passes.
// ---------------------------------------------------------------------------------------------

export interface FullResyncContext {
  readonly state: SyncState;
  readonly pending: PendingStore;
  readonly logger: Logger;
}

export type FullResyncResult =
  | { readonly kind: 'dryRun'; readonly since: string | null; readonly cursor: { readonly current: string | null; readonly wouldBecome: string | null } }
  | { readonly kind: 'requested'; readonly runId: string; readonly since: string | null; readonly applied: boolean; readonly cursor: { readonly before: string | null; readonly after: string | null } | null };

/** The cursor after a rewind to `since`: never later than it was (no record may be skipped). */
export function rewoundCursor(current: string | undefined, since: string | undefined): string | undefined {
  if (since === undefined || current === undefined) return undefined;
  const currentMs = Date.parse(current);
  return Number.isFinite(currentMs) && currentMs <= Date.parse(since) ? current : since;
}

/**
 * Records a full re-sync: a run-history row (`resync:all`, `running`) whose id is returned,
 * and a request that the next passes pick up. The cursor is rewound at once when no run holds
 * the lease, else by the pass that picks the request up.
 */
export async function requestFullResync(ctx: FullResyncContext, since: string | undefined, options: { readonly dryRun?: boolean } = {}): Promise<FullResyncResult> {
  if (options.dryRun === true) {
    const cursor = await ctx.state.cursor.get();
    return { kind: 'dryRun', since: since ?? null, cursor: { current: cursor.value ?? null, wouldBecome: rewoundCursor(cursor.value, since) ?? null } };
  }
  const runId = newRunId();
  const request: ResyncRequest = { runId, requestedAt: new Date().toISOString(), passes: 0, counts: emptyCounts(), ...(since !== undefined ? { since } : {}) };
  await ctx.pending.putResync(request);
  await ctx.state.runs.put(requestRow(request, 'running', `queued: ${since === undefined ? 'the next sync pass reads everything' : `the next sync pass reads every change since ${since}`}`));
  const applied = await applyResyncRequest(ctx, request);
  ctx.logger.info('Full re-sync requested', { runId, since: since ?? null, applied: applied !== undefined });
  return {
    kind: 'requested',
    runId,
    since: since ?? null,
    applied: applied !== undefined,
    cursor: applied === undefined ? null : { before: applied.cursorBefore ?? null, after: rewoundCursor(applied.cursorBefore, since) ?? null },
  };
}

/** Rewinds the cursor for `request` under the run lease; undefined when another run holds it. */
export async function applyResyncRequest(ctx: FullResyncContext, request: ResyncRequest): Promise<ResyncRequest | undefined> {
  if (request.appliedAt !== undefined) return request;
  const lease = await ctx.state.lease.tryAcquire(request.runId, 30_000);
  if (lease === undefined) return undefined;
  try {
    const cursor = await ctx.state.cursor.get();
    const target = rewoundCursor(cursor.value, request.since);
    if (target !== cursor.value) await ctx.state.cursor.save({ value: target, ledgerComplete: cursor.ledgerComplete, ledgerEpoch: cursor.ledgerEpoch, runId: request.runId }, cursor.etag);
    const applied: ResyncRequest = { ...request, appliedAt: new Date().toISOString(), ...(cursor.value !== undefined ? { cursorBefore: cursor.value } : {}) };
    await ctx.pending.putResync(applied);
    await ctx.state.runs.put(requestRow(applied, 'running', `cursor rewound from ${cursor.value ?? '(none)'} to ${target ?? '(none: everything)'}; the next sync pass carries it out`));
    return applied;
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** Before a pass: rewinds the cursor for every request still waiting for the lease. */
export async function pickUpResyncRequests(ctx: FullResyncContext): Promise<void> {
  for (const request of await ctx.pending.listResyncs()) {
    if (request.appliedAt === undefined) await applyResyncRequest(ctx, request);
  }
}

/**
 * After a pass: every request applied before the pass started counts it. A request is done at
 * the first pass that reaches the end of the changes (`succeeded`); partial or failed passes
 * leave it running, and the next pass goes on from the saved cursor.
 */
export async function recordResyncPass(ctx: FullResyncContext, summary: RunSummary, passStartedAt: string): Promise<void> {
  for (const request of await ctx.pending.listResyncs()) {
    if (request.appliedAt === undefined || request.appliedAt > passStartedAt) continue;
    const updated: ResyncRequest = {
      ...request,
      passes: request.passes + 1,
      lastRunId: summary.runId,
      lastStatus: summary.status,
      counts: addCounts(request.counts, summary.counts),
    };
    if (summary.status === 'succeeded') {
      await ctx.state.runs.put({
        ...requestRow(updated, 'succeeded', `carried out by ${updated.passes} sync pass${updated.passes > 1 ? 'es' : ''}, the last ${summary.runId}`),
        finishedAt: new Date().toISOString(),
        ...(summary.cursor.after !== null ? { cursorAfter: summary.cursor.after } : {}),
      });
      await ctx.pending.deleteResync(request.runId);
      ctx.logger.info('Full re-sync done', { runId: request.runId, passes: updated.passes });
    } else {
      await ctx.pending.putResync(updated);
      await ctx.state.runs.put(
        requestRow(updated, 'running', `${updated.passes} sync pass${updated.passes > 1 ? 'es' : ''} so far; the last (${summary.runId}) ended ${summary.status}${summary.message !== undefined ? ` (${summary.message})` : ''}; the next pass continues`),
      );
    }
  }
}

function requestRow(request: ResyncRequest, status: RunRecord['status'], message: string): RunRecord {
  return {
    runId: request.runId,
    trigger: 'resync:all',
    status,
    startedAt: request.requestedAt,
    counts: request.counts,
    ...(request.cursorBefore !== undefined ? { cursorBefore: request.cursorBefore } : {}),
    ...(request.since !== undefined ? { cursorAfter: request.since } : {}),
    message,
  };
}

function addCounts(a: RunCounts, b: RunCounts): RunCounts {
  return { read: a.read + b.read, created: a.created + b.created, updated: a.updated + b.updated, deleted: a.deleted + b.deleted, unchanged: a.unchanged + b.unchanged, failed: a.failed + b.failed };
}

/** What GET /api/resync/{runId} answers. */
export interface ResyncStatus {
  readonly runId: string;
  readonly trigger: string;
  readonly status: 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'abandoned';
  readonly finished: boolean;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly counts: RunCounts;
  readonly since?: string | null;
  readonly passes?: number;
  readonly lastRun?: { readonly runId: string; readonly status: string } | null;
  readonly cursor: { readonly before: string | null; readonly after: string | null; readonly current?: string | null };
  readonly message: string | null;
}

/** Progress and outcome of a re-sync (or of any run) from the run history and the open requests. */
export async function readResyncStatus(ctx: Pick<FullResyncContext, 'state' | 'pending'>, runId: string): Promise<ResyncStatus | undefined> {
  const open = await ctx.pending.getResync(runId);
  if (open !== undefined) {
    const cursor = await ctx.state.cursor.get();
    return {
      runId,
      trigger: 'resync:all',
      status: open.appliedAt === undefined ? 'queued' : 'running',
      finished: false,
      startedAt: open.requestedAt,
      finishedAt: null,
      counts: open.counts,
      since: open.since ?? null,
      passes: open.passes,
      lastRun: open.lastRunId !== undefined ? { runId: open.lastRunId, status: open.lastStatus ?? 'unknown' } : null,
      cursor: { before: open.cursorBefore ?? null, after: open.appliedAt === undefined ? null : (rewoundCursor(open.cursorBefore, open.since) ?? null), current: cursor.value ?? null },
      message: open.appliedAt === undefined ? 'waiting for the run lease to rewind the cursor' : 'the sync passes are re-reading the changes',
    };
  }
  const row = await ctx.state.runs.get(runId);
  if (row === undefined) return undefined;
  return {
    runId,
    trigger: row.trigger,
    status: row.status,
    finished: row.status !== 'running',
    startedAt: row.startedAt,
    finishedAt: row.finishedAt ?? null,
    counts: row.counts,
    cursor: { before: row.cursorBefore ?? null, after: row.cursorAfter ?? null },
    message: row.message ?? null,
  };
}
