/**
 * CanvasStandIn: a real node:http server on 127.0.0.1 that answers the slice of the Canvas
 * REST API the canvas adapter uses, the way Canvas publishes it (lms-source-apis.md §3):
 * - bearer token (`Authorization: Bearer …`); a bad or expired token gets 401 with
 *   `WWW-Authenticate` and `{"errors":[{"message":"Invalid access token."}]}`; a missing
 *   permission gets 401 `user not authorized to perform that action` (Canvas uses 401 there);
 * - `Link` pagination with opaque bookmarks (`rel="current"`, `"next"`, `"first"`; no
 *   `"last"`), `per_page` default 10, capped at 100;
 * - enrollments filtered by `type[]` and `state[]` (default active + invited);
 * - `bulk_user_progress` (400 when the course is not module-based) and per-user progress;
 * - the throttle: a leaky bucket per token, `X-Request-Cost` and `X-Rate-Limit-Remaining` on
 *   every response, 403 `403 Forbidden (Rate Limit Exceeded)` when the bucket is empty.
 * Seeded from the real captures in shared/reference/data/canvas (`loadCanvasReference`).
 * Faults (expired token, injected statuses, malformed bodies) are for tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalServer } from './standInHttp.js';

type Json = Record<string, unknown>;

export interface CanvasStandInCourse {
  readonly id: number;
  readonly name: string;
  readonly course_code?: string;
  /** Canvas' course workflow_state: unpublished, available, completed, deleted. */
  readonly workflow_state?: string;
  readonly account_id?: number;
  readonly start_at?: string | null;
  readonly end_at?: string | null;
  readonly term?: Json;
  readonly locale?: string;
  /** Module requirements of the course; 0: not module-based (bulk_user_progress answers 400). */
  readonly requirementCount?: number;
  /** Returned with include[]=public_description. */
  readonly public_description?: string;
  /** Returned with include[]=teachers, as Canvas' UserDisplay objects. */
  readonly teachers?: readonly { readonly id: number; readonly display_name: string }[];
  /** Returned with include[]=course_image. */
  readonly image_download_url?: string;
  readonly course_format?: string;
}

export interface CanvasStandInProgress {
  readonly requirement_completed_count: number;
  readonly completed_at: string | null;
}

export interface CanvasStandInOptions {
  /** The access token the stand-in accepts; default a random one (read it from `.token`). */
  readonly token?: string;
  /** A leaky bucket per token, as Canvas throttles; off unless given. */
  readonly throttle?: { readonly bucket: number; readonly costPerRequest: number; readonly refillPerSecond: number };
}

export interface CanvasRecordedRequest {
  readonly method: string;
  /** Path and query; tokens are never in either (the adapter sends them in a header). */
  readonly url: string;
  readonly status: number;
}

