import { describe, expect, it } from 'vitest';
import { adviceFor, GRAPH_ERROR_ADVICE, withAdvice } from '../../src/graph/errorAdvice.js';
import { readTokenClaims } from '../../src/graph/tokenClaims.js';

describe('the Graph error -> fix table (graph-learning-api.md §4.1)', () => {
  it.each([
    [400, 'badRequest', "This provider isn't enabled for the given tenant.", 'providerNotEnabled', 'viva-sync provider enable-activity-sync'],
    [400, 'badRequest', 'There was an issue with your request. Make sure the registrationId you entered is valid or registered for your tenant.', 'providerNotRegistered', 'VIVA_PROVIDER_ID'],
    [400, 'badRequest', 'Input field completionPercentage is invalid', 'fieldValidation', 'LMS'],
    [403, 'Forbidden', "You don't have an adequate service plan for this request.", 'noServicePlan', 'licence'],
    [403, 'Forbidden', "Your account doesn't have access to this report or data. Contact your administrator to request access.", 'missingPermission', 'grant-graph-permissions.sh'],
    [403, 'Forbidden', "The provider isn't valid to create course activity for the given learning content", 'contentOfOtherProvider', 'VIVA_PROVIDER_ID'],
    [403, 'Forbidden', "The user license isn't valid to perform the operation", 'learnerUnlicensed', 'licence'],
    [403, 'Forbidden', 'The user license is not valid to perform the operation', 'learnerUnlicensed', 'licence'],
    [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'missingPermission', 'admin consent'],
    [404, 'notFound', 'The requested assignment ID doesn\u2019t exist.', 'activityNotFound', 'resync'],
    [401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', 'badToken', 'GRAPH_AUTH'],
  ])('%i %s "%s" -> %s', (statusCode, code, message, id, fixMentions) => {
    const advice = adviceFor({ statusCode, code, message });
    expect(advice?.id).toBe(id);
    expect(advice?.fix).toContain(fixMentions);
  });

  it('knows nothing of transient answers, and leaves their reasons alone', () => {
    expect(adviceFor({ statusCode: 429, code: 'tooManyRequests', message: 'Retry after 1 minutes' })).toBeUndefined();
    expect(withAdvice('500 x: boom', { statusCode: 500, code: 'x', message: 'boom' })).toBe('500 x: boom');
  });

  it('appends the fix and the doctor line to a reason', () => {
    expect(withAdvice("400 badRequest: This provider isn't enabled for the given tenant.", { statusCode: 400, code: 'badRequest', message: "This provider isn't enabled for the given tenant." })).toBe(
      "400 badRequest: This provider isn't enabled for the given tenant. Fix: run `viva-sync provider enable-activity-sync` as a Knowledge Administrator with a Viva Learning licence (`viva-sync doctor` checks this: provider).",
    );
  });

  it('names a doctor line for every row', () => {
    for (const row of GRAPH_ERROR_ADVICE) expect(row.doctorCheck).toMatch(/^[a-zA-Z]+$/);
  });
});

describe('readTokenClaims', () => {
  const jwt = (payload: object): string => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
  it('reads roles and scopes of a JWT, and nothing of a static token', () => {
    expect(readTokenClaims(jwt({ roles: ['User.Read.All'], aud: 'https://graph.microsoft.com', exp: 5 }))).toMatchObject({ roles: ['User.Read.All'], scopes: [], audience: 'https://graph.microsoft.com', expiresAt: 5 });
    expect(readTokenClaims(jwt({ scp: 'User.Read LearningProvider.ReadWrite' }))).toMatchObject({ roles: [], scopes: ['User.Read', 'LearningProvider.ReadWrite'] });
    expect(readTokenClaims('sandbox-token')).toBeUndefined();
    expect(readTokenClaims('a.!!!.c')).toBeUndefined();
  });
});
