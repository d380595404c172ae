/**
 * xAPI statements → canonical enrollments, from the real statements in
 * shared/reference/data/xapi (moodle-logstore_xapi output, the official cmi5 scenarios, the
 * ADL spec examples, a vendor's statement). Pure: no LRS.
 */
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/config/errors.js';
import type { ApiLmsSettings } from '../../src/config/loadConfig.js';
import { parseEnrollment } from '../../src/mapping/enrollment.js';
import { EnrollmentFold, foldStatements } from '../../src/lms/xapi/fold.js';
import { readXapiOptions, type XapiOptions } from '../../src/lms/xapi/settings.js';
import { actorOf, courseOf, enrollmentIdFor, parseEnrollmentId, type JsonObject } from '../../src/lms/xapi/statements.js';
import { asLearner, cmi5Scenario, moodleStatements, referenceJson } from '../support/lmsHarness.js';

function settings(extra: Record<string, string> = {}, rest: Partial<ApiLmsSettings> = {}): ApiLmsSettings {
  return { adapter: 'xapi', baseUrl: 'https://lrs.example/xapi/', username: 'key', password: 'secret', extra, ...rest };
}

const defaults = readXapiOptions(settings());

/** Gives statements ids and `stored` times in order, as an LRS would. */
function asStored(statements: readonly JsonObject[], start = Date.parse('2026-11-02T08:00:00.000Z')): JsonObject[] {
  return statements.map((s, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, stored: new Date(start + i * 1000).toISOString(), ...s }));
}

/** The one enrollment these statements make, through parseEnrollment. */
function only(statements: readonly JsonObject[], options: XapiOptions = defaults): ReturnType<typeof parseEnrollment> {
  const records = [...foldStatements(statements, options).values()];
  expect(records).toHaveLength(1);
  return parseEnrollment(records[0]);
}

const MOODLE_COURSE = 'http://www.example.org/course/view.php?id=2';
const CMI5_AU = 'http://example.org/cmi5/au-lms-id/4756b42214cb0cb4825b3c9b5c15053d6a6cf7f5';

describe('reading statements', () => {
  it('names the learner by the actor identifier, and skips Groups', () => {
    const [moodle] = moodleStatements('course-completed');
    expect(actorOf(moodle?.['actor'])).toEqual({ key: 'account:http%3A//www.example.org:1', agent: { account: { homePage: 'http://www.example.org', name: '1' } }, learnerId: '1' });
    const voiding = referenceJson<JsonObject>('xapi/adl-spec-voiding-statement.json');
    expect(actorOf(voiding['actor'])).toMatchObject({ key: 'mbox:admin@example.adlnet.gov', learnerId: 'admin@example.adlnet.gov', email: 'admin@example.adlnet.gov' });
    const group = referenceJson<JsonObject>('xapi/adl-spec-long-example-statement.json');
    expect(actorOf(group['actor'])).toBeUndefined();
    expect(actorOf({ account: { homePage: 'https://lrs.contoso.example', name: 'Megan.Bowen@contoso.example' } })?.email).toBe('Megan.Bowen@contoso.example');
    expect(actorOf({ openid: 'http://toby.openid.example.org/' })?.key).toBe('openid:http%3A//toby.openid.example.org/');
  });

  it('finds the course: the object when it is one, a course-typed parent for a module, else the object (a cmi5 AU)', () => {
    expect(courseOf(moodleStatements('course-completed')[0] ?? {})).toMatchObject({ iri: MOODLE_COURSE, level: 'course' });
    expect(courseOf(moodleStatements('course-module-completion-updated-completed')[0] ?? {})).toMatchObject({ iri: MOODLE_COURSE, level: 'child' });
    const [quizAttempt, answered] = moodleStatements('quiz-attempt-submitted-multichoice');
    expect(courseOf(quizAttempt ?? {})).toMatchObject({ iri: MOODLE_COURSE, level: 'child' });
    expect(courseOf(answered ?? {})).toMatchObject({ iri: MOODLE_COURSE, level: 'child' });
    expect(courseOf(cmi5Scenario('13-progress_usage')[0] ?? {})).toMatchObject({ iri: CMI5_AU, level: 'course' });
    // The vendor statement's object is the course and its grouping names the same course.
    const [vendor] = referenceJson<JsonObject[]>('xapi/vendor-atr-callbrix-progressed-statements.json');
    expect(courseOf(vendor ?? {})).toMatchObject({ iri: 'http://adlnet.gov/courses/SJ01', level: 'course' });
    expect(courseOf(referenceJson('xapi/adl-spec-voiding-statement.json'))).toBeUndefined();
  });

  it('makes enrollment ids that read back, and hashes the ones that would be too long', () => {
    const id = enrollmentIdFor('account:http%3A//www.example.org:1', MOODLE_COURSE);
    expect(id).toBe('xapi:account:http%3A//www.example.org:1:http://www.example.org/course/view.php?id=2');
    expect(parseEnrollmentId(id)).toEqual({ actorKey: 'account:http%3A//www.example.org:1', agent: { account: { homePage: 'http://www.example.org', name: '1' } }, courseIri: MOODLE_COURSE });
    expect(parseEnrollmentId(enrollmentIdFor('mbox:ada@contoso.example', CMI5_AU))).toMatchObject({ agent: { mbox: 'mailto:ada@contoso.example' }, courseIri: CMI5_AU });
    const long = enrollmentIdFor('mbox:ada@contoso.example', `https://lms.example/${'x'.repeat(400)}`);
    expect(long).toMatch(/^xapi:sha256:[0-9a-f]{64}$/);
    expect(parseEnrollmentId(long)).toBeUndefined();
    expect(parseEnrollmentId('e-00001')).toBeUndefined();
  });
});