interface Fault {
  readonly match: RegExp;
  remaining: number;
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const DEFAULT_STATES = ['active', 'invited'];

export class CanvasStandIn {
  readonly token: string;
  private readonly courses = new Map<number, CanvasStandInCourse>();
  private readonly enrollments = new Map<number, Json>();
  private readonly progress = new Map<string, CanvasStandInProgress>();
  private readonly log: CanvasRecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private expired = false;
  private deniedPaths: RegExp | undefined;
  private bucketLevel = 0;
  private bucketAt = Date.now();
  private readonly http = new LocalServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => this.send(res, req, 500, { errors: [{ message: err instanceof Error ? err.message : String(err) }] }));
  });

  constructor(private readonly options: CanvasStandInOptions = {}) {
    this.token = options.token ?? `canvas-${randomBytes(12).toString('hex')}`;
  }

  start(port = 0): Promise<string> {
    return this.http.start(port);
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** The root URL once started ("http://127.0.0.1:PORT"), empty before. */
  get baseUrl(): string {
    return this.http.origin ?? '';
  }

  // ---- data ---------------------------------------------------------------------------

  addCourse(course: CanvasStandInCourse): void {
    this.courses.set(course.id, { workflow_state: 'available', requirementCount: 0, ...course });
  }

  /** Adds or replaces an Enrollment object (Canvas' shape, as in the captures). */
  addEnrollment(enrollment: Json): void {
    const id = Number(enrollment['id']);
    if (!Number.isSafeInteger(id)) throw new TypeError('an enrollment needs a numeric id');
    this.enrollments.set(id, structuredClone(enrollment));
  }

  /** Changes an enrollment as Canvas would: the fields, and updated_at (now unless given). */
  updateEnrollment(id: number, patch: Json): void {
    const current = this.enrollments.get(id);
    if (current === undefined) throw new Error(`no enrollment ${id}`);
    this.enrollments.set(id, { ...current, updated_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...patch });
  }

  enrollment(id: number): Json | undefined {
    const e = this.enrollments.get(id);
    return e === undefined ? undefined : structuredClone(e);
  }

  /** Module progress of one student (context-module progressions: enrollment.updated_at does not move). */
  setProgress(courseId: number, userId: number, progress: CanvasStandInProgress): void {
    this.progress.set(`${courseId}:${userId}`, progress);
  }

  // ---- faults and observation -----------------------------------------------------------

  /** Every token is refused from now on, as after its expiry. */
  expireToken(expired = true): void {
    this.expired = expired;
  }

  /** Requests whose path matches get Canvas' "not authorized" 401 (a missing permission). */
  denyPaths(match: RegExp | undefined): void {
    this.deniedPaths = match;
  }

  /** The next `count` requests whose path matches get this answer instead. */
  failNext(match: RegExp, count: number, status: number, body: string, headers: Record<string, string> = {}): void {
    this.faults.push({ match, remaining: count, status, body, headers });
  }

  /** The next `count` matching requests get 200 with a truncated JSON body. */
  malformNext(match: RegExp, count: number): void {
    this.failNext(match, count, 200, '[{"id": 1, "course_id": ', { 'content-type': 'application/json; charset=utf-8' });
  }

  /** The next `count` matching requests are throttled (403 Rate Limit Exceeded). */
  throttleNext(match: RegExp, count: number): void {
    this.failNext(match, count, 403, '403 Forbidden (Rate Limit Exceeded)', { 'x-rate-limit-remaining': '0', 'content-type': 'text/plain' });
  }

  requests(): readonly CanvasRecordedRequest[] {
    return [...this.log];
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private send(res: ServerResponse, req: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    this.log.push({ method: req.method ?? 'GET', url: req.url ?? '/', status });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...this.throttleHeaders(), ...headers });
    res.end(text);
  }

  private throttleHeaders(): Record<string, string> {
    const t = this.options.throttle;
    if (t === undefined) return { 'x-request-cost': '0.1' };
    return { 'x-request-cost': String(t.costPerRequest), 'x-rate-limit-remaining': (t.bucket - this.bucketLevel).toFixed(1) };
  }

  /** Leaky bucket: every request adds its cost; the bucket drains at refillPerSecond. */
  private throttled(): boolean {
    const t = this.options.throttle;
    if (t === undefined) return false;
    const now = Date.now();
    this.bucketLevel = Math.max(0, this.bucketLevel - ((now - this.bucketAt) / 1000) * t.refillPerSecond);
    this.bucketAt = now;
    if (this.bucketLevel + t.costPerRequest > t.bucket) return true;
    this.bucketLevel += t.costPerRequest;
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (req.method !== 'GET') return this.send(res, req, 404, { errors: [{ message: 'The specified resource does not exist.' }] });
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1] ?? url.searchParams.get('access_token') ?? undefined;
    if (token === undefined || token !== this.token || this.expired) {
      return this.send(res, req, 401, { errors: [{ message: 'Invalid access token.' }] }, { 'www-authenticate': 'Bearer realm="canvas-lms"' });
    }
    const fault = this.faults.find((f) => f.remaining > 0 && f.match.test(url.pathname));
    if (fault !== undefined) {
      fault.remaining -= 1;
      return this.send(res, req, fault.status, fault.body, fault.headers);
    }
    if (this.throttled()) return this.send(res, req, 403, '403 Forbidden (Rate Limit Exceeded)', { 'content-type': 'text/plain; charset=utf-8' });
    if (this.deniedPaths?.test(url.pathname) === true) {
      return this.send(res, req, 401, { status: 'unauthorized', errors: [{ message: 'user not authorized to perform that action' }] });
    }
    const route = routeOf(url.pathname);
    switch (route?.name) {
      case 'accountCourses':
        return this.paged(req, res, url, this.accountCourses(url));
      case 'course': {
        const course = this.visibleCourse(route.id);
        return course === undefined ? this.notFound(req, res) : this.send(res, req, 200, this.courseJson(course, url));
      }
      case 'enrollments': {
        if (this.visibleCourse(route.id) === undefined) return this.notFound(req, res);
        return this.paged(req, res, url, this.courseEnrollments(route.id, url));
      }
      case 'bulkProgress': {
        const course = this.visibleCourse(route.id);
        if (course === undefined) return this.notFound(req, res);
        if ((course.requirementCount ?? 0) === 0) return this.notModuleBased(req, res);
        return this.paged(req, res, url, this.bulkProgress(course));
      }
      case 'userProgress': {
        const course = this.visibleCourse(route.id);
        if (course === undefined) return this.notFound(req, res);
        if ((course.requirementCount ?? 0) === 0) return this.notModuleBased(req, res);
        const student = [...this.enrollments.values()].some((e) => Number(e['course_id']) === course.id && Number(e['user_id']) === route.user && e['type'] === 'StudentEnrollment');
        return student ? this.send(res, req, 200, this.progressJson(course, route.user)) : this.notFound(req, res);
      }
      case 'enrollmentById': {
        const e = this.enrollments.get(route.id);
        return e === undefined ? this.notFound(req, res) : this.send(res, req, 200, e);
      }
      default:
        return this.notFound(req, res);
    }
  }

  private notFound(req: IncomingMessage, res: ServerResponse): void {
    this.send(res, req, 404, { errors: [{ message: 'The specified resource does not exist.' }] });
  }

  private notModuleBased(req: IncomingMessage, res: ServerResponse): void {
    this.send(res, req, 400, { error: { message: 'No progress available because this course is not module based (has modules and module completion requirements) or the user is not enrolled as a student in this course.' } });
  }

  private visibleCourse(id: number): CanvasStandInCourse | undefined {
    const course = this.courses.get(id);
    return course === undefined || course.workflow_state === 'deleted' ? undefined : course;
  }

  private courseJson(course: CanvasStandInCourse, url: URL): Json {
    const { requirementCount: _r, term, public_description, teachers, image_download_url, ...rest } = course;
    const include = url.searchParams.getAll('include[]');
    const endAt = course.end_at ?? (typeof term?.['end_at'] === 'string' ? term['end_at'] : null);
    return {
      course_code: course.name,
      start_at: null,
      end_at: null,
      ...rest,
      ...(include.includes('term') && term !== undefined ? { term } : {}),
      ...(include.includes('public_description') ? { public_description: public_description ?? null } : {}),
      ...(include.includes('teachers') ? { teachers: teachers ?? [] } : {}),
      ...(include.includes('course_image') ? { image_download_url: image_download_url ?? null } : {}),
      ...(include.includes('concluded') ? { concluded: course.workflow_state === 'completed' || (endAt !== null && Date.parse(endAt) <= Date.now()) } : {}),
    };
  }

  private accountCourses(url: URL): Json[] {
    const states = url.searchParams.getAll('state[]');
    const withEnrollments = url.searchParams.get('with_enrollments') === 'true';
    const types = url.searchParams.getAll('enrollment_type[]').map((t) => `${t[0]?.toUpperCase() ?? ''}${t.slice(1)}Enrollment`);
    return [...this.courses.values()]
      .filter((c) => (states.length > 0 ? states.includes(c.workflow_state ?? 'available') : c.workflow_state !== 'deleted'))
      .filter((c) => {
        if (!withEnrollments && types.length === 0) return true;
        return [...this.enrollments.values()].some((e) => Number(e['course_id']) === c.id && (types.length === 0 || types.includes(String(e['type']))) && e['enrollment_state'] !== 'deleted');
      })
      .sort((a, b) => a.id - b.id)
      .map((c) => this.courseJson(c, url));
  }

  private courseEnrollments(courseId: number, url: URL): Json[] {
    const types = url.searchParams.getAll('type[]');
    const states = url.searchParams.getAll('state[]');
    const wanted = states.length > 0 ? states : DEFAULT_STATES;
    return [...this.enrollments.values()]
      .filter((e) => Number(e['course_id']) === courseId && (types.length === 0 || types.includes(String(e['type']))) && wanted.includes(String(e['enrollment_state'])))
      .sort((a, b) => Number(a['id']) - Number(b['id']));
  }

  private progressJson(course: CanvasStandInCourse, userId: number): Json {
    const p = this.progress.get(`${course.id}:${userId}`) ?? { requirement_completed_count: 0, completed_at: null };
    const done = p.requirement_completed_count >= (course.requirementCount ?? 0);
    return {
      requirement_count: course.requirementCount ?? 0,
      requirement_completed_count: p.requirement_completed_count,
      next_requirement_url: done ? null : `${this.baseUrl}/courses/${course.id}/modules/items/${1000 + p.requirement_completed_count}`,
      completed_at: p.completed_at,
    };
  }

  private bulkProgress(course: CanvasStandInCourse): Json[] {
    const users = new Map<number, Json>();
    for (const e of this.enrollments.values()) {
      if (Number(e['course_id']) !== course.id || e['type'] !== 'StudentEnrollment' || !['active', 'invited', 'completed'].includes(String(e['enrollment_state']))) continue;
      const userId = Number(e['user_id']);
      const user = (e['user'] ?? {}) as Json;
      users.set(userId, {
        id: userId,
        display_name: user['name'] ?? `User ${userId}`,
        avatar_image_url: `${this.baseUrl}/images/messages/avatar-50.png`,
        html_url: `${this.baseUrl}/courses/${course.id}/users/${userId}`,
        pronouns: null,
        progress: this.progressJson(course, userId),
      });
    }
    return [...users.values()].sort((a, b) => Number(a['id']) - Number(b['id']));
  }

  /** Bookmark pagination over rows sorted by id: the bookmark is the last id of the page, opaque to clients. */
  private paged(req: IncomingMessage, res: ServerResponse, url: URL, rows: readonly Json[]): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? '10') || 10));
    const page = url.searchParams.get('page') ?? 'first';
    let after = -Infinity;
    if (page !== 'first' && page !== '1') {
      const match = /^bookmark:(.+)$/.exec(page);
      try {
        const decoded = JSON.parse(Buffer.from(match?.[1] ?? '', 'base64url').toString('utf8')) as unknown;
        if (!Array.isArray(decoded) || typeof decoded[0] !== 'number') throw new Error('bad');
        after = decoded[0];
      } catch {
        return this.send(res, req, 400, { errors: [{ message: 'invalid bookmark' }] });
      }
    }
    const rest = rows.filter((r) => Number(r['id']) > after);
    const slice = rest.slice(0, perPage);
    const link = (p: string): string => {
      const u = new URL(url.href);
      u.searchParams.set('page', p);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.delete('access_token');
      return u.href;
    };
    const parts = [`<${link(page)}>; rel="current"`];
    const last = slice[slice.length - 1];
    if (rest.length > perPage && last !== undefined) parts.push(`<${link(`bookmark:${Buffer.from(JSON.stringify([Number(last['id'])])).toString('base64url')}`)}>; rel="next"`);
    parts.push(`<${link('first')}>; rel="first"`);
    this.send(res, req, 200, slice, { link: parts.join(',') });
  }
}

