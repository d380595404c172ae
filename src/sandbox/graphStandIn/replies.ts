/**
 * Handler results and Graph's error wording.
 *
 * Messages marked [doc] are quoted from the employee-learning pages (shared/reference/graph-learning-api.md
 * §4.1 and the learn pages it cites); [graph] are Graph/OData platform messages; [stand-in] are
 * not documented anywhere and were chosen here.
 */

/** What a route handler answers; the transport adds request-id headers, innerError and latency. */
export type Reply =
  | { kind: 'json'; status: number; body: object; headers?: Record<string, string> }
  | { kind: 'empty'; status: number; headers?: Record<string, string> }
  | { kind: 'error'; status: number; code: string; message: string; headers?: Record<string, string> };

export function json(status: number, body: object, headers?: Record<string, string>): Reply {
  return headers ? { kind: 'json', status, body, headers } : { kind: 'json', status, body };
}

export function empty(status: number, headers?: Record<string, string>): Reply {
  return headers ? { kind: 'empty', status, headers } : { kind: 'empty', status };
}

export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return headers ? { kind: 'error', status, code, message, headers } : { kind: 'error', status, code, message };
}

export const MESSAGES = {
  // [graph] authentication (Graph's gateway wording)
  tokenEmpty: 'Access token is empty.',
  tokenInvalid: 'Access token validation failure. Invalid audience.',
  // [doc] learningCourseActivity pages
  providerNotRegistered:
    'There was an issue with your request. Make sure the registrationId you entered is valid or registered for your tenant.',
  providerNotEnabled: "This provider isn't enabled for the given tenant.",
  methodNotAllowed:
    "This method isn't supported for this entity type. See the Microsoft Graph documentation for the methods applicable to this entity.",
  /** [doc] learningcourseactivity-get (note the typographic apostrophe, as published). */
  activityNotFoundGet: 'The requested assignment ID doesn\u2019t exist.',
  /** [doc] learningcourseactivity-delete. */
  activityNotFoundDelete: "The requested assignment ID doesn't exist.",
  /** [doc] learningcourseactivity-update. */
  activityNotFoundUpdate: 'The assignment ID requested doesn\u2019t exist.',
  /** [doc] 403 when the content belongs to another provider (create and update tables). */
  contentOfOtherProvider: "The provider isn't valid to create course activity for the given learning content",
  /** [doc] 403 unlicensed learner, create (error-codes page). */
  licenseInvalidCreate: "The user license isn't valid to perform the operation",
  /** [doc] 403 unlicensed learner, update page wording. */
  licenseInvalidUpdate: 'The user license is not valid to perform the operation',
  /** [doc] 403 when the caller's licence (or, for a provider, role) does not allow it (error table §4.1). */
  noServicePlan: "You don't have an adequate service plan for this request.",
  /** [doc] app-only callers on delegated-only operations. */
  noAccess: "Your account doesn't have access to this report or data. Contact your administrator to request access.",
  internalServerError: 'Internal server error.',
  /** [graph] throttling page sample body, used when the wait is not stated in the body. */
  throttledGeneric: 'Please retry again later.',
  /** [stand-in] 503 when the wait is not stated in the body. */
  unavailableGeneric: 'The service is temporarily unavailable. Please retry again later.',
  // [graph] OData / platform
  invalidJson:
    'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
  meWithoutDelegation: '/me request is only valid with delegated authentication flow.',
  countNotSupported: '$count is not currently supported.',
  // [stand-in] undocumented 404s of providers and contents
  providerNotFound: "The requested learning provider doesn't exist.",
  contentNotFound: "The requested learning content doesn't exist.",
} as const;

/** [doc] "Retry after {noOfMinutes} minutes" (429 and 503 of the learningCourseActivity pages). */
export function retryAfterMinutesMessage(seconds: number): string {
  return `Retry after ${Math.ceil(seconds / 60)} minutes`;
}

/** [doc] field validation, 400 badRequest. */
export function fieldRequired(field: string): Reply {
  return graphError(400, 'badRequest', `Input field ${field} is required`);
}
export function fieldInvalid(field: string): Reply {
  return graphError(400, 'badRequest', `Input field ${field} is invalid`);
}
export function fieldEmpty(field: string): Reply {
  return graphError(400, 'badRequest', `Input field ${field} shouldn't be empty`);
}

/** [graph] OData reader: a property the type does not declare. */
export function unknownProperty(property: string, type: string): Reply {
  return graphError(
    400,
    'BadRequest',
    `The property '${property}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );
}

/** [graph] OData URI parser: a path segment that names nothing. */
export function segmentNotFound(segment: string): Reply {
  return graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

/** [graph] $select of a property the type does not declare. */
export function selectUnknown(property: string, type: string): Reply {
  return graphError(400, 'BadRequest', `Could not find a property named '${property}' on type '${type}'.`);
}

/** [doc] 405 methodNotAllowed, with the Allow header. */
export function methodNotAllowed(allowed: readonly string[]): Reply {
  return graphError(405, 'methodNotAllowed', MESSAGES.methodNotAllowed, { Allow: allowed.join(', ') });
}
