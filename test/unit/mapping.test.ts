import { describe, expect, it } from 'vitest';
import { parseEnrollment, type Enrollment } from '../../src/mapping/enrollment.js';
import { fingerprint, stableStringify } from '../../src/mapping/fingerprint.js';
import { activityFingerprint, toActivityBody, toActivityDraft, toDateTimeTimeZone } from '../../src/mapping/toActivity.js';
import { isoDuration, toContentBody } from '../../src/mapping/toContent.js';

const base = {
  enrollmentId: 'enr-1',
  learner: { id: 'u1', upn: 'Ada@Contoso.example', email: 'ada@contoso.example' },
  course: { id: 'c-1', title: 'Safety 101', url: 'https://lms.example/c/1' },
  source: 'assigned',
  assignmentType: 'required',
  status: 'inProgress',
  progressPercent: 40,
  assignedAt: '2026-10-01T09:00:00Z',
  dueAt: '2026-12-01T17:30:00+01:00',
  updatedAt: '2026-10-02T10:00:00Z',
};

function valid(raw: unknown): Enrollment {
  const result = parseEnrollment(raw);
  if (!result.ok) throw new Error(result.reason);
  if (result.enrollment.deleted === true) throw new Error('withdrawal');
  return result.enrollment;
}

describe('parseEnrollment', () => {
  it('accepts a complete record and normalises dates to ISO UTC', () => {
    const e = valid(base);
    expect(e.updatedAt).toBe('2026-10-02T10:00:00.000Z');
    expect(e.dueAt).toBe('2026-12-01T16:30:00.000Z');
  });

  it.each([
    [{ progressPercent: 140 }, 'progressPercent 140 is outside 0..100'],
    [{ status: 'done' }, 'status "done" is not one of notStarted, inProgress, completed'],
    [{ updatedAt: 'yesterday' }, 'updatedAt "yesterday" is not an ISO 8601 date-time'],
    [{ enrollmentId: '' }, 'enrollmentId is required'],
    [{ course: { id: 'c', title: 'T', url: 'not a url' } }, 'course.url "not a url" is not an http(s) URL'],
    [{ source: 'selfInitiated', assignmentType: undefined, status: 'notStarted' }, 'notStarted" is not allowed for a selfInitiated course'],
    [{ assignmentType: undefined }, 'assignmentType is required when source is "assigned"'],
    [{ progressPercent: '12.5' }, 'is not an integer'],
  ])('refuses %j with a reason', (patch, reason) => {
    const result = parseEnrollment({ ...base, ...patch });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it.each([
    [{ updatedAt: '2025-02-29T10:00:00Z' }, 'updatedAt "2025-02-29T10:00:00Z" is not a date: February 2025 has 28 days'],
    [{ dueAt: '2026-04-31T12:00:00Z' }, 'dueAt "2026-04-31T12:00:00Z" is not a date: April 2026 has 30 days'],
    [{ dueAt: '2026-02-30T00:00:00Z' }, 'dueAt "2026-02-30T00:00:00Z" is not a date: February 2026 has 28 days'],
    [{ assignedAt: '2026-13-01' }, 'assignedAt "2026-13-01" is not a date: there is no month 13'],
    [{ completedAt: '2026-10-01T24:00:00Z', status: 'completed', progressPercent: 100 }, 'is not a time of day'],
    [{ startedAt: '2026-10-01T10:60:00Z' }, 'is not a time of day'],
    [{ updatedAt: '2026-10-01T10:00:00+25:00' }, 'has an impossible UTC offset'],
  ])('refuses an impossible date %j rather than rolling it into the next month', (patch, reason) => {
    const result = parseEnrollment({ ...base, ...patch });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('accepts the dates that do exist: a leap day, month ends, offsets', () => {
    expect(valid({ ...base, dueAt: '2024-02-29T23:59:59Z' }).dueAt).toBe('2024-02-29T23:59:59.000Z');
    expect(valid({ ...base, dueAt: '2026-04-30' }).dueAt).toBe('2026-04-30T00:00:00.000Z');
    expect(valid({ ...base, dueAt: '2026-12-31T23:30:00-01:00' }).dueAt).toBe('2027-01-01T00:30:00.000Z');
  });

  it.each([
    ['a byte order mark', '\uFEFFenr-1', 'U+FEFF (a byte order mark) at position 1'],
    ['a trailing tab', 'enr-1\t', 'U+0009 (a tab) at position 6'],
    ['a trailing newline', 'enr-1\n', 'U+000A (a line feed)'],
    ['a zero-width space', 'enr\u200B-1', 'U+200B (a zero-width space)'],
    ['a broken surrogate', 'enr-\uD800', 'U+D800'],
  ])('refuses an id with %s instead of trimming it into another id', (_name, id, reason) => {
    for (const patch of [{ enrollmentId: id }, { learner: { ...base.learner, id } }, { course: { ...base.course, id } }]) {
      const result = parseEnrollment({ ...base, ...patch });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain(reason);
    }
  });

  it('keeps ids exactly as sent, spaces included', () => {
    const e = valid({ ...base, enrollmentId: ' enr-1 ', course: { ...base.course, id: 'c 1 ' }, learner: { ...base.learner, id: 42 } });
    expect([e.enrollmentId, e.course.id, e.learner.id]).toEqual([' enr-1 ', 'c 1 ', '42']);
  });

  it('names every broken rule at once', () => {
    const result = parseEnrollment({ ...base, progressPercent: -1, status: 'x' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.split('; ')).toHaveLength(2);
  });

  it('accepts a withdrawal with only id, time and deleted', () => {
    const result = parseEnrollment({ enrollmentId: 'e', updatedAt: '2026-01-01T00:00:00Z', deleted: 'true' });
    expect(result).toEqual({ ok: true, enrollment: { enrollmentId: 'e', updatedAt: '2026-01-01T00:00:00.000Z', deleted: true } });
  });

  it('reads CSV-style strings for numbers and booleans', () => {
    const e = valid({ ...base, progressPercent: '55', deleted: 'false', course: { ...base.course, durationMinutes: '90' } });
    expect(e.progressPercent).toBe(55);
    expect(e.course.durationMinutes).toBe(90);
  });
});

describe('toActivityBody', () => {
  it('shapes an assignment exactly as the Graph documentation does', () => {
    const draft = toActivityDraft(valid(base), 'userPrincipalName');
    expect(draft.ok).toBe(true);
    if (!draft.ok) return;
    const body = toActivityBody(draft.draft, { learnerUserId: 'L', learningContentId: 'C', assignerUserId: 'A' }, 'P');
    expect(body).toEqual({
      '@odata.type': '#microsoft.graph.learningAssignment',
      externalCourseActivityId: 'enr-1',
      learningContentId: 'C',
      learnerUserId: 'L',
      learningProviderId: 'P',
      status: 'inProgress',
      assignmentType: 'required',
      assignedDateTime: '2026-10-01T09:00:00.000Z',
      assignerUserId: 'A',
      dueDateTime: { dateTime: '2026-12-01T16:30:00.0000000', timeZone: 'UTC' },
      completionPercentage: 40,
      completedDateTime: null,
    });
  });

  it('shapes a self-initiated course with startedDateTime and no assignment fields', () => {
    const e = valid({ ...base, source: 'selfInitiated', assignmentType: undefined, status: 'completed', progressPercent: undefined, startedAt: '2026-09-01T08:00:00Z', completedAt: '2026-09-03T08:00:00Z' });
    const draft = toActivityDraft(e, 'mail');
    if (!draft.ok) throw new Error(draft.reason);
    const body = toActivityBody(draft.draft, { learnerUserId: 'L', learningContentId: 'C' }, 'P');
    expect(body['@odata.type']).toBe('#microsoft.graph.learningSelfInitiatedCourse');
    expect(body).toMatchObject({ status: 'completed', completionPercentage: 100, completedDateTime: '2026-09-03T08:00:00.000Z', startedDateTime: '2026-09-01T08:00:00.000Z' });
    expect(body).not.toHaveProperty('assignmentType');
    expect(body).not.toHaveProperty('dueDateTime');
  });

  it('refuses a learner the match setting cannot name', () => {
    const e = valid({ ...base, learner: { id: 'u1', upn: 'a@b.c' } });
    expect(toActivityDraft(e, 'employeeId')).toEqual({ ok: false, reason: 'learner.employeeId is required when LEARNER_MATCH=employeeId' });
  });

  it('uses an Entra object id from the record without a lookup', () => {
    const e = valid({ ...base, learner: { id: 'u1', entraObjectId: 'oid-1' } });
    const draft = toActivityDraft(e, 'mail');
    expect(draft.ok && draft.draft.learner).toEqual({ match: 'id', value: 'oid-1' });
  });
});

describe('fingerprints', () => {
  it('ignore key order and change with any mapped field', () => {
    expect(stableStringify({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(fingerprint({ a: 1, b: 2 })).toBe(fingerprint({ b: 2, a: 1 }));
    const one = toActivityDraft(valid(base), 'userPrincipalName');
    const two = toActivityDraft(valid({ ...base, progressPercent: 41 }), 'userPrincipalName');
    const same = toActivityDraft(valid({ ...base, updatedAt: '2026-11-01T00:00:00Z' }), 'userPrincipalName');
    if (!one.ok || !two.ok || !same.ok) throw new Error('unexpected');
    expect(activityFingerprint(one.draft)).not.toBe(activityFingerprint(two.draft));
    expect(activityFingerprint(one.draft)).toBe(activityFingerprint(same.draft));
  });
});

describe('content and dates', () => {
  it('maps a course to the documented learningContent body, externalId included (Nullable="false")', () => {
    expect(toContentBody({ id: 'c', title: 'T', url: 'https://x.example/c', durationMinutes: 90, language: 'de-DE' })).toEqual({
      externalId: 'c',
      title: 'T',
      contentWebUrl: 'https://x.example/c',
      languageTag: 'de-DE',
      duration: 'PT1H30M',
      format: 'Course',
      isActive: true,
    });
    expect(toContentBody({ id: 'c', title: 'T', url: 'https://x.example/c' }).languageTag).toBe('en-US');
    expect(isoDuration(20)).toBe('PT20M');
    expect(isoDuration(120)).toBe('PT2H');
  });

  it('writes dueDateTime as a dateTimeTimeZone in UTC with seven fraction digits', () => {
    expect(toDateTimeTimeZone('2022-09-22T16:05:00.000Z')).toEqual({ dateTime: '2022-09-22T16:05:00.0000000', timeZone: 'UTC' });
  });
});
