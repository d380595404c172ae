import { randomBytes } from 'node:crypto';
import type { LearnerMatch } from '../mapping/learnerRef.js';
import { toActivityBody } from '../mapping/toActivity.js';
import { contentFingerprint, toContentBody } from '../mapping/toContent.js';
import { planChanges } from '../sync/plan.js';
import { parseWebhookPayload } from './payload.js';
import { parseSecrets, signWebhook, SignatureVerifier } from './signature.js';

/** A made-up enrollment: every field a webhook's record usually carries, no real person or course. */
const REHEARSAL_RECORD = {
  enrollmentId: 'viva-sync-warm-up',
  // Every identifier, so that whatever LEARNER_MATCH says, the record is planned.
  learner: { id: 'warm-up', upn: 'warm-up@warm-up.invalid', email: 'warm-up@warm-up.invalid', employeeId: 'warm-up' },
  course: { id: 'viva-sync-warm-up', title: 'Warm-up', url: 'https://warm-up.invalid/course', description: 'Never sent.', language: 'en-US', durationMinutes: 1 },
  source: 'assigned',
  assignmentType: 'required',
  assigner: { id: 'warm-up-assigner', upn: 'warm-up-assigner@warm-up.invalid', email: 'warm-up-assigner@warm-up.invalid', employeeId: 'warm-up-assigner' },
  assignedAt: '2026-01-01T00:00:00.000Z',
  dueAt: '2026-02-01T00:00:00.000Z',
  startedAt: '2026-01-02T00:00:00.000Z',
  status: 'inProgress',
  progressPercent: 10,
  updatedAt: '2026-01-02T00:00:00.000Z',
};

/**
 * At start-up: the webhook's pure steps, once, on a made-up delivery signed with a throwaway
 * secret: the signature check, the payload and record parsing, the plan, the content and
 * activity bodies. V8 compiles a function on its first call; after this the first real delivery
 * does not wait for that. No I/O: no storage, LMS or Graph. True when the delivery went through
 * every step (a step that refused it would have been left cold).
 */
export function rehearseDelivery(settings: { readonly learnerMatch: LearnerMatch; readonly providerId: string }): boolean {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const text = JSON.stringify(REHEARSAL_RECORD);
  const signed = signWebhook(secret, 'msg_viva-sync-warm-up', text);
  const verified = new SignatureVerifier(parseSecrets(secret)).verify(text, new Headers(signed.headers));
  const payload = parseWebhookPayload(text);
  if (!verified.ok || !payload.ok || payload.notice.record === undefined) return false;
  const [item] = planChanges({ records: [payload.notice.record], ledger: new Map(), ledgerComplete: false, learnerMatch: settings.learnerMatch }).items;
  if (item === undefined || item.kind === 'delete') return false;
  contentFingerprint(toContentBody(item.draft.course));
  toActivityBody(item.draft, { learnerUserId: '00000000-0000-0000-0000-000000000000', learningContentId: 'warm-up', assignerUserId: '00000000-0000-0000-0000-000000000001' }, settings.providerId);
  return true;
}
