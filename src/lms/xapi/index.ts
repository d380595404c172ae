/**
 * The `xapi` adapter: reads an xAPI 1.0.3 / 2.0 LRS (docs/adapters/xapi.md).
 *
 * xAPI has no enrollment object, so one canonical enrollment is derived per (learner,
 * course): "xapi:<actor key>:<course IRI>". A listing reads the statements stored since the
 * cursor (`GET statements?since=…&ascending=true&limit=…`, then `more`), and for every
 * enrollment a page touches it asks the LRS for that learner's statements about that course
 * and folds them (fold.ts). Recomputing from the LRS, rather than from the page alone, keeps
 * state that lives in earlier pages or earlier runs (a completion stays a completion when
 * the learner launches the course again), and undoes voided statements exactly: the LRS no
 * longer returns them, so the fold without them is the state after voiding.
 *
 * The cursor is an ISO `stored` time: the latest `stored` of a page, never later than the
 * LRS's `X-Experience-API-Consistent-Through`. A listing from a cursor reads from cursor −
 * lookbackMs, so statements committed late, and statements that share a timestamp, are read
 * again; statement ids already handled in the listing are skipped, and the engine's ledger
 * makes re-reads cost no Graph writes. Memory is bounded: one page of statements, one
 * enrollment's history at a time, and bounded id sets.
 */
import pLimit from 'p-limit';
import type { ApiLmsSettings } from '../../config/loadConfig.js';
import { normalizeDateTime, parseEnrollment } from '../../mapping/enrollment.js';
import { BoundedMap } from '../http/boundedMap.js';
import type { ApiAdapterOptions } from '../adapterSettings.js';
import type { ChangePage, LmsAdapter, ListChangesOptions, OperationOptions, PageSettings, PagedChanges, SourceItem } from '../types.js';
import { EnrollmentFold, enrollmentKeyOf, type RawRecord } from './fold.js';
import { LrsClient } from './lrsClient.js';
import { VOIDED_VERB, readXapiOptions, type XapiOptions } from './settings.js';
import { enrollmentIdFor, isObject, parseEnrollmentId, storedOf, verbOf, type JsonObject, type XapiActor } from './statements.js';

export { readXapiOptions, XAPI_SETTINGS } from './settings.js';
export type { XapiOptions } from './settings.js';

/** LMS_ADAPTER is this adapter's name. */
export type XapiSettings = ApiLmsSettings;

export type XapiAdapterOptions = ApiAdapterOptions;

const DEFAULT_PAGE_SIZE = 200;
/** The LRS decides its own maximum; we never ask for more than this. */
const MAX_PAGE_SIZE = 1000;
/** Statement ids remembered per listing (a page boundary re-read, an LRS that repeats). */
const SEEN_STATEMENTS = 50_000;
/** Enrollments whose history was folded in this listing, with the `stored` it covered. */
const FOLDED_ENROLLMENTS = 20_000;
/** Histories read at once. */
const HISTORY_CONCURRENCY = 4;

interface Context {
  readonly client: LrsClient;
  readonly options: XapiOptions;
  readonly lookbackMs: number;
}

export function createXapiAdapter(options: XapiAdapterOptions): LmsAdapter {
  const xapi = readXapiOptions(options.settings);
  if (!Number.isFinite(options.lookbackMs) || options.lookbackMs < 0) throw new RangeError(`lookbackMs must be a non-negative number (got ${options.lookbackMs})`);
  const { baseUrl, username, password } = options.settings;
  const client = new LrsClient({ baseUrl, username: username ?? '', password: password ?? '', ...(options.http !== undefined ? { http: options.http } : {}) });
  const context: Context = { client, options: xapi, lookbackMs: options.lookbackMs };
  return {
    name: 'xapi',
    listChanges: (listOptions = {}) => listChanges(context, listOptions),
    getEnrollment: (enrollmentId, getOptions = {}) => getEnrollment(context, enrollmentId, getOptions),
  };
}

function listChanges(context: Context, options: ListChangesOptions): PagedChanges {
  const byPage = (settings: PageSettings = {}): AsyncGenerator<ChangePage> => listPages(context, options, settings);
  async function* items(): AsyncGenerator<SourceItem> {
    for await (const page of byPage()) yield* page.items;
  }
  return Object.assign(items(), { byPage });
}

/** Continuation token: base64 JSON `{ v: 1, a: "xapi", from, more, cursor }`. */
interface Continuation {
  /** The cursor the listing started from. */
  readonly from: string | undefined;
  /** The LRS's `more` IRL of the next page. */
  readonly more: string;
  /** The cursor of the last page returned. */
  readonly cursor: string | undefined;
}

