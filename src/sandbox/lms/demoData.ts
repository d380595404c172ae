/**
 * The generated data of the LMS stand-ins behind `npm start` (./demoLms.ts): the same small story
 * in each LMS's own API shapes — a course with learners in every state, a course nobody is
 * enrolled in, a retired (concluded, hidden or tobedeleted) course with a completion, and an
 * unenrolment. People are fictional, at contoso.example. Type-only imports of the stand-ins,
 * so that their own command lines can load this without an import cycle.
 */
import type { CanvasStandIn } from './canvasStandIn.js';
import type { MoodleStandIn } from './moodleStandIn.js';
import type { OneRosterObject, OneRosterStandIn } from './oneRosterStandIn.js';
import type { XapiStatement } from './xapiStandIn.js';

const LEARNERS = ['alex.wilber', 'megan.bowen', 'lynne.robbins', 'diego.siciliani'].map((name, i) => ({ id: i + 1, name, email: `${name}@contoso.example`, first: name.split('.')[0] ?? name, last: name.split('.')[1] ?? name }));
const capital = (s: string): string => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
const T0 = Date.parse('2026-09-01T09:00:00Z');
const at = (hours: number): string => new Date(T0 + hours * 3_600_000).toISOString();
const secs = (hours: number): number => Math.floor((T0 + hours * 3_600_000) / 1000);

/** Canvas: course 101 (module-based, three students, one of them deleted), 102 (no one), 103 (concluded, one completion). */
export function seedCanvasDemo(canvas: CanvasStandIn): void {
  canvas.addCourse({ id: 101, name: 'Security Awareness Essentials', course_code: 'SEC-101', workflow_state: 'available', locale: 'en-US', requirementCount: 4, public_description: 'Phishing, passwords and safe sharing.', teachers: [{ id: 90, display_name: 'Priya Raman' }] });
  canvas.addCourse({ id: 102, name: 'Data Literacy', course_code: 'DATA-102', workflow_state: 'available', public_description: 'Read charts and tables with confidence.' });
  canvas.addCourse({ id: 103, name: 'Onboarding 2025', course_code: 'ONB-2025', workflow_state: 'completed', requirementCount: 2 });
  const enrol = (id: number, courseId: number, learner: (typeof LEARNERS)[number], state: string, hours: number): void =>
    canvas.addEnrollment({
      id,
      course_id: courseId,
      user_id: learner.id,
      type: 'StudentEnrollment',
      role: 'StudentEnrollment',
      enrollment_state: state,
      created_at: at(0),
      updated_at: at(hours),
      last_activity_at: state === 'active' && hours > 1 ? at(hours) : null,
      user: { id: learner.id, name: `${capital(learner.first)} ${capital(learner.last)}`, sortable_name: `${capital(learner.last)}, ${capital(learner.first)}`, short_name: capital(learner.first), login_id: learner.email },
    });
  const [a, b, c, d] = LEARNERS as [(typeof LEARNERS)[number], (typeof LEARNERS)[number], (typeof LEARNERS)[number], (typeof LEARNERS)[number]];
  enrol(1001, 101, a, 'active', 1);
  enrol(1002, 101, b, 'active', 30);
  canvas.setProgress(101, b.id, { requirement_completed_count: 2, completed_at: null });
  enrol(1003, 101, c, 'active', 48);
  canvas.setProgress(101, c.id, { requirement_completed_count: 4, completed_at: at(48) });
  // The unenrolment: Canvas keeps the enrollment with state "deleted".
  enrol(1004, 101, d, 'deleted', 50);
  enrol(1005, 103, a, 'completed', 60);
  canvas.setProgress(103, a.id, { requirement_completed_count: 2, completed_at: at(60) });
}

/** Moodle: course 2 (three students, one hard-unenrolled later), 3 (no one), 4 (hidden, one completion), the site course. */
export function seedMoodleDemo(moodle: MoodleStandIn): void {
  moodle.addCourse({ id: 1, fullname: 'Contoso Learning', shortname: 'site', format: 'site', categoryid: 0, visible: 1, timecreated: secs(0), timemodified: secs(0) });
  moodle.addCourse({ id: 2, fullname: 'Security Awareness Essentials', shortname: 'sec101', format: 'topics', categoryid: 1, visible: 1, lang: 'en', enablecompletion: 1, timecreated: secs(0), timemodified: secs(0) });
  moodle.addCourse({ id: 3, fullname: 'Data Literacy', shortname: 'data102', format: 'topics', categoryid: 1, visible: 1, timecreated: secs(0), timemodified: secs(0) });
  moodle.addCourse({ id: 4, fullname: 'Onboarding 2025', shortname: 'onb2025', format: 'topics', categoryid: 1, visible: 0, enablecompletion: 1, timecreated: secs(0), timemodified: secs(1) });
  for (const l of LEARNERS) moodle.addUser({ id: 100 + l.id, username: l.email, firstname: capital(l.first), lastname: capital(l.last), email: l.email, idnumber: `E${100 + l.id}` });
  const [a, b, c, d] = LEARNERS.map((l) => 100 + l.id) as [number, number, number, number];
  moodle.enrol(2, a, { timecreated: secs(1) });
  moodle.enrol(2, b, { timecreated: secs(1), progress: 50, lastaccess: secs(30), timestarted: secs(30) });
  moodle.enrol(2, c, { timecreated: secs(1), progress: 100, lastaccess: secs(48), timestarted: secs(20), timecompleted: secs(48) });
  // The unenrolment: Diego's enrolment is suspended (a hard unenrolment is seen by the next full walk).
  moodle.enrol(2, d, { timecreated: secs(1), status: 1 });
  moodle.enrol(4, a, { timecreated: secs(1), progress: 100, lastaccess: secs(60), timestarted: secs(50), timecompleted: secs(60) });
}

