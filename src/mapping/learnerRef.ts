import type { PersonRef } from './enrollment.js';

export type LearnerMatch = 'userPrincipalName' | 'mail' | 'employeeId' | 'id';

/** How to find one Entra user: by which property, and the value to look for. */
export interface LearnerRef {
  readonly match: LearnerMatch;
  readonly value: string;
}

export type LearnerRefResult = { readonly ok: true; readonly ref: LearnerRef } | { readonly ok: false; readonly reason: string };

/**
 * Picks the identifier that LEARNER_MATCH asks for. An Entra object id in the record always
 * wins (no lookup needed). For userPrincipalName, an e-mail stands in when the LMS has no
 * UPN: a lookup by UPN matches only a UPN, so a wrong guess fails rather than picking
 * someone else.
 */
export function learnerRefFor(person: PersonRef, match: LearnerMatch, field: 'learner' | 'assigner'): LearnerRefResult {
  if (person.entraObjectId !== undefined) return { ok: true, ref: { match: 'id', value: person.entraObjectId } };
  switch (match) {
    case 'userPrincipalName': {
      const value = person.upn ?? person.email;
      return value !== undefined
        ? { ok: true, ref: { match, value: value.toLowerCase() } }
        : { ok: false, reason: `${field}.upn (or ${field}.email) is required when LEARNER_MATCH=userPrincipalName` };
    }
    case 'mail':
      return person.email !== undefined
        ? { ok: true, ref: { match, value: person.email.toLowerCase() } }
        : { ok: false, reason: `${field}.email is required when LEARNER_MATCH=mail` };
    case 'employeeId':
      return person.employeeId !== undefined
        ? { ok: true, ref: { match, value: person.employeeId } }
        : { ok: false, reason: `${field}.employeeId is required when LEARNER_MATCH=employeeId` };
    case 'id':
      return person.id !== undefined
        ? { ok: true, ref: { match, value: person.id } }
        : { ok: false, reason: `${field}.entraObjectId is required when LEARNER_MATCH=id` };
  }
}

/** The cache key of a learner reference, e.g. "mail:ada@contoso.com". */
export function learnerKey(ref: LearnerRef): string {
  return `${ref.match}:${ref.value}`;
}