describe('cmi5 scenarios (AICC/CMI-5_Spec_Current samples)', () => {
  it('progress_usage: progressed 25/50/75 is in progress with the cmi5 progress; completed stays completed after terminated', () => {
    const statements = asStored(cmi5Scenario('13-progress_usage'));
    const steps = statements.map((_, i) => parseEnrollment([...foldStatements(statements.slice(0, i + 1), defaults).values()][0]));
    const view = steps.map((s) => (s.ok && s.enrollment.deleted !== true ? [s.enrollment.status, s.enrollment.progressPercent] : s));
    expect(view).toEqual([
      ['inProgress', undefined],
      ['inProgress', undefined],
      ['inProgress', 25],
      ['inProgress', 50],
      ['inProgress', 75],
      ['completed', 100],
      // satisfied is about the course-level activity, another enrollment (not in the default verbs)
      ['completed', 100],
      ['completed', 100],
    ]);
    const last = steps[steps.length - 1];
    expect(last?.ok && last.enrollment).toMatchObject({
      enrollmentId: `xapi:account:http%3A//example.org/:Learner:${CMI5_AU}`,
      learner: { id: 'Learner' },
      course: { id: CMI5_AU, title: 'Introduction to Geology', url: CMI5_AU, language: 'en-US' },
      source: 'selfInitiated',
      startedAt: '2016-06-09T19:39:29.498Z',
      completedAt: '2016-06-09T19:40:27.883Z',
    });
  });

  it('failed first, then passed: in progress, then completed at the pass', () => {
    const statements = asStored(cmi5Scenario('11-completed_and_passed-masteryScore-failed_first'));
    const afterFail = only(statements.slice(0, 3));
    expect(afterFail.ok && afterFail.enrollment).toMatchObject({ status: 'inProgress' });
    const all = only(statements);
    expect(all.ok && all.enrollment).toMatchObject({ status: 'completed', completedAt: '2016-06-09T19:01:08.725Z', progressPercent: 100 });
  });

  it('passed in session 1 stays completed when session 2 launches again', () => {
    const statements = asStored(cmi5Scenario('14-completed_and_passed-multiple_sessions'));
    const relaunched = only(statements.slice(0, 6));
    expect(relaunched.ok && relaunched.enrollment).toMatchObject({ status: 'completed', completedAt: '2016-06-09T19:55:24.731Z' });
  });

  it('an abandoned session is in progress', () => {
    const result = only(asStored(cmi5Scenario('17-abandoned_session')));
    expect(result.ok && result.enrollment).toMatchObject({ status: 'inProgress', source: 'selfInitiated' });
  });

  it('the course-level satisfied verb makes a course enrollment when configured', () => {
    const options = readXapiOptions(settings({ LMS_XAPI_COMPLETED_VERBS: '+https://w3id.org/xapi/adl/verbs/satisfied' }));
    const records = foldStatements(asStored(cmi5Scenario('09-completed_and_passed')), options);
    expect([...records.values()].map((r) => (r as { course: { title: string; id: string } }).course.id).sort()).toEqual([CMI5_AU, 'http://example.org/cmi5/lms-id/57c4917cbe43d6c230b85640e8abacdcb90e3db2/5d1be4c3-f2e6-4dbf-ad61-0c9774ffec2b']);
  });
});