const ref = (sourcedId: string, type: string): OneRosterObject => ({ href: `/${type}s/${sourcedId}`, sourcedId, type });

/** OneRoster 1.2: class cl-sec (three students, one tobedeleted), cl-data (no one), cl-onb (tobedeleted class, one student). */
export function seedOneRosterDemo(server: OneRosterStandIn): void {
  const common = (sourcedId: string, status = 'active'): OneRosterObject => ({ sourcedId, status, dateLastModified: at(0), metadata: {} });
  server.put('orgs', [{ ...common('org-1'), name: 'Contoso University', type: 'school', identifier: 'CU' }]);
  server.put('academicSessions', [{ ...common('term-1'), title: 'Fall 2026', type: 'term', startDate: '2026-09-01', endDate: '2026-12-20', schoolYear: '2027' }]);
  server.put('users', LEARNERS.map((l) => ({ ...common(`usr-${l.id}`), enabledUser: true, username: l.email, givenName: capital(l.first), familyName: capital(l.last), roles: [{ roleType: 'primary', role: 'student', org: ref('org-1', 'org') }], email: l.email, identifier: `E${l.id}` })));
  server.put('courses', [
    { ...common('crs-sec'), title: 'Security Awareness Essentials', courseCode: 'SEC-101', subjects: ['Information security'], org: ref('org-1', 'org') },
    { ...common('crs-data'), title: 'Data Literacy', courseCode: 'DATA-102', subjects: ['Data'], org: ref('org-1', 'org') },
    { ...common('crs-onb'), title: 'Onboarding', courseCode: 'ONB', subjects: [], org: ref('org-1', 'org') },
  ]);
  const klass = (id: string, course: string, title: string, code: string, status = 'active'): OneRosterObject => ({ ...common(id, status), title, classCode: code, classType: 'scheduled', location: 'Online', course: ref(course, 'course'), school: ref('org-1', 'org'), terms: [ref('term-1', 'academicSession')], subjects: [] });
  server.put('classes', [klass('cl-sec', 'crs-sec', 'Security Awareness Essentials', 'SEC-101-A'), klass('cl-data', 'crs-data', 'Data Literacy', 'DATA-102-A'), klass('cl-onb', 'crs-onb', 'Onboarding 2025', 'ONB-2025', 'tobedeleted')]);
  const enrol = (id: string, user: number, cls: string, status = 'active'): OneRosterObject => ({ ...common(id, status), dateLastModified: at(user), role: 'student', primary: false, user: ref(`usr-${user}`, 'user'), class: ref(cls, 'class'), school: ref('org-1', 'org'), beginDate: '2026-09-01', endDate: '2026-12-20' });
  server.put('enrollments', [enrol('enr-1', 1, 'cl-sec'), enrol('enr-2', 2, 'cl-sec'), enrol('enr-3', 3, 'cl-sec'), enrol('enr-4', 4, 'cl-sec', 'tobedeleted'), enrol('enr-5', 1, 'cl-onb')]);
}

const ADL = 'http://adlnet.gov/expapi/verbs/';
const COURSES = { sec: 'https://lms.contoso.example/courses/sec-101', data: 'https://lms.contoso.example/courses/data-102' } as const;

/** xAPI: registrations, progress and a completion on one course; a learner who leaves (Moodle's "leave" verb). */
export function xapiDemoStatements(): XapiStatement[] {
  const statement = (learner: (typeof LEARNERS)[number], verb: string, display: string, course: string, name: string, hours: number, extra: XapiStatement = {}): XapiStatement => ({
    actor: { objectType: 'Agent', name: `${capital(learner.first)} ${capital(learner.last)}`, mbox: `mailto:${learner.email}` },
    verb: { id: verb, display: { 'en-US': display } },
    object: { objectType: 'Activity', id: course, definition: { type: 'http://adlnet.gov/expapi/activities/course', name: { 'en-US': name } } },
    timestamp: at(hours),
    ...extra,
  });
  const [a, b, c, d] = LEARNERS as [(typeof LEARNERS)[number], (typeof LEARNERS)[number], (typeof LEARNERS)[number], (typeof LEARNERS)[number]];
  const sec = 'Security Awareness Essentials';
  return [
    statement(a, `${ADL}registered`, 'registered', COURSES.sec, sec, 1),
    statement(b, `${ADL}registered`, 'registered', COURSES.sec, sec, 1),
    statement(b, `${ADL}progressed`, 'progressed', COURSES.sec, sec, 30, { result: { extensions: { 'https://w3id.org/xapi/cmi5/result/extensions/progress': 50 } } }),
    statement(c, `${ADL}initialized`, 'initialized', COURSES.data, 'Data Literacy', 20),
    statement(c, `${ADL}completed`, 'completed', COURSES.data, 'Data Literacy', 48, { result: { completion: true } }),
    statement(d, `${ADL}registered`, 'registered', COURSES.sec, sec, 2),
    statement(d, 'http://activitystrea.ms/leave', 'left', COURSES.sec, sec, 50),
  ];
}

