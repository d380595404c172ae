/** POST /api/resync and GET /api/resync/{runId} as functions of a request-like object. */
import type { Logger } from '../sync/logger.js';
import { parseResyncCommand, type FullResyncResult, type InlineResyncResult, type ResyncScope, type ResyncStatus } from '../sync/resync.js';
import { bodyText, json, methodNotAllowed, problem, tooLarge, type HttpLikeRequest, type HttpResult } from './http.js';

export const MAX_RESYNC_BODY_BYTES = 16 * 1024;
const RUN_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export interface ResyncDeps {
  inline(scope: Exclude<ResyncScope, { kind: 'all' }>, dryRun: boolean): Promise<InlineResyncResult>;
  full(since: string | undefined, dryRun: boolean): Promise<FullResyncResult>;
  status(runId: string): Promise<ResyncStatus | undefined>;
  readonly logger: Logger;
}

/** Answers 405 (and which method to use) before anything else is read. */
export function resyncPrecheck(request: HttpLikeRequest): HttpResult | undefined {
  const runId = request.params?.['runId'];
  if (runId !== undefined && runId !== '') return request.method === 'GET' ? undefined : methodNotAllowed(['GET']);
  if (request.method !== 'POST') return methodNotAllowed(['POST']);
  if (request.bodyTooLarge === true || request.rawBody.byteLength > MAX_RESYNC_BODY_BYTES) return tooLarge(MAX_RESYNC_BODY_BYTES);
  return undefined;
}

export async function handleResync(request: HttpLikeRequest, deps: ResyncDeps): Promise<HttpResult> {
  const early = resyncPrecheck(request);
  if (early !== undefined) return early;
  const runId = request.params?.['runId'];
  if (runId !== undefined && runId !== '') {
    if (!RUN_ID.test(runId)) return problem(400, 'badRequest', 'not a run id');
    const status = await deps.status(runId);
    return status === undefined ? problem(404, 'notFound', `no run ${runId} in the run history`) : json(200, status);
  }

  let body: unknown;
  try {
    body = JSON.parse(bodyText(request));
  } catch {
    return problem(400, 'badRequest', 'the body is not valid JSON');
  }
  const parsed = parseResyncCommand(body);
  if (!parsed.ok) return problem(400, 'badRequest', parsed.reason);
  const { scope, dryRun } = parsed.command;

  if (scope.kind === 'all') {
    const result = await deps.full(scope.since, dryRun);
    if (result.kind === 'dryRun') return json(200, { dryRun: true, scope: 'all', since: result.since, cursor: result.cursor });
    deps.logger.info('Full re-sync accepted', { runId: result.runId });
    return json(
      202,
      {
        runId: result.runId,
        scope: 'all',
        since: result.since,
        status: result.applied ? 'running' : 'queued',
        cursor: result.cursor,
        message: 'the next sync pass (timer or viva-sync sync) carries it out',
        statusUrl: `/api/resync/${result.runId}`,
      },
      { Location: `/api/resync/${result.runId}` },
    );
  }

  const result = await deps.inline(scope, dryRun);
  switch (result.kind) {
    case 'notFound':
      return problem(404, 'notFound', result.reason);
    case 'tooLarge':
      return problem(400, 'badRequest', result.reason);
    case 'busy':
      return problem(409, 'runInProgress', `${result.reason} Try again in a minute.`, { 'Retry-After': '60' });
    case 'done':
      return json(200, {
        runId: result.summary.runId,
        scope: { [scope.kind]: scope.value },
        dryRun,
        status: result.summary.status,
        matched: result.matched,
        forced: result.forced,
        notInLms: result.notInLms,
        invalid: result.invalid,
        unavailable: result.unavailable,
        summary: result.summary,
      });
  }
}
