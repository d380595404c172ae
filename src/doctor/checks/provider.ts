import { adviceFor } from '../../graph/errorAdvice.js';
import { externalIdKey, pathId } from '../../graph/odata.js';
import { resultOf, skipped, type DoctorCheck } from '../context.js';
import { graphGet } from '../graphProbe.js';
import { PROBE_ACTIVITY_ID } from '../types.js';

const ENABLE_FIX = 'run `viva-sync provider enable-activity-sync` as a Knowledge Administrator with a Viva Learning licence';
const REGISTER_FIX = 'run `viva-sync provider show` to check the id, or `viva-sync provider register` as a Knowledge Administrator, and set VIVA_PROVIDER_ID to the id it prints';

/**
 * VIVA_PROVIDER_ID is registered, readable, and course-activity sync is on. Reading a
 * registration is documented as delegated-only, so the decisive probe is the one the sync itself
 * makes: a GET of a course activity by an external id no one uses, which Graph answers 404 when
 * the provider is registered and enabled, and 400 (with the documented message) when not.
 */
export const providerCheck: DoctorCheck = {
  id: 'provider',
  title: 'Learning provider registered, course-activity sync enabled',
  async run(context) {
    const { config, token } = context.facts;
    if (config === undefined || token === undefined) return skipped(this, 'no Graph token');
    const signal = context.options.abortSignal;
    const providerPath = `/employeeExperience/learningProviders/${pathId(config.providerId)}`;

    const registration = await graphGet(config, token, providerPath, signal);
    const local = context.now();
    if (registration.dateMs !== undefined) context.facts.graphClock = { serverMs: registration.dateMs, localMs: local };
    if (registration.status === 404) return resultOf(this, 'fail', `there is no learning provider ${JSON.stringify(config.providerId)} in this tenant`, REGISTER_FIX);
    const record = registration.status === 200 && typeof registration.body === 'object' && registration.body !== null ? (registration.body as Record<string, unknown>) : undefined;
    const name = typeof record?.['displayName'] === 'string' ? `"${record['displayName']}" ` : '';

    const probe = await graphGet(config, token, `${providerPath}/learningCourseActivities(externalCourseActivityId=${externalIdKey(PROBE_ACTIVITY_ID)})`, signal);
    if (probe.status === 404 || probe.status === 200) {
      context.facts.providerReady = true;
      const how = record === undefined ? ' (judged by its course activities: app-only tokens cannot read a registration)' : '';
      return resultOf(this, 'pass', `provider ${name}${config.providerId} answers course-activity requests${how}`);
    }
    const advice = adviceFor({ statusCode: probe.status, code: probe.code, message: probe.message });
    const seen = `${probe.status} ${probe.code}: ${probe.message}`;
    if (advice?.id === 'providerNotEnabled' || record?.['isCourseActivitySyncEnabled'] === false) {
      return resultOf(this, 'fail', `provider ${name}${config.providerId} has course-activity sync disabled (${seen})`, ENABLE_FIX);
    }
    if (advice?.id === 'providerNotRegistered') return resultOf(this, 'fail', `VIVA_PROVIDER_ID ${JSON.stringify(config.providerId)} is not registered for this tenant (${seen})`, REGISTER_FIX);
    return resultOf(this, 'fail', `Graph refused a course-activity read for provider ${config.providerId}: ${seen}`, advice?.fix ?? 'see the Graph error above; `viva-sync provider show` checks the registration');
  },
};

/** Seconds of skew that break nothing / that break webhook signatures (5-minute window) and tokens. */
const WARN_SKEW_S = 30;
const FAIL_SKEW_S = 300;

/** The local clock against Graph's `Date` header (read by the provider check). */
export const clockCheck: DoctorCheck = {
  id: 'clock',
  title: 'Clock in step with Graph',
  async run(context) {
    const clock = context.facts.graphClock;
    if (clock === undefined) return skipped(this, 'Graph sent no Date header');
    // The header has whole seconds: one second either way is no skew.
    const skewS = Math.round((clock.localMs - clock.serverMs) / 1000);
    const abs = Math.abs(skewS);
    const said = `this machine is ${abs} s ${skewS >= 0 ? 'ahead of' : 'behind'} Graph`;
    const fix = 'synchronise the clock with NTP (Linux: `timedatectl set-ntp true`; Windows: `w32tm /resync`); Azure hosts keep time themselves';
    if (abs > FAIL_SKEW_S) return resultOf(this, 'fail', `${said}: tokens and webhook signatures (accepted for 5 minutes) fail`, fix);
    if (abs > WARN_SKEW_S) return resultOf(this, 'warn', `${said}: close to the 5-minute window of webhook signatures`, fix);
    return resultOf(this, 'pass', abs <= 1 ? 'in step with Graph\'s Date header' : `${said} (within ${WARN_SKEW_S} s)`);
  },
};