describe('Moodle logstore_xapi statements', () => {
  const enrolled = moodleStatements('user-enrolment-created');
  const moduleDone = moodleStatements('course-module-completion-updated-completed');
  const courseDone = moodleStatements('course-completed');
  const left = moodleStatements('user-enrolment-deleted');
  const suspended = moodleStatements('user-enrolment-updated-suspended');
  const resumed = moodleStatements('user-enrolment-updated-resumed');
  const learner = (list: JsonObject[]): JsonObject[] => list.map((s) => asLearner(s, 'megan.bowen@contoso.example', 'Megan Bowen'));

  it('enrolled → an assigned, required, not-started enrollment with the instructor left out (no e-mail)', () => {
    const result = only(learner(asStored(enrolled)));
    expect(result.ok && result.enrollment).toEqual({
      enrollmentId: `xapi:mbox:megan.bowen@contoso.example:${MOODLE_COURSE}`,
      learner: { id: 'megan.bowen@contoso.example', email: 'megan.bowen@contoso.example' },
      course: { id: MOODLE_COURSE, title: 'test_name', url: MOODLE_COURSE, language: 'en' },
      source: 'assigned',
      assignmentType: 'required',
      assignedAt: '2015-06-10T14:31:41.000Z',
      status: 'notStarted',
      updatedAt: '2026-11-02T08:00:00.000Z',
    });
  });

  it('a completed module starts the course; the course completion (ADL verb, cmi5 course type) completes it', () => {
    const started = only(learner(asStored([...enrolled, ...moduleDone])));
    expect(started.ok && started.enrollment).toMatchObject({ status: 'inProgress', source: 'assigned', startedAt: '2015-06-10T14:31:41.000Z' });
    const done = only(learner(asStored([...enrolled, ...moduleDone, ...courseDone])));
    expect(done.ok && done.enrollment).toMatchObject({ status: 'completed', progressPercent: 100, completedAt: '2015-06-10T14:31:41.000Z' });
  });

  it('SCORM "completed" with a score on a SCO, and a quiz attempt, only start the course', () => {
    for (const name of ['scorm-scoreraw-submitted', 'scorm-status-submitted', 'quiz-attempt-submitted-truefalse', 'quiz-attempt-started', 'scorm-sco-launched']) {
      const result = only(learner(asStored(moodleStatements(name))));
      expect(result.ok && result.enrollment, name).toMatchObject({ status: 'inProgress', source: 'selfInitiated', course: { id: MOODLE_COURSE, title: 'test_name' } });
    }
  });

  it('teacher edits, views, grades and certificates make no enrollment', () => {
    for (const name of ['course-completion-updated', 'course-viewed', 'h5p-course-module-viewed', 'assign-graded', 'certificate-issued', 'course-module-completion-updated-uncompleted']) {
      expect(foldStatements(learner(asStored(moodleStatements(name))), defaults).size, name).toBe(0);
    }
  });

  it('unenrolled or suspended → a withdrawal; resumed → enrolled again, with its progress', () => {
    const unenrolled = only(learner(asStored([...enrolled, ...moduleDone, ...left])));
    expect(unenrolled.ok && unenrolled.enrollment).toEqual({ enrollmentId: `xapi:mbox:megan.bowen@contoso.example:${MOODLE_COURSE}`, updatedAt: '2026-11-02T08:00:02.000Z', deleted: true });
    const paused = only(learner(asStored([...enrolled, ...suspended])));
    expect(paused.ok && paused.enrollment.deleted).toBe(true);
    const back = only(learner(asStored([...enrolled, ...moduleDone, ...suspended, ...resumed])));
    expect(back.ok && back.enrollment).toMatchObject({ status: 'inProgress', source: 'assigned' });
  });

  it('the Moodle account actor (no e-mail) maps, naming only the Moodle user id', () => {
    const result = only(asStored(enrolled));
    expect(result.ok && result.enrollment).toMatchObject({ learner: { id: '2' }, enrollmentId: `xapi:account:http%3A//www.example.org:2:${MOODLE_COURSE}` });
  });

  it('a Totara program assignment is a required assignment with the due date LMS_XAPI_DUE_DAYS gives', () => {
    const options = readXapiOptions(settings({ LMS_XAPI_DUE_DAYS: '30', LMS_ASSIGNMENT_TYPE: 'recommended' }));
    const result = only(learner(asStored(moodleStatements('totara-program-assigned'))), options);
    expect(result.ok && result.enrollment).toMatchObject({ source: 'assigned', assignmentType: 'recommended', status: 'notStarted', assignedAt: '2015-06-10T14:31:41.000Z', dueAt: '2015-07-10T14:31:41.000Z' });
  });

  it('a voided statement no longer counts: the fold without it is the state after voiding', () => {
    const statements = learner(asStored([...enrolled, ...moduleDone, ...courseDone]));
    const withoutCompletion = statements.slice(0, 2);
    const result = only(withoutCompletion);
    expect(result.ok && result.enrollment).toMatchObject({ status: 'inProgress' });
  });
});

