/**
 * What each documented Graph refusal means and how an administrator fixes it: ONE table, used by
 * the runtime's dead letters and run messages (src/sync/writer.ts) and by `viva-sync doctor`, so
 * both say the same thing. Rows follow shared/reference/graph-learning-api.md §4.1 (the documented
 * learningCourseActivity errors), plus the platform answers a first deployment meets (401, the
 * directory's 403 for a missing User.Read.All). Pure: no I/O.
 */

/** The doctor line that detects the cause (docs/deploy.md links troubleshooting rows to these). */
export type DoctorCheckId = 'settings' | 'storage' | 'graphToken' | 'graphRoles' | 'provider' | 'clock' | 'content' | 'lms' | 'learner' | 'activity';

export interface GraphErrorAdvice {
  /** Stable name of the row, e.g. "providerNotEnabled". */
  readonly id: string;
  readonly statusCodes: readonly number[];
  /** Matched against "<code> <message>". */
  readonly pattern: RegExp;
  /** What it means, in one sentence. */
  readonly meaning: string;
  /** The exact fix: a command or a portal page. */
  readonly fix: string;
  readonly doctorCheck: DoctorCheckId;
}

const PERMISSIONS_FIX =
  'grant the application permissions and admin consent: `infra/grant-graph-permissions.sh` (or Entra admin center > App registrations > API permissions > Grant admin consent), then wait a few minutes for a new token';

export const GRAPH_ERROR_ADVICE: readonly GraphErrorAdvice[] = [
  {
    id: 'providerNotEnabled',
    statusCodes: [400],
    pattern: /provider isn't enabled|provider isn’t enabled/i,
    meaning: 'the learning provider exists but course-activity sync (isCourseActivitySyncEnabled) is off',
    fix: 'run `viva-sync provider enable-activity-sync` as a Knowledge Administrator with a Viva Learning licence',
    doctorCheck: 'provider',
  },
  {
    id: 'providerNotRegistered',
    statusCodes: [400],
    pattern: /registrationId you entered is valid|registered for your tenant/i,
    meaning: 'VIVA_PROVIDER_ID is not a learning provider registered in this tenant',
    fix: 'run `viva-sync provider show` (or `viva-sync provider register`) and set VIVA_PROVIDER_ID to the registration id it prints',
    doctorCheck: 'provider',
  },
  {
    id: 'noServicePlan',
    statusCodes: [403],
    pattern: /adequate service plan|service plan adequate/i,
    meaning: "Graph found no Viva Learning service plan for the request (the tenant's, the learner's, or a permission not yet consented)",
    fix: `assign a Viva Learning (or Viva suite) licence in the Microsoft 365 admin center > Billing > Licenses, and ${PERMISSIONS_FIX}; a new licence can take hours to apply`,
    doctorCheck: 'activity',
  },
  {
    id: 'missingPermission',
    statusCodes: [403],
    pattern: /doesn't have access to this report or data|doesn’t have access to this report or data|Authorization_RequestDenied|Insufficient privileges|accessDenied/i,
    meaning: "the app's token lacks an application permission this call needs",
    fix: PERMISSIONS_FIX,
    doctorCheck: 'graphRoles',
  },
  {
    id: 'contentOfOtherProvider',
    statusCodes: [403],
    pattern: /provider isn't valid to create course activity|provider isn’t valid to create course activity/i,
    meaning: "the course's learningContent belongs to another provider registration",
    fix: 'check VIVA_PROVIDER_ID is the registration that owns these courses (`viva-sync provider show`); content ids cannot move between providers',
    doctorCheck: 'provider',
  },
  {
    id: 'learnerUnlicensed',
    statusCodes: [403],
    pattern: /user license is(n't| not|n’t) valid/i,
    meaning: 'the learner has no Viva Learning licence',
    fix: 'assign the learner a Viva Learning (or Viva suite) licence: Microsoft 365 admin center > Users > Active users > Licenses and apps; `viva-sync deadletters retry --all` afterwards',
    doctorCheck: 'activity',
  },
  {
    id: 'activityNotFound',
    statusCodes: [404],
    pattern: /assignment ID (requested )?doesn('|’)t exist|requested assignment ID/i,
    meaning: 'the activity no longer exists in Viva Learning (deleted there)',
    fix: 'nothing to do for a delete; for an update, `viva-sync resync --enrollment ID` creates it again',
    doctorCheck: 'activity',
  },
  {
    id: 'fieldValidation',
    statusCodes: [400],
    pattern: /Input field .+ (is required|is invalid|shouldn't be empty|shouldn’t be empty|length exceeded)/i,
    meaning: 'Graph refused a field of this record',
    fix: 'correct the record in the LMS (or the column mapping, LMS_MAPPING_PATH); it is sent again when it changes',
    doctorCheck: 'content',
  },
  {
    id: 'methodNotAllowed',
    statusCodes: [405],
    pattern: /.*/,
    meaning: 'Graph does not support this method on this path',
    fix: 'check GRAPH_BASE_URL and GRAPH_API_VERSION (v1.0 or beta) point at Microsoft Graph',
    doctorCheck: 'settings',
  },
  {
    id: 'badToken',
    statusCodes: [401],
    pattern: /.*/,
    meaning: "Graph refused the app's token",
    fix: 'check GRAPH_AUTH and its credential (AZURE_CLIENT_ID / the managed identity, AZURE_TENANT_ID, the client secret in Key Vault); the token must be for https://graph.microsoft.com',
    doctorCheck: 'graphToken',
  },
];

/** The row for this refusal, or undefined when it is not one the table knows. */
export function adviceFor(failure: { readonly statusCode: number; readonly code: string; readonly message: string }): GraphErrorAdvice | undefined {
  const text = `${failure.code} ${failure.message}`;
  return GRAPH_ERROR_ADVICE.find((row) => row.statusCodes.includes(failure.statusCode) && row.pattern.test(text));
}

/** A reason with the fix appended, as dead letters and run messages carry it. */
export function withAdvice(reason: string, failure: { readonly statusCode: number; readonly code: string; readonly message: string }): string {
  const advice = adviceFor(failure);
  return advice === undefined ? reason : `${reason} Fix: ${advice.fix} (\`viva-sync doctor\` checks this: ${advice.doctorCheck}).`;
}

/** The fix for a learner that no Entra user matches (not a Graph error: the lookup found nobody). */
export const LEARNER_NOT_FOUND_FIX =
  'check LEARNER_MATCH: when the LMS e-mail differs from the Entra UPN, set LEARNER_MATCH=mail (or employeeId); `viva-sync doctor --learner X` shows which property finds the user';
