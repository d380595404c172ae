#!/usr/bin/env node
/**
 * Writes the example exports under examples/ (committed): a canonical CSV of about 300
 * enrollments, a canonical JSONL of about 20, and a Cornerstone-like vendor export with
 * its column map. Deterministic: a seeded PRNG and fixed dates (nothing depends on "now"),
 * so running it again gives the same bytes.
 *
 *   node scripts/generate-examples.mjs [--out <dir>]     (default: examples/)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const OUT = outIndex > 0 && process.argv[outIndex + 1] !== undefined ? resolve(process.argv[outIndex + 1]) : join(ROOT, 'examples');

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The exports are "taken" just before this instant; every updatedAt falls in the 60 days before it. */
const EXPORT_END = Date.parse('2026-11-20T00:00:00Z');
const WINDOW_START = EXPORT_END - 60 * DAY;
const DOMAIN = 'contoso.example';
const FORMER_EMPLOYEE = `former.employee@${DOMAIN}`;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (mulberry32)

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261120);
const int = (min, max) => min + Math.floor(random() * (max - min + 1));
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;
/** A whole-second instant, formatted as exports usually write it: 2026-10-03T14:22:05Z. */
const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const spaced = (ms) => iso(ms).replace('T', ' ');
/** An instant on a working day between 07:00 and 19:00 UTC, at or after `ms`. */
function workingTime(ms) {
  const d = new Date(ms);
  for (;;) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) {
      const candidate = new Date(d);
      candidate.setUTCHours(int(7, 18), int(0, 59), int(0, 59), 0);
      if (candidate.getTime() >= ms) return candidate.getTime();
    }
    d.setUTCDate(d.getUTCDate() + 1);
    d.setUTCHours(0, 0, 0, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// People and catalogue

const NAMES = [
  ['Megan', 'Bowen'], ['Adele', 'Vance'], ['Alex', 'Wilber'], ['Diego', 'Siciliani'], ['Grady', 'Archie'],
  ['Henrietta', 'Mueller'], ['Isaiah', 'Langer'], ['Johanna', 'Lorenz'], ['Joni', 'Sherman'], ['Lee', 'Gu'],
  ['Lidia', 'Holloway'], ['Lynne', 'Robbins'], ['Miriam', 'Graham'], ['Nestor', 'Wilke'], ['Patti', 'Fernandez'],
  ['Pradeep', 'Gupta'], ['Christie', 'Cline'], ['Enrico', 'Cattaneo'], ['Irvin', 'Sayers'], ['Debra', 'Berger'],
  ['Allan', 'Deyoung'], ['Aiko', 'Tanaka'], ['Babajide', 'Okafor'], ['Camille', 'Dubois'], ['Dmitri', 'Volkov'],
  ['Elena', 'Rossi'], ['Farah', 'Haddad'], ['Gustav', 'Lindqvist'], ['Hannah', 'Schmidt'], ['Ines', 'Carvalho'],
  ['Jamal', 'Reed'], ['Kateryna', 'Shevchenko'], ['Liam', 'OConnor'], ['Mei', 'Chen'], ['Noah', 'Fischer'],
  ['Olivia', 'Martin'], ['Priya', 'Raman'], ['Quentin', 'Moreau'], ['Rosa', 'Delgado'], ['Samuel', 'Adeyemi'],
  ['Tomas', 'Novak'], ['Uma', 'Krishnan'], ['Victor', 'Lambert'], ['Wanjiru', 'Kamau'], ['Xavier', 'Dupont'],
  ['Yara', 'Nasser'], ['Zofia', 'Kowalska'], ['Anders', 'Berg'], ['Beatriz', 'Santos'], ['Chidi', 'Nwosu'],
  ['Dana', 'Levi'], ['Emil', 'Hansen'], ['Fatima', 'Zahra'], ['Giulia', 'Bianchi'], ['Hiro', 'Sato'],
  ['Ingrid', 'Larsen'], ['Jonas', 'Weber'], ['Keiko', 'Mori'], ['Lucas', 'Petit'],
];

const learners = NAMES.map(([first, last], i) => {
  const alias = `${first}.${last}`.toLowerCase();
  return {
    id: `u${1001 + i * 7 + (i % 3)}`,
    email: `${alias}@${DOMAIN}`,
    upn: `${alias}@${DOMAIN}`,
    employeeId: i % 3 === 2 ? '' : `E${204100 + i * 13}`,
    fullName: `${first} ${last}`,
  };
});
const formerEmployee = { id: 'u1427', email: FORMER_EMPLOYEE, upn: FORMER_EMPLOYEE, employeeId: 'E199871', fullName: 'Former Employee' };
/** Managers and the L&D team assign training; they are learners too. */
const assigners = [learners[1], learners[5], learners[12], learners[19], learners[28]];

const COURSE_BASE = 'https://learning.contoso.example/courses';
const courses = [
  ['sec-101', 'Security Awareness Essentials', 'Recognise phishing, use passwords and MFA well, and report incidents.', 'en-US', 45, true],
  ['sec-205', 'Zero Trust Fundamentals', 'Why "never trust, always verify" matters: identities, devices, networks and data.', 'en-US', 90, true],
  ['gdpr-100', 'Data Protection and GDPR Basics', 'Personal data, lawful bases, data subject rights, and what to do after a breach.', 'en-US', 60, false],
  ['gdpr-100-de', 'Datenschutz und DSGVO: Grundlagen', 'Personenbezogene Daten, Rechtsgrundlagen und Betroffenenrechte, kurz und praxisnah.', 'de-DE', 60, false],
  ['coc-2026', 'Code of Conduct 2026', 'The annual refresher on our Code of Conduct, gifts, conflicts of interest, and speaking up.', 'en-US', 30, true],
  ['hs-110', 'Workplace Health & Safety', 'Module 1: Risk assessment\nModule 2: Ergonomics for hybrid work\nModule 3: Incident reporting', 'en-US', 40, false],
  ['ai-150', 'Responsible AI in Everyday Work', 'Using AI assistants safely: prompts, data handling, "human in the loop" review.', 'en-US', 75, true],
  ['xl-201', 'Excel: PivotTables, Power Query and Dashboards', 'Clean, combine, and summarise data; build a one-page dashboard.', 'en-US', 180, true],
  ['pbi-101', 'Power BI for Business Users', 'Connect to data, build reports, and share them in the Power BI service.', 'en-US', 240, false],
  ['lead-301', 'Leading Hybrid Teams', 'Trust, clarity, and inclusive meetings when half the team is remote.', 'en-US', 120, true],
  ['lead-310', 'Coaching Conversations', 'The GROW model, active listening, and feedback that lands.', 'en-US', 90, false],
  ['dei-120', 'Inclusive Hiring Practices', 'Structured interviews, bias interrupters, and accessible job descriptions.', 'en-US', 50, false],
  ['agile-140', 'Agile Foundations: Scrum and Kanban', 'Roles, events, and artefacts; when to choose Scrum, when Kanban.', 'en-US', 150, true],
  ['pm-220', 'Project Management Essentials', 'Scope, schedule, risk; stakeholder maps and a simple RAID log.', 'en-US', 210, false],
  ['cs-130', 'Customer Service Excellence', 'De-escalation, empathy statements, and first-contact resolution.', 'en-US', 60, false],
  ['fin-105', 'Finance for Non-Finance Managers', 'P&L, cash flow, budgets, and the questions to ask your controller.', 'en-US', 120, true],
  ['aml-200', 'Anti-Money Laundering (AML) 2026', 'Red flags, know-your-customer checks, and escalation paths.', 'en-US', 45, false],
  ['abc-150', 'Anti-Bribery and Corruption', 'Facilitation payments, third parties, and the "reasonable and proportionate" test.', 'en-US', 35, false],
  ['teams-110', 'Microsoft Teams: Working Smarter', 'Channels vs. chats, meeting recap, Loop components, and notifications.', 'en-US', 25, true],
  ['az-900', 'Azure Fundamentals (AZ-900) Preparation', 'Cloud concepts, core Azure services, pricing, SLAs, and governance.', 'en-US', 360, true],
  ['py-101', 'Python for Data Analysis', 'pandas, notebooks, and plotting; from CSV to insight in an afternoon.', 'en-US', 300, false],
  ['wb-100', 'Resilience and Wellbeing at Work', 'Energy management, boundaries, and recognising burnout early.', 'en-US', 30, false],
  ['sec-101-fr', 'Sensibilisation à la sécurité', 'Reconnaître l’hameçonnage, bien utiliser les mots de passe et signaler un incident.', 'fr-FR', 45, true],
  ['lead-301-de', 'Hybride Teams führen', 'Vertrauen, Klarheit und inklusive Meetings – wenn das halbe Team remote arbeitet.', 'de-DE', 120, false],
  ['cs-130-fr', 'Excellence du service client', 'Désamorcer les tensions, faire preuve d’empathie et résoudre dès le premier contact.', 'fr-FR', 60, false],
].map(([id, title, description, language, durationMinutes, thumb]) => ({
  id,
  title,
  url: `${COURSE_BASE}/${id}`,
  description,
  language,
  durationMinutes,
  thumbnailUrl: thumb ? `https://learning.contoso.example/thumbnails/${id}.png` : '',
}));

// ---------------------------------------------------------------------------------------------
// Enrollments

/** One enrollment's life so far, ending at its updatedAt. */
function enrollmentFor(enrollmentId, learner, course, options = {}) {
  const source = options.source ?? (chance(0.65) ? 'assigned' : 'selfInitiated');
  const statuses = source === 'assigned' ? ['notStarted', 'inProgress', 'completed'] : ['inProgress', 'completed'];
  const status = options.status ?? (source === 'assigned' ? pick(['notStarted', 'notStarted', 'inProgress', 'inProgress', 'inProgress', 'completed', 'completed', 'completed']) : pick(statuses));
  const updatedAt = workingTime(options.updatedAt ?? WINDOW_START + random() * (EXPORT_END - WINDOW_START - DAY * 2));
  const e = {
    enrollmentId,
    learner,
    course,
    source,
    assignmentType: '',
    assigner: '',
    assignedAt: '',
    dueAt: '',
    startedAt: '',
    completedAt: '',
    status,
    progressPercent: '',
    updatedAt: iso(updatedAt),
    deleted: 'false',
  };
  let startedAt;
  if (status === 'completed') {
    e.completedAt = iso(updatedAt - int(0, 120) * 1000);
    startedAt = updatedAt - int(1, 15 * 24) * HOUR;
    e.progressPercent = 100;
  } else if (status === 'inProgress') {
    startedAt = updatedAt - int(1, 20 * 24) * HOUR;
    e.progressPercent = int(1, 19) * 5;
  } else {
    e.progressPercent = 0;
  }
  if (startedAt !== undefined) e.startedAt = iso(startedAt);
  if (source === 'assigned') {
    e.assignmentType = chance(0.7) ? 'required' : 'recommended';
    e.assigner = pick(assigners).upn;
    const assignedAt = status === 'notStarted' ? updatedAt : startedAt - int(0, 10 * 24) * HOUR;
    e.assignedAt = iso(assignedAt);
    const due = new Date(assignedAt + pick([14, 21, 30, 45]) * DAY);
    due.setUTCHours(23, 59, 59, 0);
    e.dueAt = iso(due.getTime());
  }
  return e;
}

const CSV_HEADER = [
  'enrollmentId', 'learner.id', 'learner.email', 'learner.upn', 'learner.employeeId',
  'course.id', 'course.title', 'course.url', 'course.description', 'course.language', 'course.durationMinutes', 'course.thumbnailUrl',
  'source', 'assignmentType', 'assigner.upn', 'assignedAt', 'dueAt', 'startedAt', 'completedAt',
  'status', 'progressPercent', 'updatedAt', 'deleted',
];

function canonicalRow(e) {
  const l = e.learner ?? {};
  const c = e.course ?? {};
  return [
    e.enrollmentId, l.id, l.email, l.upn, l.employeeId,
    c.id, c.title, c.url, c.description, c.language, c.durationMinutes, c.thumbnailUrl,
    e.source, e.assignmentType, e.assigner, e.assignedAt, e.dueAt, e.startedAt, e.completedAt,
    e.status, e.progressPercent, e.updatedAt, e.deleted,
  ];
}

function csvField(value) {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (fields) => `${fields.map(csvField).join(',')}\n`;

// Distinct (learner, course) pairs; the former employee gets exactly one, valid, enrollment.
const ENROLLMENT_COUNT = 300;
const pairs = new Set();
const enrollments = [];
let nextId = 10001;
while (enrollments.length < ENROLLMENT_COUNT - 1) {
  // Every learner first, then at random.
  const learner = enrollments.length < learners.length ? learners[enrollments.length] : pick(learners);
  const course = pick(courses.filter((c) => c.language === 'en-US' || chance(0.5)));
  const pair = `${learner.id}/${course.id}`;
  if (pairs.has(pair)) continue;
  pairs.add(pair);
  enrollments.push(enrollmentFor(`enr-${nextId++}`, learner, course));
}
enrollments.push(enrollmentFor(`enr-${nextId++}`, formerEmployee, courses[4], { source: 'assigned', status: 'completed', updatedAt: EXPORT_END - 41 * DAY }));

// Exactly three rows that must be dead-lettered, each breaking one rule.
const byStatus = (source, status) => enrollments.filter((e) => e.source === source && e.status === status && e.learner !== formerEmployee);
const invalid = [
  Object.assign(pick(byStatus('assigned', 'inProgress')), { progressPercent: 140 }),
  Object.assign(pick(byStatus('selfInitiated', 'completed')), { status: 'done' }),
  pick(byStatus('assigned', 'completed')),
];
invalid[2].badUpdatedAt = true;
const invalidReasons = [
  'progressPercent 140 is outside 0..100',
  'status "done" is not one of notStarted, inProgress, completed',
  'updatedAt "<US-style date>" is not an ISO 8601 date-time',
];

// Two withdrawals: later rows for enrollments that appear earlier.
const withdrawable = enrollments.filter((e) => !invalid.includes(e) && e.learner !== formerEmployee && Date.parse(e.updatedAt) < EXPORT_END - 10 * DAY);
const withdrawn = [pick(withdrawable.filter((e) => e.source === 'assigned' && e.status === 'inProgress')), pick(withdrawable.filter((e) => e.source === 'selfInitiated'))];
const withdrawals = withdrawn.map((e, i) => {
  const at = iso(workingTime(Date.parse(e.updatedAt) + int(1, 6) * DAY));
  // One export blanks the rest of a withdrawn row; the other keeps who and what.
  return i === 0
    ? { enrollmentId: e.enrollmentId, updatedAt: at, deleted: 'true' }
    : { ...e, updatedAt: at, deleted: 'true' };
});

// A change log: oldest change first (the bad-date row stays where its real time would put it).
const rows = [...enrollments, ...withdrawals].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.enrollmentId.localeCompare(b.enrollmentId));
let csv = csvLine(CSV_HEADER);
let line = 2;
const invalidLines = [];
const withdrawalLines = [];
let formerLine = 0;
for (const row of rows) {
  const fields = canonicalRow(row);
  if (row.badUpdatedAt === true) {
    const d = new Date(row.updatedAt);
    const hours = d.getUTCHours();
    fields[21] = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${hours % 12 === 0 ? 12 : hours % 12}:${String(d.getUTCMinutes()).padStart(2, '0')} ${hours < 12 ? 'AM' : 'PM'}`;
    invalidReasons[2] = `updatedAt "${fields[21]}" is not an ISO 8601 date-time`;
  }
  const text = csvLine(fields);
  const index = invalid.indexOf(row);
  if (index >= 0) invalidLines[index] = line;
  if (row.deleted === 'true') withdrawalLines.push(line);
  if (row.learner === formerEmployee) formerLine = line;
  csv += text;
  line += (text.match(/\n/g) ?? []).length;
}

// ---------------------------------------------------------------------------------------------
// The JSONL example: the canonical nested form, about 20 records.

function nested(e) {
  if (e.deleted === 'true' && e.learner === undefined) return { enrollmentId: e.enrollmentId, updatedAt: e.updatedAt, deleted: true };
  const person = (p) => Object.fromEntries(Object.entries({ id: p.id, email: p.email, upn: p.upn, employeeId: p.employeeId }).filter(([, v]) => v !== ''));
  const course = Object.fromEntries(Object.entries(e.course).filter(([, v]) => v !== ''));
  const out = {
    enrollmentId: e.enrollmentId,
    learner: person(e.learner),
    course,
    source: e.source,
    assignmentType: e.assignmentType,
    assigner: e.assigner === '' ? '' : { upn: e.assigner },
    assignedAt: e.assignedAt,
    dueAt: e.dueAt,
    startedAt: e.startedAt,
    completedAt: e.completedAt,
    status: e.status,
    progressPercent: e.progressPercent,
    updatedAt: e.updatedAt,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== ''));
}

const jsonlRecords = [];
for (let i = 0; i < 19; i++) {
  jsonlRecords.push(enrollmentFor(`enr-${30001 + i}`, learners[(i * 7) % learners.length], courses[(i * 5) % courses.length]));
}
jsonlRecords.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
const jsonlWithdrawn = jsonlRecords[3];
jsonlRecords.push({ enrollmentId: jsonlWithdrawn.enrollmentId, updatedAt: iso(workingTime(Date.parse(jsonlRecords.at(-1).updatedAt) + DAY)), deleted: 'true' });
const jsonl = jsonlRecords.map((e) => `${JSON.stringify(nested(e))}\n`).join('');

// ---------------------------------------------------------------------------------------------
// The vendor example: a Cornerstone-like transcript export of assigned training, and its map.

const VENDOR_STATUS = { notStarted: 'Registered', inProgress: 'In Progress', completed: 'Completed' };
const VENDOR_LANGUAGE = { 'en-US': 'English (US)', 'de-DE': 'German', 'fr-FR': 'French' };
const DIVISIONS = ['Sales', 'Finance', 'Engineering', 'Operations', 'People'];
const guid = () => {
  const hex = (n) => Array.from({ length: n }, () => int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
};
const loIds = new Map(courses.map((c) => [c.id, guid()]));

const VENDOR_HEADER = [
  'Transcript ID', 'User ID', 'User Login', 'User Email', 'Employee Number', 'User Full Name', 'Division',
  'LO ID', 'Training Title', 'Training Description', 'Training Type', 'Training URL', 'Training Language', 'Duration (Minutes)',
  'Required', 'Assigned By', 'Assigned Date', 'Due Date', 'Start Date', 'Completion Date',
  'Transcript Status', 'Progress %', 'Last Modified Date', 'Removed',
];

const vendorRecords = [];
for (let i = 0; i < 39; i++) {
  const e = enrollmentFor(`TR-${700100 + i * 3}`, learners[(i * 11 + 4) % learners.length], courses[(i * 3 + 1) % courses.length], { source: 'assigned' });
  vendorRecords.push(e);
}
vendorRecords.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
const vendorWithdrawn = vendorRecords[5];
vendorRecords.push({ ...vendorWithdrawn, updatedAt: iso(workingTime(Date.parse(vendorRecords.at(-1).updatedAt) + 2 * HOUR)), deleted: 'true' });

const toSpaced = (value) => (value === '' ? '' : spaced(Date.parse(value)));
const vendorRow = (e) => [
  e.enrollmentId, e.learner.id, e.learner.upn, e.learner.email, e.learner.employeeId, e.learner.fullName, DIVISIONS[Number(e.learner.id.slice(1)) % DIVISIONS.length],
  loIds.get(e.course.id), e.course.title, e.course.description, 'Online Course', e.course.url, VENDOR_LANGUAGE[e.course.language], e.course.durationMinutes,
  // Cornerstone leaves "Required" blank for most mandatory training: the map's default fills it in.
  e.assignmentType === 'recommended' ? 'Optional' : chance(0.5) ? 'Required' : '',
  e.assigner, toSpaced(e.assignedAt), toSpaced(e.dueAt), toSpaced(e.startedAt), toSpaced(e.completedAt),
  VENDOR_STATUS[e.status], e.progressPercent, toSpaced(e.updatedAt), e.deleted === 'true' ? 'Y' : 'N',
];
const vendorCsv = csvLine(VENDOR_HEADER) + vendorRecords.map((e) => csvLine(vendorRow(e))).join('');

const vendorMap = {
  description: 'Maps the Cornerstone-like transcript export examples/vendor-export.csv to the canonical enrollment (see examples/README.md).',
  columns: {
    enrollmentId: 'Transcript ID',
    'learner.id': 'User ID',
    'learner.upn': 'User Login',
    'learner.email': 'User Email',
    'learner.employeeId': 'Employee Number',
    'course.id': 'LO ID',
    'course.title': 'Training Title',
    'course.description': 'Training Description',
    'course.url': 'Training URL',
    'course.language': 'Training Language',
    'course.durationMinutes': 'Duration (Minutes)',
    assignmentType: 'Required',
    'assigner.upn': 'Assigned By',
    assignedAt: 'Assigned Date',
    dueAt: 'Due Date',
    startedAt: 'Start Date',
    completedAt: 'Completion Date',
    status: 'Transcript Status',
    progressPercent: 'Progress %',
    updatedAt: 'Last Modified Date',
    deleted: 'Removed',
  },
  values: {
    status: { Registered: 'notStarted', 'Not Started': 'notStarted', 'In Progress': 'inProgress', Completed: 'completed' },
    assignmentType: { Required: 'required', Optional: 'recommended' },
    'course.language': { 'English (US)': 'en-US', German: 'de-DE', French: 'fr-FR' },
    deleted: { Y: 'true', N: 'false' },
  },
  defaults: { source: 'assigned', assignmentType: 'required' },
};

// ---------------------------------------------------------------------------------------------
// Summary for the README

const count = (list, f) => list.filter(f).length;
const live = enrollments.filter((e) => !invalid.includes(e));
const summary = {
  rows: rows.length,
  enrollments: enrollments.length,
  learners: new Set(enrollments.map((e) => e.learner.id)).size,
  courses: new Set(enrollments.map((e) => e.course.id)).size,
  assignedRequired: count(live, (e) => e.source === 'assigned' && e.assignmentType === 'required'),
  assignedRecommended: count(live, (e) => e.source === 'assigned' && e.assignmentType === 'recommended'),
  selfInitiated: count(live, (e) => e.source === 'selfInitiated'),
  notStarted: count(live, (e) => e.status === 'notStarted'),
  inProgress: count(live, (e) => e.status === 'inProgress'),
  completed: count(live, (e) => e.status === 'completed'),
  first: rows.find((e) => !e.badUpdatedAt)?.updatedAt,
  last: rows.at(-1)?.updatedAt,
};

const readme = `# Example exports

Generated by \`node scripts/generate-examples.mjs\` (seeded, with fixed dates: running it again gives the
same bytes). The people are fictional, at \`${DOMAIN}\`.

## \`enrollments.csv\`: the canonical format, as a CSV

A change log of ${summary.enrollments} enrollments for ${summary.learners} learners over ${summary.courses} courses,
oldest change first: ${summary.rows} rows after the header, updatedAt from ${summary.first} to ${summary.last}.
Nested fields are dotted columns (\`learner.email\`, \`course.id\`); some course descriptions hold commas, quotes and a
line break, so they are quoted (one record spans several lines).

- Sources (valid rows): ${summary.assignedRequired} assigned required, ${summary.assignedRecommended} assigned recommended (with
  \`assigner.upn\`, \`assignedAt\`, \`dueAt\`), ${summary.selfInitiated} self-initiated.
- Statuses (valid rows): ${summary.notStarted} notStarted, ${summary.inProgress} inProgress, ${summary.completed} completed, with
  coherent \`startedAt\`, \`completedAt\` and \`progressPercent\`.
- Two withdrawals (\`deleted\` true) at lines ${withdrawalLines.join(' and ')}: later rows for enrollments that appear earlier
  (${withdrawn.map((e) => `\`${e.enrollmentId}\``).join(', ')}). The first leaves the rest of the row blank, as many exports do.