describe('progress sources', () => {
  const [vendor] = referenceJson<JsonObject[]>('xapi/vendor-atr-callbrix-progressed-statements.json');

  it('a vendor progress extension counts only when configured; the score is not progress by default', () => {
    const plain = only(asStored([vendor ?? {}]));
    expect(plain.ok && plain.enrollment).toMatchObject({ status: 'inProgress', course: { title: 'ジュニア１', language: 'ja' }, startedAt: '2023-02-28T03:00:21.619Z' });
    expect(plain.ok && plain.enrollment.deleted !== true && plain.enrollment.progressPercent).toBeUndefined();
    const options = readXapiOptions(settings({ LMS_XAPI_PROGRESS_EXTENSIONS: '+https://w3id.org/xapi/atrcallbrix/result/extensions/progress' }));
    const configured = only(asStored([vendor ?? {}]), options);
    expect(configured.ok && configured.enrollment.deleted !== true && configured.enrollment.progressPercent).toBe(23);
  });

  it('result.score.scaled as a last resort, when listed', () => {
    const options = readXapiOptions(settings({ LMS_XAPI_PROGRESS_EXTENSIONS: 'https://w3id.org/xapi/cmi5/result/extensions/progress result.score.scaled' }));
    const result = only(asStored([vendor ?? {}]), options);
    expect(result.ok && result.enrollment.deleted !== true && result.enrollment.progressPercent).toBe(99);
  });

  it('the fold ignores a statement twice with one id, and other learners', () => {
    const statements = asStored(cmi5Scenario('13-progress_usage'));
    const fold = new EnrollmentFold(`xapi:account:http%3A//example.org/:Learner:${CMI5_AU}`, 'account:http%3A//example.org/:Learner', CMI5_AU, defaults);
    for (const s of statements.slice(0, 3)) fold.apply(s);
    expect(fold.apply(statements[2] ?? {})).toBe(false);
    expect(fold.apply({ ...statements[3], id: 'other', actor: { mbox: 'mailto:someone@else.example' } })).toBe(false);
    expect(fold.relevant).toBe(3);
  });
});

