/**
 * One enrollment's state from its statements (pure). The adapter feeds it the learner's
 * statements about one course, as the LRS returns them (oldest `stored` first, voided ones
 * already left out by the LRS), and reads the canonical record at the end.
 *
 * Rules (docs/adapters/xapi.md):
 * - Only statements by this learner about this course count (see `courseOf`); their verb's
 *   category decides. Statements about a child activity of the course (a module, a quiz
 *   attempt) with a started or completed verb only show that the course was started.
 * - completed is sticky: once a course-level completed verb is seen the status stays
 *   completed, whatever comes after (a learner who reviews a finished course does not
 *   become "in progress" again). completedAt is the first completion's time.
 * - A withdrawn verb withdraws the enrollment (the activity is deleted) until a later
 *   enrolled, started or completed statement brings it back.
 * - An enrolled verb makes the enrollment an assignment (assignedAt = its time, the
 *   assigner = `context.instructor` when it has an e-mail); without one the course is
 *   self-initiated.
 * - Progress is the latest value found in the progress sources of a course-level
 *   statement; 100 once completed.
 */
import type { XapiOptions } from './settings.js';
import { SCORE_SCALED } from './settings.js';
import { actorOf, courseIdFor, courseOf, enrollmentIdFor, isHttpUrl, isObject, pickLanguage, storedOf, verbOf, whenOf, type JsonObject, type XapiActor } from './statements.js';

/** The raw canonical record before `parseEnrollment` (which every adapter passes its output through). */
export type RawRecord = Record<string, unknown>;

interface CourseInfo {
  title?: string;
  language?: string;
  description?: string;
  moreInfo?: string;
}

export class EnrollmentFold {
  #relevant = 0;
  #updatedAt: string | undefined;
  #withdrawn = false;
  #assigned = false;
  #assignedAt: string | undefined;
  #assignerEmail: string | undefined;
  #started = false;
  #startedAt: string | undefined;
  #completed = false;
  #completedAt: string | undefined;
  #progress: number | undefined;
  #learnerEmail: string | undefined;
  #learnerId: string | undefined;
  readonly #course: CourseInfo = {};
  readonly #seen = new Set<string>();

  constructor(
    readonly enrollmentId: string,
    readonly actorKey: string,
    readonly courseIri: string,
    private readonly options: XapiOptions,
  ) {}

  /** Statements that counted. */
  get relevant(): number {
    return this.#relevant;
  }

  /** The latest `stored` (or timestamp) among the statements that counted. */
  get updatedAt(): string | undefined {
    return this.#updatedAt;
  }