- Exactly three rows that must end as dead letters:
${invalid.map((e, i) => `  - line ${invalidLines[i]} (\`${e.enrollmentId}\`): ${invalidReasons[i]}`).join('\n')}
- Exactly one valid row (line ${formerLine}) whose learner is \`${FORMER_EMPLOYEE}\`, a user that does not exist in the
  sandbox tenant: it exercises the "learner not found" path.

## \`enrollments.jsonl\`: the canonical format, one JSON object per line

${jsonlRecords.length} records in the nested form (\`"learner": { "id": … }\`), the last one a withdrawal of \`${jsonlWithdrawn.enrollmentId}\`.

## \`vendor-export.csv\` + \`vendor-column-map.json\`: a vendor export and its column map

A Cornerstone-like transcript export of assigned training (${vendorRecords.length} rows, the last one removing
\`${vendorWithdrawn.enrollmentId}\`) with the vendor's own headers (\`Transcript ID\`, \`LO ID\`, \`Transcript Status\`, …) and
words (\`Registered\`, \`In Progress\`, \`English (US)\`, \`Y\`/\`N\`). The column map names, for each canonical field, the
vendor column that feeds it, translates the vendor's words, and supplies what the export leaves out (\`source\` is always
\`assigned\`; a blank \`Required\` means \`required\`). Columns it does not mention (\`User Full Name\`, \`Division\`,
\`Training Type\`) are ignored. Dates must already be ISO 8601 (\`2026-10-03 14:22:05Z\` is); the map does not convert
date formats.

    LMS_ADAPTER=file LMS_FILE_PATH=examples/vendor-export.csv LMS_MAPPING_PATH=examples/vendor-column-map.json

## \`catalog.csv\`: the course catalog (\`LMS_CATALOG_PATH\`)

Written by hand beside the generated files, in the format of the README's "The course catalog": the 25 courses
of \`enrollments.csv\` (same ids, titles, URLs, languages and durations), several with contributors, tags, skills,
a format and a level; four courses nobody is enrolled in (\`ds-210\`, \`neg-150\`, \`acc-100\`, and the book summary
\`book-gtd\`); and one retired course, \`coc-2025\` (\`active\` false), replaced by \`coc-2026\`. \`npm start\` reads it
with the example export, so the first run creates 29 courses and retires one.
`;

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'enrollments.csv'), csv);
writeFileSync(join(OUT, 'enrollments.jsonl'), jsonl);
writeFileSync(join(OUT, 'vendor-export.csv'), vendorCsv);
writeFileSync(join(OUT, 'vendor-column-map.json'), `${JSON.stringify(vendorMap, null, 2)}\n`);
writeFileSync(join(OUT, 'README.md'), readme);
console.log(`Wrote ${OUT}: enrollments.csv (${summary.rows} rows), enrollments.jsonl (${jsonlRecords.length}), vendor-export.csv (${vendorRecords.length}), vendor-column-map.json, README.md`);
