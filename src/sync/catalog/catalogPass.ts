/**
 * The catalog pass (SYNC_CATALOG=all; DESIGN.md, "The course catalog"): every course the LMS
 * lists becomes learningContent, enrolled or not, with its own cursor and the content ledger
 * (the Contents table) as its memory. A course's content is written only when the body's
 * fingerprint changed, so an unchanged catalog costs no Graph request. A course that turns
 * inactive, or that a complete listing no longer names, is retired (`isActive: false`, never
 * a DELETE); one that comes back is re-activated. A listing that did not reach its end retires
 * nothing by absence. It runs under the run's lease, before the enrollment pass.
 */
import { classifyGraphFailure, isBudgetExhaustedError, isGraphRequestError } from '../../graph/errors.js';
import type { VivaGateway } from '../../graph/gateway.js';
import type { CatalogItem, LmsAdapter } from '../../lms/types.js';
import type { CatalogCourse } from '../../mapping/catalogCourse.js';
import { contentFingerprint } from '../../mapping/toContent.js';
import { retiredContentBody, toCatalogContentBody } from '../../mapping/toCatalogContent.js';
import type { LearningContentBody } from '../../mapping/graphTypes.js';
import type { ContentEntry, ContentStatusRow, ContentStore, CursorStore, DeadLetterStore } from '../../state/types.js';
import { CursorConflictError } from '../../state/types.js';
import { MAX_STRING_LENGTH } from '../../state/tableClients.js';
import type { TimeBudget } from '../budget.js';
import { recordFailure } from '../deadLetters.js';
import type { Logger } from '../logger.js';
import { capacityOf, type Capacity } from './capacity.js';

export interface CatalogCounts {
  read: number;
  created: number;
  updated: number;
  retired: number;
  unchanged: number;
  failed: number;
}

/** What the run summary reports of the catalog pass (`catalog` in `sync --json`). */
export interface CatalogSummary extends CatalogCounts {
  /** False when the pass stopped early (budget, cancel, a fatal Graph error): nothing was retired by absence. */
  readonly finished: boolean;
  /** Finished, and the listing named the whole catalog: courses it no longer names were retired. */
  readonly complete: boolean;
  readonly cursor: { readonly before: string | null; readonly after: string | null };
  readonly capacity: Capacity;
  /** Why the pass stopped early, when it did. */
  readonly message?: string;
  /** A Graph failure that stops the whole run (credentials, permissions). */
  readonly fatal?: string;
}

export interface CatalogPassDeps {
  readonly adapter: LmsAdapter;
  readonly gateway: VivaGateway;
  readonly contents: ContentStore;
  readonly cursor: CursorStore;
  readonly deadLetters: DeadLetterStore;
  readonly logger: Logger;
  readonly budget: TimeBudget;
  readonly runId: string;
  readonly abortSignal: AbortSignal;
}

export interface CatalogPassOptions {
  /** Ignore the catalog cursor. */
  readonly full?: boolean;
  readonly pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 200;

type Outcome =
  | { readonly kind: 'written'; readonly entry: ContentEntry; readonly count: 'created' | 'updated' | 'retired' }
  | { readonly kind: 'failed'; readonly course: CatalogCourse; readonly reason: string; readonly code?: string; readonly statusCode?: number; readonly position?: string }
  | { readonly kind: 'stopped'; readonly reason: string; readonly fatal: boolean };

/** Runs the catalog pass; undefined when the adapter cannot list courses. */
export async function runCatalogPass(deps: CatalogPassDeps, options: CatalogPassOptions = {}): Promise<CatalogSummary | undefined> {
  if (deps.adapter.listCatalog === undefined) return undefined;
  return new CatalogPass(deps).run(deps.adapter.listCatalog.bind(deps.adapter), options);
}

class CatalogPass {
  readonly counts: CatalogCounts = { read: 0, created: 0, updated: 0, retired: 0, unchanged: 0, failed: 0 };
  /** Every content row, by course id, as the pass starts (and as it writes). */
  private readonly known = new Map<string, ContentStatusRow>();
  private readonly seen = new Set<string>();
  private stop: { reason: string; fatal: boolean } | undefined;

  constructor(private readonly deps: CatalogPassDeps) {}

