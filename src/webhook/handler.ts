/**
 * POST /api/lms/webhook as a function of a request-like object: size, signature, replay,
 * payload, then one call into the single-record path. Nothing is processed before the
 * signature is verified, and no log line or answer quotes a secret or a signature.
 */
import type { ClaimResult } from '../state/webhookIdStore.js';
import type { Logger } from '../sync/logger.js';
import type { CurrentRecord, SingleRecordResult } from '../sync/singleRecord.js';
import { bodyText, json, methodNotAllowed, problem, tooLarge, type HttpLikeRequest, type HttpResult } from './http.js';
import { parseWebhookPayload, type WebhookNotice } from './payload.js';
import type { SignatureVerifier } from './signature.js';

/** Bodies above this are refused (413) unread. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

export interface WebhookDeps {
  /** Undefined when WEBHOOK_SECRET is not set: every delivery is refused (503). */
  readonly verifier: SignatureVerifier | undefined;
  readonly webhookIds: { claim(webhookId: string): Promise<ClaimResult> };
  /** `lookedUp`: the LMS's answer for the enrollment, when `lookUp` asked it (while the id was claimed). */
  readonly sync: (notice: WebhookNotice, lookedUp?: Promise<CurrentRecord>) => Promise<SingleRecordResult>;
  /**
   * Asks the LMS for the enrollment's current record. Called once the signature and the payload
   * are verified, alongside the webhook-id claim rather than after it: a read, so a delivery the
   * claim refuses has changed nothing (it has cost one LMS read).
   */
  readonly lookUp?: (notice: WebhookNotice) => Promise<CurrentRecord>;
  readonly logger: Logger;
}

export async function handleWebhook(request: HttpLikeRequest, deps: WebhookDeps): Promise<HttpResult> {
  if (request.method !== 'POST') return methodNotAllowed(['POST']);
  if (request.bodyTooLarge === true || request.rawBody.byteLength > MAX_WEBHOOK_BODY_BYTES) {
    deps.logger.warn('Webhook refused: body too large');
    return tooLarge(MAX_WEBHOOK_BODY_BYTES);
  }
  if (deps.verifier === undefined) {
    deps.logger.error('Webhook refused: WEBHOOK_SECRET is not set');
    return problem(503, 'notConfigured', 'the webhook endpoint has no secret configured (WEBHOOK_SECRET)');
  }
  const text = bodyText(request);
  const verified = deps.verifier.verify(text, request.headers);
  if (!verified.ok) {
    deps.logger.warn('Webhook refused: bad signature', { reason: verified.reason });
    return problem(401, 'unauthorized', verified.reason);
  }
  const webhookId = verified.webhookId;
  const payload = parseWebhookPayload(text);
  if (!payload.ok) {
    deps.logger.warn('Webhook refused: bad payload', { webhookId, reason: payload.reason });
    return problem(400, 'badRequest', payload.reason);
  }

  const lookedUp = deps.lookUp?.(payload.notice);
  // Not awaited when the claim refuses the delivery (or fails): its failure is the sync's to report.
  lookedUp?.catch(() => undefined);
  const claim = await deps.webhookIds.claim(webhookId);
  if (!claim.claimed && claim.inProgress !== undefined) {
    // Another delivery of this id is being processed; if its instance died, the claim expires and a retry processes it.
    const wait = String(claim.inProgress.retryAfterSeconds);
    deps.logger.info('Webhook redelivered while being processed; the sender will retry', { webhookId, retryAfterSeconds: claim.inProgress.retryAfterSeconds });
    return problem(409, 'inProgress', `this webhook-id is being processed; retry after ${wait} seconds`, { 'Retry-After': wait });
  }
  if (!claim.claimed) {
    deps.logger.info('Webhook replayed; ignored', { webhookId });
    return json(200, { status: 'duplicate', duplicate: true, webhookId, ...(claim.firstSeenAt !== undefined ? { firstSeenAt: claim.firstSeenAt } : {}) });
  }
  if (claim.takenOver) deps.logger.warn('Webhook redelivered after an unfinished delivery (the instance stopped); processing it again', { webhookId });
  // The claim is `processing` until the change is synced or queued (then `done`); if this
  // instance dies first, the claim expires and the sender's retry is processed. An answer
  // other than 200/202 gives the id back at once, so the retry is processed too.
  let result: SingleRecordResult;
  try {
    result = await deps.sync(payload.notice, lookedUp);
  } catch (err) {
    await claim.release().catch(() => undefined);
    deps.logger.error('Webhook failed', { webhookId, enrollmentId: payload.notice.enrollmentId, reason: err instanceof Error ? err.message : String(err) });
    return problem(500, 'internal', 'the webhook could not be processed; see the function log');
  }
  const common = { webhookId, enrollmentId: result.enrollmentId };
  if (result.kind === 'processed' || result.kind === 'queued') {
    // Not done yet is safe: the claim then expires and a retry finds the ledger (or the queue) holding the change.
    await claim.complete().catch((err: unknown) => deps.logger.warn('Webhook id could not be marked done', { webhookId, reason: err instanceof Error ? err.message : String(err) }));
  }
  switch (result.kind) {
    case 'processed':
      deps.logger.info('Webhook processed', { ...common, outcome: result.outcome, runId: result.runId });
      return json(200, {
        status: 'processed',
        duplicate: false,
        ...common,
        outcome: result.outcome,
        runId: result.runId,
        counts: result.summary.counts,
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
      });
    case 'queued':
      deps.logger.info('Webhook queued', { ...common, reason: result.reason });
      return json(202, { status: 'queued', duplicate: false, ...common, reason: result.reason, message: result.message });
    case 'rejected':
      await claim.release().catch(() => undefined);
      deps.logger.warn('Webhook refused: enrollment', { ...common, reason: result.reason });
      return problem(400, 'badRequest', payload.notice.recordProblem !== undefined ? `${result.reason}; the body's record is not usable either: ${payload.notice.recordProblem}` : result.reason);
    case 'unavailable':
      await claim.release().catch(() => undefined);
      deps.logger.warn('Webhook not processed: LMS unavailable', { ...common, reason: result.reason });
      return problem(503, 'unavailable', `${result.reason}; retry later`, { 'Retry-After': '60' });
  }
}
