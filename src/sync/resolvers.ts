import type { VivaGateway } from '../graph/gateway.js';
import { isWithdrawal, type Course, type EnrollmentRecord } from '../mapping/enrollment.js';
import { learnerKey, type LearnerMatch, type LearnerRef } from '../mapping/learnerRef.js';
import { toActivityDraft } from '../mapping/toActivity.js';
import { contentFingerprint, toContentBody } from '../mapping/toContent.js';
import type { ContentStore, LearnerCache, LearnerCacheEntry } from '../state/types.js';

const FOUND_TTL_MS = 7 * 24 * 3600_000;
// A missing user is often created a little later (new hire): ask again soon.
const NOT_FOUND_TTL_MS = 3600_000;

export interface ResolveOptions {
  readonly abortSignal?: AbortSignal;
}

/**
 * Content ids, upserting a course only when it is new or its metadata changed. One promise
 * per course per run, so concurrent activities of one course cause one upsert.
 */
export class ContentResolver {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** `catalog`: the catalog pass owns this content's metadata and active state; enrollments only use its id. */
  private known = new Map<string, { vivaId: string; fingerprint: string; catalog: boolean }>();
  /** Courses a prefetch found no row for: their first resolve upserts without reading the row again. */
  private readonly absent = new Set<string>();

  constructor(
    private readonly gateway: VivaGateway,
    private readonly store: ContentStore,
  ) {}

  /** Loads what the state knows of these courses in one batched read. */
  async prefetch(courseIds: readonly string[], options?: ResolveOptions): Promise<void> {
    const missing = [...new Set(courseIds)].filter((id) => !this.known.has(id) && !this.absent.has(id));
    if (missing.length === 0) return;
    const entries = await this.store.getMany(missing, options);
    for (const [id, entry] of entries) this.known.set(id, { vivaId: entry.vivaId, fingerprint: entry.fingerprint, catalog: entry.origin === 'catalog' });
    for (const id of missing) if (!entries.has(id)) this.absent.add(id);
  }

  resolve(course: Course, options?: ResolveOptions): Promise<string> {
    const body = toContentBody(course);
    const fingerprint = contentFingerprint(body);
    const key = `${course.id}\u0000${fingerprint}`;
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.upsertIfChanged(course.id, body, fingerprint, options);
      this.inFlight.set(key, pending);
      // A failed upsert must be retried by the next record, not remembered.
      pending.catch(() => this.inFlight.delete(key));
    }
    return pending;
  }

  private async upsertIfChanged(courseId: string, body: ReturnType<typeof toContentBody>, fingerprint: string, options?: ResolveOptions): Promise<string> {
    if (!this.known.has(courseId) && !this.absent.delete(courseId)) await this.prefetch([courseId], options);
    const known = this.known.get(courseId);
    // Catalog content keeps the catalog's richer metadata and its retirement: an enrollment neither overwrites nor re-activates it.
    if (known !== undefined && (known.catalog || known.fingerprint === fingerprint)) return known.vivaId;
    const { id } = await this.gateway.upsertContent(courseId, body, options);
    await this.store.put({ externalId: courseId, vivaId: id, fingerprint }, options);
    this.known.set(courseId, { vivaId: id, fingerprint, catalog: false });
    return id;
  }
}

/** Entra object ids for learner references, cached in the state with an expiry. */
export class LearnerResolver {
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  /** Cache rows read ahead (`prefetch`), each used by the first lookup of its learner. */
  private readonly readAhead = new Map<string, Promise<LearnerCacheEntry | undefined>>();

  constructor(
    private readonly gateway: VivaGateway,
    private readonly cache: LearnerCache,
  ) {}

  resolve(ref: LearnerRef, options?: ResolveOptions): Promise<string | undefined> {
    if (ref.match === 'id') return Promise.resolve(ref.value);
    const key = learnerKey(ref);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.lookup(ref, key, options);
      this.inFlight.set(key, pending);
      pending.catch(() => this.inFlight.delete(key));
    }
    return pending;
  }

  /** Starts reading these learners' cache rows (the state only, never Graph); their first resolve uses them. */
  prefetch(refs: readonly LearnerRef[], options?: ResolveOptions): void {
    for (const ref of refs) {
      const key = learnerKey(ref);
      if (ref.match === 'id' || this.readAhead.has(key) || this.inFlight.has(key)) continue;
      const read = this.cache.get(key, FOUND_TTL_MS, options);
      // A failed read is reported by the lookup that uses it, if any.
      read.catch(() => undefined);
      this.readAhead.set(key, read);
    }
  }

  private async lookup(ref: LearnerRef, key: string, options?: ResolveOptions): Promise<string | undefined> {
    const ahead = this.readAhead.get(key);
    this.readAhead.delete(key);
    const cached = await (ahead ?? this.cache.get(key, FOUND_TTL_MS, options));
    if (cached?.kind === 'found') return cached.objectId;
    if (cached?.kind === 'notFound' && Date.now() - Date.parse(cached.resolvedAt) < NOT_FOUND_TTL_MS) return undefined;
    const objectId = await this.gateway.findUser(ref, options);
    const resolvedAt = new Date().toISOString();
    await this.cache.put(key, objectId === undefined ? { kind: 'notFound', resolvedAt } : { kind: 'found', objectId, resolvedAt }, options);
    return objectId;
  }
}

/**
 * The single-record path: reads the content and learner cache rows its records will need, with
 * the run's starting state instead of after planning. Storage reads only: a record that turns
 * out unchanged costs no Graph request.
 */
export async function readReferencesAhead(
  records: readonly EnrollmentRecord[],
  resolvers: { readonly contents: ContentResolver; readonly learners: LearnerResolver; readonly learnerMatch: LearnerMatch },
  options?: ResolveOptions,
): Promise<void> {
  const drafts = records.flatMap((record) => {
    if (isWithdrawal(record)) return [];
    const mapped = toActivityDraft(record, resolvers.learnerMatch);
    return mapped.ok ? [mapped.draft] : [];
  });
  resolvers.learners.prefetch(drafts.flatMap((d) => (d.assigner === undefined ? [d.learner] : [d.learner, d.assigner])), options);
  await resolvers.contents.prefetch(drafts.map((d) => d.course.id), options);
}