  async run(listCatalog: NonNullable<LmsAdapter['listCatalog']>, options: CatalogPassOptions): Promise<CatalogSummary> {
    const { deps } = this;
    const opts = { abortSignal: deps.abortSignal };
    for await (const row of deps.contents.listStatus(opts)) this.known.set(row.externalId, row);
    const stored = await deps.cursor.get(opts);
    let etag = stored.etag;
    let cursorAfter = stored.value;
    const listing = listCatalog({ ...(options.full === true || stored.value === undefined ? {} : { cursor: stored.value }), abortSignal: deps.abortSignal });
    let reachedEnd = true;
    for await (const page of listing.byPage({ maxPageSize: options.pageSize ?? DEFAULT_PAGE_SIZE })) {
      if (deps.budget.exhausted()) {
        this.stop ??= { reason: 'the time budget was spent', fatal: false };
      }
      if (this.stop !== undefined) {
        reachedEnd = false;
        break;
      }
      await this.handlePage(page.items);
      if (this.stop !== undefined) {
        reachedEnd = false;
        break;
      }
      if (page.cursor !== undefined && page.cursor !== cursorAfter) {
        try {
          etag = await deps.cursor.save({ value: page.cursor, ledgerComplete: listing.complete, runId: deps.runId }, etag, opts);
        } catch (err) {
          if (err instanceof CursorConflictError) throw new Error('The catalog cursor was moved by another run during this run; stopping without overwriting it.');
          throw err;
        }
        cursorAfter = page.cursor;
      }
    }
    const complete = reachedEnd && listing.complete;
    if (complete) await this.retireAbsent();
    const summary: CatalogSummary = {
      ...this.counts,
      finished: reachedEnd,
      complete,
      cursor: { before: stored.value ?? null, after: cursorAfter ?? null },
      capacity: capacityOf(this.known.values()),
      ...(this.stop !== undefined ? { message: `the catalog pass stopped early: ${this.stop.reason}` } : {}),
      ...(this.stop?.fatal === true ? { fatal: this.stop.reason } : {}),
    };
    deps.logger.info('Catalog pass finished', { runId: deps.runId, complete, created: summary.created, updated: summary.updated, retired: summary.retired, unchanged: summary.unchanged, failed: summary.failed });
    return summary;
  }

  private async handlePage(items: readonly CatalogItem[]): Promise<void> {
    this.counts.read += items.length;
    // One write per course per page: a course named twice is taken as its last row says.
    const courses = new Map<string, { course: CatalogCourse; position: string }>();
    for (const item of items) {
      if (item.kind === 'course') {
        courses.set(item.course.id, { course: item.course, position: item.position });
        this.seen.add(item.course.id);
        continue;
      }
      // A row that cannot be read still names its course: it is not absent, so not retired.
      if (item.id !== undefined) this.seen.add(item.id);
      const recorded = await recordFailure(this.deps.deadLetters, { key: item.key, kind: 'invalid', reason: `catalog: ${item.reason}`, record: item.raw, position: item.position }, new Date(), { abortSignal: this.deps.abortSignal });
      if (recorded) this.counts.failed += 1;
      else this.counts.unchanged += 1;
    }
    this.counts.unchanged += items.filter((i) => i.kind === 'course').length - courses.size;
    const work: Promise<Outcome>[] = [];
    for (const { course, position } of courses.values()) {
      const body = toCatalogContentBody(course);
      const fingerprint = contentFingerprint(body);
      const known = this.known.get(course.id);
      if (known?.origin === 'catalog' && known.fingerprint === fingerprint) {
        this.counts.unchanged += 1;
        continue;
      }
      // A course listed as retired is written too (inactive): its enrollments' activities, and their
      // completion history, need its content, and the enrollment pass must not create it active.
      const count = !course.active ? 'retired' : known === undefined ? 'created' : 'updated';
      work.push(this.write(course.id, body, fingerprint, count, course, position));
    }
    await this.settle(await Promise.all(work));
  }