describe('LMS_XAPI_* settings', () => {
  const problems = (extra: Record<string, string>, rest: Partial<ApiLmsSettings> = {}): string[] => {
    try {
      readXapiOptions(settings(extra, rest));
      return [];
    } catch (err) {
      if (!isConfigError(err)) throw err;
      return err.problems.map((p) => `${p.setting} ${p.problem}`);
    }
  };

  it('has defaults for ADL, cmi5 and Moodle verbs, and lists replace or (with +) extend them', () => {
    expect(defaults.verbs.get('http://adlnet.gov/expapi/verbs/completed')).toBe('completed');
    expect(defaults.verbs.get('http://id.tincanapi.com/verb/completed')).toBe('completed');
    expect(defaults.verbs.get('http://activitystrea.ms/leave')).toBe('withdrawn');
    expect(defaults.verbs.get('https://xapi.edlm/profiles/edlm-lms/concepts/verbs/enrolled')).toBe('enrolled');
    expect(defaults.progressSources).toContain('https://w3id.org/xapi/cmi5/result/extensions/progress');
    const replaced = readXapiOptions(settings({ LMS_XAPI_COMPLETED_VERBS: 'https://example.org/verbs/finished' }));
    expect(replaced.verbs.get('http://adlnet.gov/expapi/verbs/completed')).toBeUndefined();
    expect(replaced.verbs.get('https://example.org/verbs/finished')).toBe('completed');
    const extended = readXapiOptions(settings({ LMS_XAPI_STARTED_VERBS: '+http://id.tincanapi.com/verb/viewed' }));
    expect(extended.verbs.get('http://id.tincanapi.com/verb/viewed')).toBe('started');
    expect(extended.verbs.get('http://adlnet.gov/expapi/verbs/launched')).toBe('started');
  });

  it('names every bad setting', () => {
    expect(problems({ LMS_XAPI_COMPLETED_VERBS: 'completed', LMS_XAPI_DUE_DAYS: 'soon', LMS_ASSIGNMENT_TYPE: 'mandatory', LMS_XAPI_VERB: 'x' })).toEqual([
      expect.stringMatching(/^LMS_XAPI_VERB is not an xAPI adapter setting/),
      expect.stringMatching(/^LMS_XAPI_COMPLETED_VERBS must list absolute verb IRIs .*"completed"/),
      expect.stringMatching(/^LMS_ASSIGNMENT_TYPE must be required or recommended/),
      expect.stringMatching(/^LMS_XAPI_DUE_DAYS must be a whole number of days/),
    ]);
    expect(problems({ LMS_XAPI_STARTED_VERBS: '+http://adlnet.gov/expapi/verbs/completed' })).toEqual([expect.stringMatching(/^LMS_XAPI_STARTED_VERBS lists http:\/\/adlnet.gov\/expapi\/verbs\/completed, which LMS_XAPI_COMPLETED_VERBS also lists/)]);
    expect(problems({ LMS_XAPI_WITHDRAWN_VERBS: 'http://adlnet.gov/expapi/verbs/voided' })).toEqual([expect.stringMatching(/must not list the voided verb/)]);
    expect(problems({}, { courseIds: ['course-1'] })).toEqual([expect.stringMatching(/^LMS_COURSE_IDS must list course activity IRIs/)]);
    expect(problems({}, { password: undefined })).toEqual([expect.stringMatching(/^LMS_PASSWORD is required/)]);
  });

  it('never repeats the secret in a message', () => {
    expect(problems({ LMS_XAPI_DUE_DAYS: 'x' }, { password: 'hunter2' }).join(' ')).not.toContain('hunter2');
  });
});