export function encodeXapiContinuation(token: Continuation): string {
  return Buffer.from(JSON.stringify({ v: 1, a: 'xapi', ...token }), 'utf8').toString('base64');
}

export function decodeXapiContinuation(token: string): Continuation {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw new TypeError('continuationToken is not an xapi adapter token (not base64 JSON)');
  }
  if (!isObject(json) || json['v'] !== 1 || json['a'] !== 'xapi' || typeof json['more'] !== 'string') throw new TypeError('continuationToken is not an xapi adapter token');
  const opt = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return { from: opt(json['from']), more: json['more'], cursor: opt(json['cursor']) };
}

function cursorMs(cursor: string): number {
  const normalized = normalizeDateTime(cursor);
  if (normalized === undefined) throw new TypeError(`cursor "${cursor}" is not an ISO 8601 date-time (the xapi adapter's cursor is a statement's stored time)`);
  return Date.parse(normalized);
}

function pageSizeOf(value: number | undefined): number {
  const size = value ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`maxPageSize must be a positive integer (got ${size})`);
  return Math.min(size, MAX_PAGE_SIZE);
}

/** Why the adapter looks at one enrollment in this page. */
interface Touch {
  readonly actor: XapiActor;
  readonly courseIri: string;
  /** The latest `stored` among the statements that touched it. */
  stored: string | undefined;
  /** A voiding statement touched it: if nothing counts any more, the enrollment is gone. */
  voided: boolean;
}

async function* listPages(context: Context, options: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const { client, lookbackMs } = context;
  const signal = options.abortSignal;
  const opts = signal !== undefined ? { abortSignal: signal } : {};
  const token = settings.continuationToken !== undefined ? decodeXapiContinuation(settings.continuationToken) : undefined;
  const from = token !== undefined ? token.from : options.cursor;
  const since = from === undefined ? undefined : new Date(cursorMs(from) - lookbackMs).toISOString();
  let url = token !== undefined ? client.resolve(token.more) : client.statementsUrl({ since, ascending: true, limit: pageSizeOf(settings.maxPageSize) });
  let cursor = token !== undefined ? token.cursor : from;
  const seen = new BoundedMap<string, true>(SEEN_STATEMENTS);
  const folded = new BoundedMap<string, string>(FOLDED_ENROLLMENTS);
  // An LRS that ignores `ascending` (stored going backwards): the cursor then moves only at the end of the listing.
  let ordered = true;
  let previousStored: string | undefined;
  let maxStored: string | undefined;

  for (;;) {
    signal?.throwIfAborted();
    const page = await client.page(url, opts);
    const touched = new Map<string, Touch>();
    const items: SourceItem[] = [];
    let lastStored: string | undefined;
    for (const statement of page.statements) {
      const id = typeof statement['id'] === 'string' ? statement['id'] : undefined;
      const stored = storedOf(statement);
      if (stored !== undefined) {
        if (previousStored !== undefined && stored < previousStored) ordered = false;
        previousStored = stored;
        if (lastStored === undefined || stored > lastStored) lastStored = stored;
        if (maxStored === undefined || stored > maxStored) maxStored = stored;
      }
      if (id !== undefined) {
        if (seen.has(id)) continue;
        seen.set(id, true);
      }
      let subject: JsonObject | undefined = statement;
      const voiding = verbOf(statement) === VOIDED_VERB;
      if (voiding) {
        // The voided statement is no longer returned by queries; fetch it to learn which enrollment to recompute.
        const target = isObject(statement['object']) && statement['object']['objectType'] === 'StatementRef' && typeof statement['object']['id'] === 'string' ? statement['object']['id'] : undefined;
        subject = target === undefined ? undefined : await client.voided(target, opts);
        if (subject === undefined) continue;
      }
      const touch = enrollmentKeyOf(subject, context.options);
      if (touch === undefined) continue;
      if ('invalid' in touch) {
        items.push(invalidStatement(statement, touch.invalid));
        continue;
      }
      const enrollmentId = enrollmentIdFor(touch.actor.key, touch.courseIri);
      const known = touched.get(enrollmentId);
      if (known === undefined) {
        touched.set(enrollmentId, { ...touch, stored, voided: voiding });
        continue;
      }
      if (stored !== undefined && (known.stored === undefined || stored > known.stored)) known.stored = stored;
      known.voided ||= voiding;
    }

    const results = await foldTouched(context, touched, folded, opts);
    for (const item of results) if (item !== undefined) items.push(item);
    items.sort((a, b) => compare(updatedAtOf(a), updatedAtOf(b)));

    // Safe: every statement stored up to lastStored was handled, and all before Consistent-Through are visible.
    const upTo = ordered ? lastStored : page.more === undefined ? maxStored : undefined;
    const bound = upTo === undefined ? undefined : page.consistentThrough !== undefined && page.consistentThrough < upTo ? page.consistentThrough : upTo;
    if (!ordered && page.more !== undefined) cursor = from;
    else if (bound !== undefined && (cursor === undefined || bound > cursor)) cursor = bound;
    signal?.throwIfAborted();
    yield { items, cursor, continuationToken: page.more !== undefined ? encodeXapiContinuation({ from, more: page.more, cursor }) : undefined };
    if (page.more === undefined) return;
    url = client.resolve(page.more);
  }
}

