/**
 * Listing OneRoster over REST.
 *
 * Two change streams, read one after the other, each with its own mark in the cursor:
 * 1. enrollments: `GET …/enrollments?filter=dateLastModified>='<mark − lookback>'&sort=
 *    dateLastModified&orderBy=asc&limit=…&offset=…`. When the provider honours the sort
 *    (checked once per listing against the newest record, and on every page), paging is by key: the next request starts at the last
 *    dateLastModified seen, with `offset` = the records already read at exactly that time,
 *    so records that share a timestamp are not skipped and an edit during the listing does
 *    not shift the pages; the mark after a page is that page's last dateLastModified. When
 *    it does not sort, pages follow `Link: rel="next"` (or offset + X-Total-Count) and the
 *    mark only moves at the end of the listing.
 * 2. gradebook results (when LMS_ONEROSTER_GRADEBOOK): results changed since their mark
 *    name (class, student) pairs whose enrollment is read again with its progress. The first
 *    listing skips this stream (it read every enrollment with its results already) and sets
 *    the mark to the time it started.
 * With LMS_ONEROSTER_FULL_PULL, for providers whose filter is broken, every listing reads all
 * enrollments (offset paging, no filter, no sort) and keeps those changed since the mark.
 * A student enrollment is completed with its user, class, the class's line items and the
 * student's results (cached per listing, bounded), a few requests at a time.
 */
import pLimit from 'p-limit';
import { BoundedMap } from '../http/boundedMap.js';
import { isLmsRequestError } from '../http/errors.js';
import type { ChangePage, ListChangesOptions, OperationOptions, PageSettings, SourceItem } from '../types.js';
import { decodeToken, encodeToken, formatCursor, minusMs, parseCursor, toItem, type Marks } from './cursor.js';
import { gradebookState, toRawRecord, type GradebookState } from './mapping.js';
import { readClass, readEnrollment, readLineItem, readResult, readUser, type OrClass, type OrEnrollment, type OrLineItem, type OrResult, type OrUser } from './model.js';
import { withPaging, type OneRosterClient, type Service } from './restClient.js';
import type { RestOptions } from './settings.js';

export interface RestContext {
  readonly client: OneRosterClient;
  readonly options: RestOptions;
  readonly lookbackMs: number;
  readonly now: () => number;
}

const DEFAULT_PAGE_SIZE = 100;
/** OneRoster's limit has no maximum in the spec; providers cap it (often 100–1000). */
const MAX_PAGE_SIZE = 1000;
const LOOKUP_CONCURRENCY = 4;
const GRADEBOOK_PAGE = 100;

/** Where a scan of one collection stands. */
interface ScanState {
  /** Keyset paging: the dateLastModified the next request starts at (inclusive). */
  from: string | undefined;
  /** Keyset paging: records at exactly `from` already read; offset paging: the next offset. */
  skip: number;
  /** The provider sorts by dateLastModified (keyset paging); false: offset paging. */
  sorted: boolean;
  /** The sort was checked against a descending probe (once per listing). */
  verified?: boolean;
  /** Offset paging: the Link header's next page. */
  next: string | undefined;
  /** The latest dateLastModified read so far. */
  maxSeen: string | undefined;
}

interface ScanPage {
  readonly items: readonly unknown[];
  readonly state: ScanState;
  /** The stream's mark that is safe once this page is handled. */
  readonly mark: string | undefined;
  readonly done: boolean;
}

type Phase = 'enrollments' | 'results';

interface Continuation {
  readonly from: string | undefined;
  readonly startedAt: string;
  readonly phase: Phase;
  readonly scan: ScanState;
  readonly marks: Marks;
}

function encodeContinuation(c: Continuation): string {
  return encodeToken('oneroster', { ...c });
}

function decodeContinuation(token: string): Continuation {
  const json = decodeToken(token, 'oneroster');
  const scan = json['scan'] as ScanState | undefined;
  if ((json['phase'] !== 'enrollments' && json['phase'] !== 'results') || typeof json['startedAt'] !== 'string' || typeof scan !== 'object' || scan === null || typeof scan.skip !== 'number') {
    throw new TypeError('continuationToken is not a oneroster token (incomplete)');
  }
  return { from: typeof json['from'] === 'string' ? json['from'] : undefined, startedAt: json['startedAt'], phase: json['phase'], scan, marks: (json['marks'] ?? {}) as Marks };
}