type Route =
  | { name: 'accountCourses' }
  | { name: 'course' | 'enrollments' | 'bulkProgress' | 'enrollmentById'; id: number }
  | { name: 'userProgress'; id: number; user: number };

function routeOf(path: string): Route | undefined {
  let m = /^\/api\/v1\/accounts\/(self|\d+)\/courses$/.exec(path);
  if (m !== null) return { name: 'accountCourses' };
  m = /^\/api\/v1\/accounts\/(?:self|\d+)\/enrollments\/(\d+)$/.exec(path);
  if (m !== null) return { name: 'enrollmentById', id: Number(m[1]) };
  m = /^\/api\/v1\/courses\/(\d+)$/.exec(path);
  if (m !== null) return { name: 'course', id: Number(m[1]) };
  m = /^\/api\/v1\/courses\/(\d+)\/enrollments$/.exec(path);
  if (m !== null) return { name: 'enrollments', id: Number(m[1]) };
  m = /^\/api\/v1\/courses\/(\d+)\/bulk_user_progress$/.exec(path);
  if (m !== null) return { name: 'bulkProgress', id: Number(m[1]) };
  m = /^\/api\/v1\/courses\/(\d+)\/users\/(\d+)\/progress$/.exec(path);
  if (m !== null) return { name: 'userProgress', id: Number(m[1]), user: Number(m[2]) };
  return undefined;
}