  /** Applies one statement; true when it belonged to this enrollment and counted. */
  apply(statement: JsonObject): boolean {
    const id = typeof statement['id'] === 'string' ? statement['id'] : undefined;
    if (id !== undefined) {
      if (this.#seen.has(id)) return false;
      this.#seen.add(id);
    }
    const actor = actorOf(statement['actor']);
    if (actor?.key !== this.actorKey) return false;
    const course = courseOf(statement);
    if (course?.iri !== this.courseIri) return false;
    const verb = verbOf(statement);
    const category = verb === undefined ? undefined : this.options.verbs.get(verb);
    if (category === undefined) return false;
    if (course.level === 'child' && category !== 'started' && category !== 'completed') return false;
    const when = whenOf(statement);
    const stored = storedOf(statement) ?? when;

    this.#relevant += 1;
    if (stored !== undefined && (this.#updatedAt === undefined || stored > this.#updatedAt)) this.#updatedAt = stored;
    this.#learnerId = actor.learnerId;
    if (actor.email !== undefined) this.#learnerEmail = actor.email;
    this.#noteCourse(course.definition, course.level === 'course');

    if (course.level === 'child') {
      this.#start(when);
      return true;
    }
    switch (category) {
      case 'withdrawn':
        this.#withdrawn = true;
        break;
      case 'enrolled': {
        if (this.#withdrawn || this.#assignedAt === undefined) this.#assignedAt = when;
        this.#withdrawn = false;
        this.#assigned = true;
        const instructor = actorOf(isObject(statement['context']) ? statement['context']['instructor'] : undefined);
        if (instructor?.email !== undefined) this.#assignerEmail = instructor.email;
        break;
      }
      case 'started': {
        this.#start(when);
        const progress = this.#progressOf(statement);
        if (progress !== undefined) this.#progress = progress;
        break;
      }
      case 'completed':
        this.#start(when);
        this.#completed = true;
        this.#completedAt ??= when;
        break;
    }
    return true;
  }

  #start(when: string | undefined): void {
    this.#withdrawn = false;
    this.#started = true;
    if (when !== undefined && (this.#startedAt === undefined || when < this.#startedAt)) this.#startedAt = when;
  }

  #noteCourse(definition: JsonObject | undefined, own: boolean): void {
    if (definition === undefined) return;
    const name = pickLanguage(definition['name']);
    // A child statement names the course only through its parent's definition; an own definition wins.
    if (name !== undefined && (own || this.#course.title === undefined)) {
      this.#course.title = name.text;
      this.#course.language = name.language;
    }
    const description = pickLanguage(definition['description']);
    if (description !== undefined && (own || this.#course.description === undefined)) this.#course.description = description.text;
    const moreInfo = typeof definition['moreInfo'] === 'string' ? definition['moreInfo'] : undefined;
    if (isHttpUrl(moreInfo)) this.#course.moreInfo = moreInfo;
  }

  #progressOf(statement: JsonObject): number | undefined {
    const result = isObject(statement['result']) ? statement['result'] : undefined;
    if (result === undefined) return undefined;
    const extensions = isObject(result['extensions']) ? result['extensions'] : {};
    for (const source of this.options.progressSources) {
      let value: unknown;
      if (source === SCORE_SCALED) {
        const score = isObject(result['score']) ? result['score']['scaled'] : undefined;
        value = typeof score === 'number' ? score * 100 : undefined;
      } else {
        value = extensions[source];
      }
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (Number.isFinite(number)) return Math.min(100, Math.max(0, Math.round(number)));
    }
    return undefined;
  }

  /**
   * The canonical record, or undefined when no statement counted. `touchedAt` (the `stored`
   * time of the statement that made the adapter look, e.g. a voiding statement) raises
   * updatedAt, so that a record recomputed after a voiding is newer than the one it replaces.
   */
  result(touchedAt?: string): RawRecord | undefined {
    if (this.#relevant === 0 || this.#updatedAt === undefined) return undefined;
    const updatedAt = touchedAt !== undefined && touchedAt > this.#updatedAt ? touchedAt : this.#updatedAt;
    if (this.#withdrawn) return { enrollmentId: this.enrollmentId, updatedAt, deleted: true };
    const status = this.#completed ? 'completed' : this.#started ? 'inProgress' : this.#assigned ? 'notStarted' : undefined;
    if (status === undefined) return undefined;
    const { title, language, description, moreInfo } = this.#course;
    const dueAt = this.#assigned && this.#assignedAt !== undefined && this.options.dueDays !== undefined ? new Date(Date.parse(this.#assignedAt) + this.options.dueDays * 86_400_000).toISOString() : undefined;
    const progressPercent = status === 'completed' ? 100 : status === 'inProgress' ? this.#progress : undefined;
    return dropUndefined({
      enrollmentId: this.enrollmentId,
      learner: dropUndefined({ id: this.#learnerId, email: this.#learnerEmail }),
      course: dropUndefined({
        id: courseIdFor(this.courseIri),
        title: title ?? this.courseIri,
        // A human page when the definition names one; else the IRI (Moodle's are course pages).
        url: moreInfo ?? this.courseIri,
        description,
        language: language !== undefined && language.toLowerCase() !== 'und' ? language : undefined,
      }),
      source: this.#assigned ? 'assigned' : 'selfInitiated',
      assignmentType: this.#assigned ? this.options.assignmentType : undefined,
      assigner: this.#assigned && this.#assignerEmail !== undefined ? { email: this.#assignerEmail } : undefined,
      assignedAt: this.#assigned ? this.#assignedAt : undefined,
      dueAt,
      startedAt: this.#started ? this.#startedAt : undefined,
      completedAt: this.#completed ? this.#completedAt : undefined,
      status,
      progressPercent,
      updatedAt,
    });
  }
}

function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** The enrollment a statement is about, when its verb means something; an invalid reason when it should and cannot. */
export function enrollmentKeyOf(statement: JsonObject, options: XapiOptions): { actor: XapiActor; courseIri: string } | { invalid: string } | undefined {
  const verb = verbOf(statement);
  const category = verb === undefined ? undefined : options.verbs.get(verb);
  if (category === undefined) return undefined;
  const course = courseOf(statement);
  if (course === undefined) return undefined;
  if (course.level === 'child' && category !== 'started' && category !== 'completed') return undefined;
  if (options.courseIds !== undefined && !options.courseIds.has(course.iri)) return undefined;
  const rawActor = statement['actor'];
  // A Group did this together: Viva activities belong to one learner, so it is not an enrollment.
  if (isObject(rawActor) && rawActor['objectType'] === 'Group') return undefined;
  const actor = actorOf(rawActor);
  if (actor === undefined) return { invalid: 'the actor has no mbox, account, openid or mbox_sha1sum' };
  return { actor, courseIri: course.iri };
}

/**
 * Every enrollment a list of statements makes, folded (as the adapter folds each learner's
 * history): statements grouped by enrollment, in the order given. For tests and tools.
 */
export function foldStatements(statements: readonly JsonObject[], options: XapiOptions): Map<string, RawRecord | undefined> {
  const folds = new Map<string, EnrollmentFold>();
  for (const statement of statements) {
    const key = enrollmentKeyOf(statement, options);
    if (key === undefined || 'invalid' in key) continue;
    const enrollmentId = enrollmentIdFor(key.actor.key, key.courseIri);
    if (!folds.has(enrollmentId)) folds.set(enrollmentId, new EnrollmentFold(enrollmentId, key.actor.key, key.courseIri, options));
  }
  const out = new Map<string, RawRecord | undefined>();
  for (const [enrollmentId, fold] of folds) {
    for (const statement of statements) fold.apply(statement);
    out.set(enrollmentId, fold.result());
  }
  return out;
}
