import { adviceFor } from '../../graph/errorAdvice.js';
import { isGraphRequestError } from '../../graph/errors.js';
import { externalIdKey, pathId } from '../../graph/odata.js';
import { toContentBody } from '../../mapping/toContent.js';
import { resultOf, skipped, type DoctorCheck } from '../context.js';
import { graphGet } from '../graphProbe.js';
import { PROBE_CONTENT_ID } from '../types.js';

/** Where the probe course points; it is inactive, so no learner ever sees it. */
const PROBE_URL = 'https://learn.microsoft.com/viva/learning/';

/**
 * A content upsert and read-back of the probe course (`viva-sync-doctor`, isActive false): the
 * LearningContent.ReadWrite.All path, and the content the probe activity needs. It stays behind,
 * inactive (content is retired, never deleted, by this connector).
 */
export const contentCheck: DoctorCheck = {
  id: 'content',
  title: 'Probe course upserted and read back (inactive)',
  async run(context) {
    const { config, token, gateway } = context.facts;
    if (config === undefined || token === undefined || gateway === undefined) return skipped(this, 'no Graph token');
    const signal = context.options.abortSignal;
    const body = { ...toContentBody({ id: PROBE_CONTENT_ID, title: 'viva-sync doctor probe (inactive)', url: PROBE_URL, description: 'Written by `viva-sync doctor` to check permissions. Inactive: never shown.' }), isActive: false };
    try {
      const { id } = await gateway.upsertContent(PROBE_CONTENT_ID, body, signal !== undefined ? { abortSignal: signal } : {});
      const read = await graphGet(config, token, `/employeeExperience/learningProviders/${pathId(config.providerId)}/learningContents(externalId=${externalIdKey(PROBE_CONTENT_ID)})`, signal);
      if (read.status !== 200) return resultOf(this, 'fail', `the probe course was written but reading it back answered ${read.status} ${read.code}: ${read.message}`, adviceFor({ statusCode: read.status, code: read.code, message: read.message })?.fix ?? 'grant LearningContent.Read.All or LearningContent.ReadWrite.All (infra/grant-graph-permissions.sh)');
      const active = typeof read.body === 'object' && read.body !== null && 'isActive' in read.body ? read.body.isActive : undefined;
      context.facts.probeContentId = id;
      return resultOf(this, 'pass', `course ${PROBE_CONTENT_ID} written and read back (id ${id}, isActive ${String(active ?? false)}); it stays, inactive`);
    } catch (err) {
      if (!isGraphRequestError(err)) throw err;
      const advice = adviceFor(err);
      return resultOf(this, 'fail', `upserting the probe course answered ${err.statusCode} ${err.code}: ${err.message}`, advice?.fix ?? 'see the Graph error; the sync upserts every course this way');
    }
  },
};
