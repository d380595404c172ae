import { LEARNER_NOT_FOUND_FIX, adviceFor } from '../../graph/errorAdvice.js';
import { isGraphRequestError } from '../../graph/errors.js';
import { isWithdrawal, type PersonRef } from '../../mapping/enrollment.js';
import { learnerRefFor, type LearnerRef } from '../../mapping/learnerRef.js';
import { toActivityBody } from '../../mapping/toActivity.js';
import { resultOf, skipped, type DoctorCheck, type DoctorContext } from '../context.js';
import { PROBE_ACTIVITY_ID, PROBE_CONTENT_ID } from '../types.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `--learner X` to an Entra user, as the sync would: X is matched against the learners on the
 * LMS page read (id, e-mail, UPN, employee id) and resolved through LEARNER_MATCH; otherwise X
 * is taken as the value LEARNER_MATCH compares (or an Entra object id).
 */
export const learnerCheck: DoctorCheck = {
  id: 'learner',
  title: 'Learner resolves to an Entra user (LEARNER_MATCH)',
  async run(context) {
    const wanted = context.options.learner?.trim();
    if (wanted === undefined || wanted === '') return skipped(this, 'add --learner X (an LMS learner id, e-mail or UPN) to check a learner and the licence path');
    const { config, gateway } = context.facts;
    if (config === undefined || gateway === undefined) return skipped(this, 'no Graph token');
    const ref = learnerRef(context, wanted);
    if (typeof ref === 'string') return resultOf(this, 'fail', ref, 'give the learner the identifier LEARNER_MATCH needs in the LMS, or change LEARNER_MATCH');
    const opts = context.options.abortSignal !== undefined ? { abortSignal: context.options.abortSignal } : {};
    try {
      const id = await gateway.findUser(ref, opts);
      if (id !== undefined) {
        context.facts.learnerObjectId = id;
        return resultOf(this, 'pass', `${ref.match} ${JSON.stringify(ref.value)} is Entra user ${id}`);
      }
      // The commonest first-day mismatch: the LMS e-mail is not the UPN. Say which property would find the user.
      const other = ref.match === 'userPrincipalName' && ref.value.includes('@') ? await gateway.findUser({ match: 'mail', value: ref.value }, opts) : undefined;
      if (other !== undefined) {
        return resultOf(this, 'fail', `no Entra user has userPrincipalName ${JSON.stringify(ref.value)}, but user ${other} has it as mail`, 'set LEARNER_MATCH=mail (the LMS e-mail is the users\' mail, not their UPN)');
      }
      return resultOf(this, 'fail', `no Entra user has ${ref.match} ${JSON.stringify(ref.value)}`, LEARNER_NOT_FOUND_FIX);
    } catch (err) {
      if (!isGraphRequestError(err)) throw err;
      return resultOf(this, 'fail', `looking the learner up answered ${err.statusCode} ${err.code}: ${err.message}`, adviceFor(err)?.fix ?? 'grant User.Read.All (infra/grant-graph-permissions.sh)');
    }
  },
};

function learnerRef(context: DoctorContext, wanted: string): LearnerRef | string {
  const match = context.facts.config?.learnerMatch ?? 'userPrincipalName';
  const lower = wanted.toLowerCase();
  const same = (value: string | undefined): boolean => value !== undefined && value.toLowerCase() === lower;
  for (const item of context.facts.lmsItems ?? []) {
    if (item.kind !== 'record' || isWithdrawal(item.record)) continue;
    const person: PersonRef = item.record.learner;
    if (same(person.id) || same(person.email) || same(person.upn) || same(person.employeeId) || same(person.entraObjectId)) {
      const ref = learnerRefFor(person, match, 'learner');
      return ref.ok ? ref.ref : `LMS learner ${JSON.stringify(wanted)} cannot be resolved: ${ref.reason}`;
    }
  }
  if (GUID.test(wanted)) return { match: 'id', value: wanted };
  return { match, value: match === 'userPrincipalName' || match === 'mail' ? lower : wanted };
}

/**
 * A probe activity for the learner, created, read back by external id and deleted: the
 * application permissions, the provider switch and the learner's licence, end to end.
 */
export const activityCheck: DoctorCheck = {
  id: 'activity',
  title: 'Probe activity created, read back and deleted for the learner',
  async run(context) {
    const { config, gateway, learnerObjectId, probeContentId, providerReady } = context.facts;
    if (context.options.learner === undefined) return skipped(this, 'add --learner X');
    if (config === undefined || gateway === undefined) return skipped(this, 'no Graph token');
    if (learnerObjectId === undefined) return skipped(this, 'the learner was not resolved');
    if (probeContentId === undefined) return skipped(this, 'the probe course could not be written');
    if (providerReady !== true) return skipped(this, 'the provider is not ready');
    const opts = context.options.abortSignal !== undefined ? { abortSignal: context.options.abortSignal } : {};
    let step = 'look for a probe left by an earlier run';
    try {
      const leftover = await gateway.getActivityByExternalId(PROBE_ACTIVITY_ID, opts);
      if (leftover !== undefined) await gateway.deleteActivity(leftover.id, opts);
      const body = toActivityBody(
        {
          externalId: PROBE_ACTIVITY_ID,
          enrollmentId: PROBE_ACTIVITY_ID,
          learner: { match: 'id', value: learnerObjectId },
          course: { id: PROBE_CONTENT_ID, title: 'viva-sync doctor probe (inactive)', url: 'https://learn.microsoft.com/viva/learning/' },
          fields: { kind: 'assignment', status: 'notStarted', assignmentType: 'recommended', assignedDateTime: new Date(context.now()).toISOString() },
        },
        { learnerUserId: learnerObjectId, learningContentId: probeContentId },
        config.providerId,
      );
      step = 'create it';
      const { id } = await gateway.createActivity(body, opts);
      step = 'read it back';
      const read = await gateway.getActivityByExternalId(PROBE_ACTIVITY_ID, opts);
      step = 'delete it';
      await gateway.deleteActivity(id, opts);
      if (read === undefined) return resultOf(this, 'warn', 'the probe activity was created and deleted, but reading it back by external id found nothing', 'Graph may take a moment to index a new activity; run the doctor again');
      return resultOf(this, 'pass', 'created, read back by externalCourseActivityId and deleted: permissions, provider and licence are in order for this learner');
    } catch (err) {
      if (!isGraphRequestError(err)) throw err;
      const advice = adviceFor(err);
      return resultOf(this, 'fail', `could not ${step}: ${err.statusCode} ${err.code}: ${err.message}`, advice?.fix ?? 'see the Graph error; the sync writes every activity this way');
    }
  },
};