  /** After a complete listing: every course the catalog once listed and no longer names is retired. */
  private async retireAbsent(): Promise<void> {
    const absent = [...this.known.values()].filter((row) => row.origin === 'catalog' && row.active !== false && !this.seen.has(row.externalId)).map((row) => row.externalId);
    for (let i = 0; i < absent.length && this.stop === undefined; i += DEFAULT_PAGE_SIZE) {
      const ids = absent.slice(i, i + DEFAULT_PAGE_SIZE);
      const entries = await this.deps.contents.getMany(ids, { abortSignal: this.deps.abortSignal });
      const work: Promise<Outcome>[] = [];
      for (const id of ids) {
        const stored = entries.get(id)?.body;
        if (stored === undefined) continue;
        const body = retiredContentBody(JSON.parse(stored) as LearningContentBody);
        work.push(this.write(id, body, contentFingerprint(body), 'retired'));
      }
      await this.settle(await Promise.all(work));
    }
    if (absent.length > 0) this.deps.logger.info('Retired courses the complete catalog no longer lists', { runId: this.deps.runId, courses: absent.length });
  }

  private async write(courseId: string, body: LearningContentBody, fingerprint: string, count: 'created' | 'updated' | 'retired', course?: CatalogCourse, position?: string): Promise<Outcome> {
    if (this.stop !== undefined) return { kind: 'stopped', ...this.stop };
    try {
      const { id } = await this.deps.gateway.upsertContent(courseId, body, { abortSignal: this.deps.abortSignal });
      const entry: ContentEntry = { externalId: courseId, vivaId: id, fingerprint, origin: 'catalog', active: body.isActive !== false, body: storableBody(body), updatedAt: new Date().toISOString() };
      return { kind: 'written', entry, count };
    } catch (err) {
      if (isBudgetExhaustedError(err) || this.deps.abortSignal.aborted || (err instanceof Error && err.name === 'AbortError')) {
        return { kind: 'stopped', reason: err instanceof Error ? err.message : 'the run was cancelled', fatal: false };
      }
      const failure = classifyGraphFailure(err);
      if (failure.scope === 'tenant') return { kind: 'stopped', reason: failure.reason, fatal: true };
      return {
        kind: 'failed',
        course: course ?? { id: courseId, title: body.title, url: body.contentWebUrl, active: body.isActive !== false },
        reason: failure.reason,
        ...(isGraphRequestError(err) ? { code: err.code, statusCode: err.statusCode } : {}),
        ...(position !== undefined ? { position } : {}),
      };
    }
  }

  private async settle(outcomes: readonly Outcome[]): Promise<void> {
    const entries: ContentEntry[] = [];
    const opts = { abortSignal: this.deps.abortSignal };
    for (const outcome of outcomes) {
      if (outcome.kind === 'written') {
        entries.push(outcome.entry);
        this.counts[outcome.count] += 1;
      } else if (outcome.kind === 'failed') {
        this.counts.failed += 1;
        await recordFailure(
          this.deps.deadLetters,
          {
            key: `catalog:${outcome.course.id}`,
            kind: 'write',
            reason: `catalog: ${outcome.reason}`,
            record: JSON.stringify(outcome.course),
            ...(outcome.code !== undefined ? { code: outcome.code } : {}),
            ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}),
            ...(outcome.position !== undefined ? { position: outcome.position } : {}),
          },
          new Date(),
          opts,
        );
        this.deps.logger.warn('Catalog course dead-lettered', { runId: this.deps.runId, course: outcome.course.id, reason: outcome.reason });
      } else {
        this.stop ??= { reason: outcome.reason, fatal: outcome.fatal };
      }
    }
    // Content rows first: what was written is known even if the pass stops here.
    if (entries.length > 0) await this.deps.contents.putMany(entries, opts);
    for (const entry of entries) {
      this.known.set(entry.externalId, { externalId: entry.externalId, vivaId: entry.vivaId, fingerprint: entry.fingerprint, origin: 'catalog', ...(entry.active === false ? { active: false } : {}) });
    }
    const cleared = await this.deps.deadLetters.existing(entries.map((e) => `catalog:${e.externalId}`), opts);
    for (const key of cleared) await this.deps.deadLetters.delete(key, opts);
  }
}

/** The body as stored for a later retirement; a description too long for one table property is cut. */
function storableBody(body: LearningContentBody): string {
  const json = JSON.stringify(body);
  if (json.length <= MAX_STRING_LENGTH || body.description === undefined) return json;
  const excess = json.length - MAX_STRING_LENGTH + 64;
  return JSON.stringify({ ...body, description: body.description.slice(0, Math.max(0, body.description.length - excess)) });
}