/** Folds every enrollment a page touched, a few histories at a time; one that fails fails the page. */
async function foldTouched(context: Context, touched: ReadonlyMap<string, Touch>, folded: BoundedMap<string, string>, opts: OperationOptions): Promise<(SourceItem | undefined)[]> {
  const limit = pLimit(HISTORY_CONCURRENCY);
  try {
    return await Promise.all(
      [...touched.entries()].map(([enrollmentId, touch]) =>
        limit(async (): Promise<SourceItem | undefined> => {
          // Already folded in this listing with every statement up to this one visible: nothing new.
          const covered = folded.get(enrollmentId);
          if (covered !== undefined && touch.stored !== undefined && touch.stored <= covered) return undefined;
          const outcome = await foldHistory(context, enrollmentId, touch.actor.key, touch.actor.agent, touch.courseIri, opts);
          if (outcome.covered !== undefined) folded.set(enrollmentId, outcome.covered);
          // Nothing counts any more after a voiding: the enrollment is gone. (Otherwise an empty
          // history is an LRS not yet consistent: nothing is sent, and the look-back reads it again.)
          const raw = outcome.fold.result(touch.stored) ?? (touch.voided && touch.stored !== undefined ? { enrollmentId, updatedAt: touch.stored, deleted: true } : undefined);
          return raw === undefined ? undefined : toItem(raw, enrollmentId);
        }),
      ),
    );
  } finally {
    limit.clearQueue();
  }
}

function compare(a: string | undefined, b: string | undefined): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

function updatedAtOf(item: SourceItem): string | undefined {
  return item.kind === 'record' ? item.record.updatedAt : item.updatedAt;
}

function invalidStatement(statement: JsonObject, reason: string): SourceItem {
  const id = typeof statement['id'] === 'string' ? statement['id'] : 'without id';
  return { kind: 'invalid', key: `xapi-statement:${id}`, reason: `statement ${id}: ${reason}`, position: `statement ${id}`, raw: JSON.stringify(statement), ...(storedOf(statement) !== undefined ? { updatedAt: storedOf(statement) } : {}) };
}

/** Folds one learner's statements about one course, page by page (memory: one history page). */
async function foldHistory(context: Context, enrollmentId: string, actorKey: string, agent: JsonObject, courseIri: string, options: OperationOptions): Promise<{ fold: EnrollmentFold; covered: string | undefined }> {
  const fold = new EnrollmentFold(enrollmentId, actorKey, courseIri, context.options);
  let maxStored: string | undefined;
  let consistentThrough: string | undefined;
  for await (const page of context.client.history(agent, courseIri, options)) {
    for (const statement of page.statements) {
      fold.apply(statement);
      const stored = storedOf(statement);
      if (stored !== undefined && (maxStored === undefined || stored > maxStored)) maxStored = stored;
    }
    consistentThrough = page.consistentThrough;
  }
  const covered = maxStored !== undefined && consistentThrough !== undefined && consistentThrough < maxStored ? consistentThrough : maxStored;
  return { fold, covered };
}

function toItem(raw: RawRecord, enrollmentId: string): SourceItem {
  const parsed = parseEnrollment(raw);
  if (parsed.ok) return { kind: 'record', record: parsed.enrollment, position: `xAPI ${enrollmentId}` };
  return {
    kind: 'invalid',
    key: enrollmentId,
    reason: `${enrollmentId}: ${parsed.reason}`,
    position: `xAPI ${enrollmentId}`,
    raw: JSON.stringify(raw),
    enrollmentId,
    ...(parsed.updatedAt !== undefined ? { updatedAt: parsed.updatedAt } : {}),
  };
}

/** The current state of one enrollment, from the LRS; undefined for an id this adapter cannot read back (hashed, foreign) or with no statements. */
async function getEnrollment(context: Context, enrollmentId: string, options: OperationOptions): Promise<SourceItem | undefined> {
  const key = parseEnrollmentId(enrollmentId);
  if (key === undefined) return undefined;
  const { fold } = await foldHistory(context, enrollmentId, key.actorKey, key.agent, key.courseIri, options);
  const raw = fold.result();
  return raw === undefined ? undefined : toItem(raw, enrollmentId);
}
