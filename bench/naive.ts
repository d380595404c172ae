import type { Enrollment } from '../src/mapping/enrollment.js';
import { toActivityBody, toActivityDraft } from '../src/mapping/toActivity.js';
import { toContentBody } from '../src/mapping/toContent.js';

export interface NaiveResult {
  readonly records: number;
  readonly wallMs: number;
  readonly requests: number;
}

/**
 * The baseline the product is measured against: what a simple script does, one record at a
 * time: look up the learner, upsert the content, look up the activity, create or patch it.
 * It honours Retry-After (so it finishes under a rate limit) but keeps no state.
 */
export async function runNaive(records: readonly Enrollment[], graphUrl: string, token: string, providerId: string): Promise<NaiveResult> {
  let requests = 0;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: { id?: string } | undefined }> => {
    for (;;) {
      requests += 1;
      const response = await fetch(`${graphUrl}/v1.0${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status === 429 || response.status === 503) {
        await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? '1') * 1000));
        continue;
      }
      return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as { id?: string }) };
    }
  };
  const base = `/employeeExperience/learningProviders/${providerId}`;
  const started = Date.now();
  for (const record of records) {
    const draft = toActivityDraft(record, 'userPrincipalName');
    if (!draft.ok) continue;
    const user = await call('GET', `/users/${encodeURIComponent(draft.draft.learner.value)}?$select=id`);
    const content = await call('PATCH', `${base}/learningContents(externalId='${encodeURIComponent(record.course.id)}')`, toContentBody(record.course));
    const body = toActivityBody(draft.draft, { learnerUserId: user.json?.id ?? '', learningContentId: content.json?.id ?? '' }, providerId);
    const existing = await call('GET', `${base}/learningCourseActivities(externalCourseActivityId='${encodeURIComponent(draft.draft.externalId)}')`);
    if (existing.status === 200 && existing.json?.id !== undefined) await call('PATCH', `${base}/learningCourseActivities/${encodeURIComponent(existing.json.id)}`, body);
    else await call('POST', `${base}/learningCourseActivities`, body);
  }
  return { records: records.length, wallMs: Date.now() - started, requests };
}