function dateOf(item: unknown): string | undefined {
  return readEnrollment(item)?.dateLastModified;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Pages of one collection changed since `since` (see the file comment). `full`: no filter and
 * no sort; the caller keeps what changed.
 */
async function* scan(context: RestContext, service: Service, collection: string, since: string | undefined, startMark: string | undefined, limit: number, full: boolean, resume: ScanState | undefined, options: OperationOptions): AsyncGenerator<ScanPage> {
  const { client } = context;
  const state: ScanState = resume ?? { from: full ? undefined : since, skip: 0, sorted: !full, next: undefined, maxSeen: undefined };
  for (;;) {
    const lower = state.sorted ? state.from : since;
    const filter = !full && lower !== undefined ? `dateLastModified>=${quote(lower)}` : undefined;
    const url =
      state.next !== undefined
        ? new URL(state.next)
        : client.url(service, collection, { ...(filter !== undefined ? { filter } : {}), ...(full ? {} : { sort: 'dateLastModified', orderBy: 'asc' }), limit, offset: state.skip });
    const requestOffset = Number(url.searchParams.get('offset') ?? state.skip);
    const page = await client.page(url, collection, options).catch((err: unknown) => filterHint(err, url));
    const n = page.items.length;
    const dates = page.items.map(dateOf);
    for (const d of dates) if (d !== undefined && (state.maxSeen === undefined || d > state.maxSeen)) state.maxSeen = d;
    // More after this page? By X-Total-Count, else the Link header, else until an empty page (a provider may cap `limit`).
    const more = n > 0 && (page.total !== undefined ? requestOffset + n < page.total : page.linked ? page.next !== undefined : true);
    if (state.sorted) {
      const inOrder = dates.every((d, i) => d !== undefined && (i === 0 ? state.from === undefined || d >= state.from : d >= (dates[i - 1] ?? '')));
      let honoured = inOrder;
      // A page can look sorted by chance (ties): once per listing, check the sort against the newest record.
      if (inOrder && more && state.verified !== true) {
        state.verified = true;
        honoured = await sortHonoured(context, url, collection, page.total, page.items, dates, options);
      }
      if (!honoured) {
        // The provider ignores `sort`: read the filter by offset from `since`, and move the mark only at the end.
        const keysetMoved = state.from !== since;
        state.sorted = false;
        state.next = undefined;
        state.skip = keysetMoved ? 0 : requestOffset + n;
        yield { items: page.items, state: { ...state }, mark: startMark, done: false };
        continue;
      }
      const last = dates[n - 1];
      if (last !== undefined) {
        if (last === state.from) state.skip += n;
        else {
          state.skip = dates.filter((d) => d === last).length;
          state.from = last;
        }
      }
      const mark = last ?? startMark;
      yield { items: page.items, state: { ...state }, mark: mark !== undefined && startMark !== undefined && startMark > mark ? startMark : mark, done: !more };
      if (!more) return;
      continue;
    }
    const following = more ? (page.linked ? page.next : withPaging(url, limit, requestOffset + n)) : undefined;
    state.next = following?.href;
    state.skip = requestOffset + n;
    const done = following === undefined;
    const finalMark = state.maxSeen !== undefined && (startMark === undefined || state.maxSeen > startMark) ? state.maxSeen : startMark;
    yield { items: page.items, state: { ...state }, mark: done ? finalMark : startMark, done };
    if (done) return;
  }
}

/**
 * Whether the provider really sorts by dateLastModified: the first record sorted descending
 * and (with X-Total-Count) the last record sorted ascending must both be the newest, no older
 * than this page, and not this page's first record. Providers that ignore `sort` answer both
 * in their own order, which gives them away; when unsure, the listing falls back to offset
 * paging (safe, with the mark moving only at the end).
 */
async function sortHonoured(context: RestContext, url: URL, collection: string, total: number | undefined, items: readonly unknown[], dates: readonly (string | undefined)[], options: OperationOptions): Promise<boolean> {
  const probe = async (orderBy: 'asc' | 'desc', offset: number): Promise<unknown> => {
    const probeUrl = new URL(url);
    probeUrl.searchParams.set('orderBy', orderBy);
    probeUrl.searchParams.set('limit', '1');
    probeUrl.searchParams.set('offset', String(offset));
    return (await context.client.page(probeUrl, collection, options)).items[0];
  };
  const newest = await probe('desc', 0);
  const last = total === undefined ? undefined : await probe('asc', Math.max(0, total - 1));
  const newestDate = dateOf(newest);
  const pageLast = dates[dates.length - 1];
  if (newestDate === undefined || pageLast === undefined || newestDate < pageLast) return false;
  if (readEnrollment(newest)?.sourcedId === readEnrollment(items[0])?.sourcedId) return false;
  return last === undefined || dateOf(last) === newestDate;
}

/** A provider that refuses the dateLastModified filter: say which setting works around it. */
function filterHint(err: unknown, url: URL): never {
  if (isLmsRequestError(err) && err.statusCode === 400 && url.searchParams.has('filter')) {
    throw err.with({ message: `${err.message} — this provider refuses the dateLastModified filter; set LMS_ONEROSTER_FULL_PULL=true to read every enrollment on each run` });
  }
  throw err;
}

/** Per-listing caches, bounded. */
class Lookups {
  readonly users = new BoundedMap<string, Promise<OrUser | undefined>>(5000);
  readonly classes = new BoundedMap<string, Promise<OrClass | undefined>>(2000);
  readonly lineItems = new BoundedMap<string, Promise<OrLineItem[]>>(500);
  readonly lineItemClasses = new BoundedMap<string, Promise<string | undefined>>(5000);

  constructor(
    private readonly context: RestContext,
    private readonly options: OperationOptions,
  ) {}

  user(id: string): Promise<OrUser | undefined> {
    let found = this.users.get(id);
    if (found === undefined) {
      found = this.context.client.one(this.context.client.url('rostering', `users/${id}`), 'user', this.options).then(readUser);
      this.users.set(id, found);
    }
    return found;
  }

  klass(id: string): Promise<OrClass | undefined> {
    let found = this.classes.get(id);
    if (found === undefined) {
      found = this.context.client.one(this.context.client.url('rostering', `classes/${id}`), 'class', this.options).then(readClass);
      this.classes.set(id, found);
    }
    return found;
  }

  lineItemsOf(classId: string): Promise<OrLineItem[]> {
    let found = this.lineItems.get(classId);
    if (found === undefined) {
      found = collect(this.context.client.all(this.context.client.url('gradebook', `classes/${classId}/lineItems`), 'lineItems', GRADEBOOK_PAGE, this.options, true), readLineItem).catch(gradebookHint);
      this.lineItems.set(classId, found);
    }
    return found;
  }

  /** The class of a line item (for a result that names only its line item). */
  lineItemClass(lineItemId: string): Promise<string | undefined> {
    let found = this.lineItemClasses.get(lineItemId);
    if (found === undefined) {
      found = this.context.client
        .one(this.context.client.url('gradebook', `lineItems/${lineItemId}`), 'lineItem', this.options)
        .then((json) => readLineItem(json)?.classSourcedId)
        .catch(gradebookHint);
      this.lineItemClasses.set(lineItemId, found);
    }
    return found;
  }

  resultsOf(classId: string, studentId: string): Promise<OrResult[]> {
    return collect(this.context.client.all(this.context.client.url('gradebook', `classes/${classId}/students/${studentId}/results`), 'results', GRADEBOOK_PAGE, this.options, true), readResult).catch(gradebookHint);
  }
}

/** A gradebook the client may not read: say which setting or grant fixes it. */
function gradebookHint(err: unknown): never {
  if (isLmsRequestError(err) && (err.statusCode === 401 || err.statusCode === 403)) {
    throw err.with({
      message: `${err.message} — the gradebook (progress) is not readable: grant the client the gradebook.readonly scope, or set LMS_ONEROSTER_GRADEBOOK=false to sync enrollments without progress`,
    });
  }
  throw err;
}

async function collect<T>(items: AsyncIterable<unknown>, read: (json: unknown) => T | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const json of items) {
    const value = read(json);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** One enrollment, completed with its user, class and gradebook, through parseEnrollment. */
async function itemFor(context: RestContext, lookups: Lookups, enrollment: OrEnrollment): Promise<SourceItem> {
  const position = `OneRoster enrollment ${enrollment.sourcedId}`;
  const common = { enrollment, assignmentType: context.options.assignmentType, courseUrl: context.options.courseUrl };
  // A withdrawal needs nothing else (its class or user may be gone already).
  if (enrollment.status === 'tobedeleted') return toItem(toRawRecord({ ...common, user: undefined, klass: undefined, gradebook: undefined }), enrollment.sourcedId, position);
  const klass = enrollment.classSourcedId === undefined ? undefined : await lookups.klass(enrollment.classSourcedId);
  let user: OrUser | undefined;
  let gradebook: GradebookState | undefined;
  if (klass?.status !== 'tobedeleted') {
    user = enrollment.userSourcedId === undefined ? undefined : await lookups.user(enrollment.userSourcedId);
    if (context.options.gradebook && klass !== undefined && user !== undefined) {
      const [lineItems, results] = await Promise.all([lookups.lineItemsOf(klass.sourcedId), lookups.resultsOf(klass.sourcedId, user.sourcedId)]);
      gradebook = gradebookState(lineItems, results);
    }
  }
  return toItem(toRawRecord({ ...common, user, klass, gradebook }), enrollment.sourcedId, position);
}

function isWanted(context: RestContext, enrollment: OrEnrollment): boolean {
  if (enrollment.role !== 'student') return false;
  const classIds = context.options.classIds;
  return classIds === undefined || (enrollment.classSourcedId !== undefined && classIds.has(enrollment.classSourcedId));
}

function invalidEnrollment(json: unknown, index: number): SourceItem {
  const raw = JSON.stringify(json) ?? 'undefined';
  return { kind: 'invalid', key: `oneroster-enrollment:${Buffer.from(raw).toString('base64url').slice(0, 40)}`, reason: `enrollment #${index + 1} of a page has no sourcedId`, position: 'OneRoster enrollments page', raw };
}

/** Runs `task` over `inputs`, a few at a time; the first failure fails the whole and starts nothing more. */
async function withLimit<I, O>(inputs: readonly I[], task: (input: I) => Promise<O>): Promise<O[]> {
  const limit = pLimit(LOOKUP_CONCURRENCY);
  try {
    return await Promise.all(inputs.map((input) => limit(() => task(input))));
  } finally {
    limit.clearQueue();
  }
}

function itemsFor(context: RestContext, lookups: Lookups, enrollments: readonly OrEnrollment[]): Promise<SourceItem[]> {
  return withLimit(enrollments, (e) => itemFor(context, lookups, e));
}

function sortByUpdatedAt(items: SourceItem[]): SourceItem[] {
  const at = (item: SourceItem): string => (item.kind === 'record' ? item.record.updatedAt : (item.updatedAt ?? ''));
  return items.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
}

export async function* listRestPages(context: RestContext, options: ListChangesOptions, settings: PageSettings): AsyncGenerator<ChangePage> {
  const signal = options.abortSignal;
  const opts = signal !== undefined ? { abortSignal: signal } : {};
  const token = settings.continuationToken !== undefined ? decodeContinuation(settings.continuationToken) : undefined;
  const from = token !== undefined ? token.from : options.cursor;
  const start = parseCursor(from);
  const startedAt = token?.startedAt ?? new Date(context.now()).toISOString();
  const limit = Math.min(settings.maxPageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`maxPageSize must be a positive integer (got ${settings.maxPageSize})`);
  const { fullPull, gradebook } = context.options;
  // The results stream needs a mark; the first listing (which reads every enrollment with its results) sets it.
  const readResults = gradebook && !fullPull && start.results !== undefined;
  const lookups = new Lookups(context, opts);
  let marks: Marks = token?.marks ?? start;

  if (token === undefined || token.phase === 'enrollments') {
    const since = minusMs(start.enrollments, context.lookbackMs);
    for await (const page of scan(context, 'rostering', 'enrollments', since, start.enrollments, limit, fullPull, token?.scan, opts)) {
      const invalid: SourceItem[] = [];
      const wanted: OrEnrollment[] = [];
      page.items.forEach((json, i) => {
        const enrollment = readEnrollment(json);
        if (enrollment === undefined) invalid.push(invalidEnrollment(json, i));
        else if (isWanted(context, enrollment) && (!fullPull || since === undefined || enrollment.dateLastModified === undefined || enrollment.dateLastModified >= since)) wanted.push(enrollment);
      });
      const items = sortByUpdatedAt([...invalid, ...(await itemsFor(context, lookups, wanted))]);
      signal?.throwIfAborted();
      const last = page.done && !readResults;
      marks = {
        ...(page.mark !== undefined ? { enrollments: page.mark } : {}),
        // After a first full read the results stream starts at the time this listing began.
        ...(last && gradebook && !fullPull ? { results: start.results ?? startedAt } : start.results !== undefined ? { results: start.results } : {}),
      };
      const continuation: Continuation | undefined = !page.done
        ? { from, startedAt, phase: 'enrollments', scan: page.state, marks }
        : readResults
          ? { from, startedAt, phase: 'results', scan: { from: minusMs(start.results, context.lookbackMs), skip: 0, sorted: true, next: undefined, maxSeen: undefined }, marks }
          : undefined;
      yield { items, cursor: formatCursor(marks), continuationToken: continuation === undefined ? undefined : encodeContinuation(continuation) };
    }
    if (!readResults) return;
  }

  const sinceResults = minusMs(start.results, context.lookbackMs);
  const resume = token?.phase === 'results' ? token.scan : undefined;
  for await (const page of scan(context, 'gradebook', 'results', sinceResults, start.results, limit, false, resume, opts)) {
    // Each changed result names a (class, student) pair; their enrollments are read again with the new progress.
    const pairs = new Map<string, { classId: string; studentId: string }>();
    for (const json of page.items) {
      const result = readResult(json);
      if (result?.studentSourcedId === undefined) continue;
      // `class` is optional on a result: its line item says which class.
      const classId = result.classSourcedId ?? (result.lineItemSourcedId === undefined ? undefined : await lookups.lineItemClass(result.lineItemSourcedId));
      if (classId === undefined) continue;
      if (context.options.classIds !== undefined && !context.options.classIds.has(classId)) continue;
      pairs.set(`${classId}\u0000${result.studentSourcedId}`, { classId, studentId: result.studentSourcedId });
    }
    const found = await withLimit([...pairs.values()], ({ classId, studentId }) =>
      collect(context.client.all(context.client.url('rostering', 'enrollments', { filter: `user.sourcedId=${quote(studentId)} AND class.sourcedId=${quote(classId)}` }), 'enrollments', GRADEBOOK_PAGE, opts), readEnrollment),
    );
    const enrollments = new Map<string, OrEnrollment>();
    for (const list of found) for (const e of list) if (isWanted(context, e)) enrollments.set(e.sourcedId, e);
    const items = sortByUpdatedAt(await itemsFor(context, lookups, [...enrollments.values()]));
    signal?.throwIfAborted();
    marks = { ...marks, ...(page.mark !== undefined ? { results: page.mark } : {}) };
    yield { items, cursor: formatCursor(marks), continuationToken: page.done ? undefined : encodeContinuation({ from, startedAt, phase: 'results', scan: page.state, marks }) };
  }
}

/** The current state of one enrollment (`GET enrollments/{id}`); undefined when unknown or not a student's. */
export async function getRestEnrollment(context: RestContext, enrollmentId: string, options: OperationOptions): Promise<SourceItem | undefined> {
  const json = await context.client.one(context.client.url('rostering', `enrollments/${enrollmentId}`), 'enrollment', options);
  const enrollment = readEnrollment(json);
  if (enrollment === undefined || !isWanted(context, enrollment)) return undefined;
  return itemFor(context, new Lookups(context, options), enrollment);
}