// ---- the real reference data ------------------------------------------------------------

export interface CanvasReference {
  /** GET /api/v1/courses/:id/enrollments, captured (canvas-android EnrollmentUnitTest). */
  readonly enrollments: readonly Json[];
  /** GET /api/v1/users/self/favorites/courses, captured (canvas-android CourseUnitTest). */
  readonly courses: readonly Json[];
  /** The docs example of bulk_user_progress (rows with `progress`). */
  readonly bulkProgress: readonly Json[];
}

/** Reads shared/reference/data/canvas/api (see its README for the sources). */
export function loadCanvasReference(dataDir: string): CanvasReference {
  const read = (name: string): Json[] => JSON.parse(readFileSync(join(dataDir, 'canvas', 'api', name), 'utf8')) as Json[];
  return {
    enrollments: read('canvas-course-enrollments.captured.json'),
    courses: read('canvas-favorite-courses-with-enrollments.captured.json'),
    bulkProgress: read('bulk_user_progress.docs-example.json'),
  };
}

/**
 * Seeds the stand-in with the captured courses and enrollments. The docs' bulk_user_progress
 * rows are laid on the captured course's students in order (the docs use placeholder users),
 * with its requirement count; so the captured student is in progress (1 of 2).
 */
export function seedCanvasReference(standIn: CanvasStandIn, ref: CanvasReference): { readonly courseId: number; readonly requirementCount: number } {
  const enrolledCourse = Number(ref.enrollments[0]?.['course_id']);
  const requirementCount = Number(((ref.bulkProgress[0]?.['progress'] ?? {}) as Json)['requirement_count'] ?? 0);
  for (const c of ref.courses) {
    const id = Number(c['id']);
    standIn.addCourse({
      id,
      name: String(c['name']),
      course_code: String(c['course_code'] ?? c['name']),
      workflow_state: String(c['workflow_state'] ?? 'available'),
      account_id: Number(c['account_id']),
      start_at: (c['start_at'] as string | null | undefined) ?? null,
      end_at: (c['end_at'] as string | null | undefined) ?? null,
      ...(typeof c['term'] === 'object' && c['term'] !== null ? { term: c['term'] as Json } : {}),
      requirementCount: id === enrolledCourse ? requirementCount : 0,
    });
  }
  for (const e of ref.enrollments) standIn.addEnrollment(e);
  const students = ref.enrollments.filter((e) => e['type'] === 'StudentEnrollment');
  ref.bulkProgress.forEach((row, i) => {
    const student = students[i];
    const p = (row['progress'] ?? {}) as Json;
    if (student !== undefined) standIn.setProgress(enrolledCourse, Number(student['user_id']), { requirement_completed_count: Number(p['requirement_completed_count'] ?? 0), completed_at: (p['completed_at'] as string | null | undefined) ?? null });
  });
  return { courseId: enrolledCourse, requirementCount };
}

/** `node dist/src/sandbox/lms/canvasStandIn.js [port] [reference data dir]`: serves the captures, prints the settings to use. */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? '0');
  const dataDir = resolve(process.argv[3] ?? '../shared/reference/data');
  const standIn = new CanvasStandIn();
  // From a clone, with no reference data beside it: the generated demo data (./demoData.ts).
  if (existsSync(join(dataDir, 'canvas'))) seedCanvasReference(standIn, loadCanvasReference(dataDir));
  else (await import('./demoData.js')).seedCanvasDemo(standIn);
  const baseUrl = await standIn.start(port);
  process.stdout.write(`Canvas stand-in on ${baseUrl}\n  LMS_ADAPTER=canvas\n  LMS_BASE_URL=${baseUrl}\n  LMS_TOKEN=${standIn.token}\n`);
  process.once('SIGINT', () => void standIn.stop());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
