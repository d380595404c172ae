import { describe, expect, it } from 'vitest';
import { parseResyncCommand } from '../../src/sync/resync.js';
import { parseWebhookPayload } from '../../src/webhook/payload.js';
import { anEnrollment } from '../support/builders.js';

describe('parseWebhookPayload', () => {
  it('reads a canonical record, keeping it for the sync', () => {
    const record = anEnrollment({ enrollmentId: 'e-7', status: 'completed', progressPercent: 100, completedAt: '2026-11-02T10:00:00Z' });
    const result = parseWebhookPayload(JSON.stringify(record));
    expect(result).toMatchObject({ ok: true, notice: { enrollmentId: 'e-7', record: { enrollmentId: 'e-7', status: 'completed', completedAt: '2026-11-02T10:00:00.000Z' } } });
  });

  it('reads a bare notice and a Standard Webhooks envelope', () => {
    expect(parseWebhookPayload('{"enrollmentId":"e-1"}')).toEqual({ ok: true, notice: { enrollmentId: 'e-1' } });
    expect(parseWebhookPayload('{"enrollmentId":42,"updatedAt":"2026-11-01T00:00:00Z"}')).toEqual({ ok: true, notice: { enrollmentId: '42' } });
    const envelope = { type: 'enrollment.changed', timestamp: '2026-11-01T00:00:00Z', data: { enrollmentId: 'e-2' } };
    expect(parseWebhookPayload(JSON.stringify(envelope))).toEqual({ ok: true, notice: { enrollmentId: 'e-2', eventType: 'enrollment.changed' } });
    const withdrawal = { type: 'enrollment.withdrawn', data: { enrollmentId: 'e-3', deleted: true, updatedAt: '2026-11-03T00:00:00Z' } };
    expect(parseWebhookPayload(JSON.stringify(withdrawal))).toMatchObject({ ok: true, notice: { record: { enrollmentId: 'e-3', deleted: true } } });
  });

  it('keeps the id of a record that fails validation, with the reason, so the LMS can be asked instead', () => {
    const result = parseWebhookPayload(JSON.stringify({ enrollmentId: 'e-9', status: 'lost', learner: { id: 'u' } }));
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.notice.enrollmentId).toBe('e-9');
      expect(result.notice.record).toBeUndefined();
      expect(result.notice.recordProblem).toMatch(/status "lost"/);
    }
  });

  it('refuses malformed JSON, non-objects and bodies without an enrollment id', () => {
    expect(parseWebhookPayload('{"enrollmentId": ')).toMatchObject({ ok: false, reason: expect.stringMatching(/^the body is not valid JSON/) as unknown });
    expect(parseWebhookPayload('[1,2]')).toEqual({ ok: false, reason: 'the body must be a JSON object' });
    expect(parseWebhookPayload('{"learner":"x"}')).toEqual({ ok: false, reason: 'the body names no enrollmentId' });
    expect(parseWebhookPayload('{"enrollmentId":"  "}')).toEqual({ ok: false, reason: 'the body names no enrollmentId' });
    expect(parseWebhookPayload(JSON.stringify({ enrollmentId: 'a\u0000b' })).ok).toBe(false);
  });

  it.each([
    ['a byte order mark', '\uFEFFenr-1', 'U+FEFF'],
    ['a trailing tab', 'enr-1\t', 'U+0009'],
    ['a trailing newline', 'enr-1\n', 'U+000A'],
  ])('refuses an enrollmentId with %s rather than trimming it into enr-1', (_name, id, code) => {
    for (const body of [{ enrollmentId: id }, { type: 'enrollment.changed', data: { enrollmentId: id } }, anEnrollment({ enrollmentId: id })]) {
      const result = parseWebhookPayload(JSON.stringify(body));
      expect(result).toMatchObject({ ok: false, reason: expect.stringContaining(`enrollmentId contains ${code}`) as unknown });
    }
  });
});

describe('parseResyncCommand', () => {
  it('reads each scope, dryRun and since', () => {
    expect(parseResyncCommand({ learner: ' ada@contoso.example ' })).toEqual({ ok: true, command: { scope: { kind: 'learner', value: 'ada@contoso.example' }, dryRun: false } });
    expect(parseResyncCommand({ course: 'c-1', dryRun: true })).toEqual({ ok: true, command: { scope: { kind: 'course', value: 'c-1' }, dryRun: true } });
    expect(parseResyncCommand({ enrollment: 'e-1' })).toMatchObject({ ok: true, command: { scope: { kind: 'enrollment', value: 'e-1' } } });
    expect(parseResyncCommand({ all: true })).toEqual({ ok: true, command: { scope: { kind: 'all' }, dryRun: false } });
    expect(parseResyncCommand({ all: true, since: '2026-10-01' })).toEqual({ ok: true, command: { scope: { kind: 'all', since: '2026-10-01T00:00:00.000Z' }, dryRun: false } });
  });

  it('refuses ambiguous, unknown and ill-typed requests with the reason', () => {
    const reasons = [
      [{}, 'name exactly one of learner, course, enrollment or all'],
      [{ learner: 'a', course: 'b' }, 'name exactly one of learner, course, enrollment or all'],
      [{ all: 'yes' }, 'all must be true'],
      [{ all: true, since: 'last week' }, 'since must be an ISO 8601 date-time such as 2026-11-01T00:00:00Z'],
      [{ all: true, since: '2999-01-01T00:00:00Z' }, 'since is in the future'],
      [{ learner: 'a', since: '2026-01-01' }, 'since goes with all only'],
      [{ learner: '' }, 'learner must be a non-empty string of at most 400 characters'],
      [{ course: 'c', dryRun: 'no' }, 'dryRun must be true or false'],
      [{ course: 'c', force: true }, 'unknown field force'],
      ['text', 'the body must be a JSON object'],
    ] as const;
    for (const [body, reason] of reasons) expect(parseResyncCommand(body)).toEqual({ ok: false, reason });
  });
});
