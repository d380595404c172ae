import { describe, expect, it } from 'vitest';
import { classifyGraphFailure, GraphRequestError, parseRetryAfter } from '../../src/graph/errors.js';
import { odataKey, pathId } from '../../src/graph/odata.js';

const err = (statusCode: number, message: string, code = 'x', retryAfterMs?: number): GraphRequestError =>
  new GraphRequestError({ statusCode, code, message, operation: 'op', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('parseRetryAfter', () => {
  it.each([
    ['10', undefined, 10_000],
    [undefined, 'Retry after 2 minutes', 120_000],
    ['3', 'Retry after 5 minutes', 3_000],
    [undefined, 'Retry after 30 seconds', 30_000],
    [undefined, 'nothing here', undefined],
    ['', undefined, undefined],
  ])('header %s, body %s -> %s ms', (header, body, expected) => {
    expect(parseRetryAfter(header, body)).toBe(expected);
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', undefined, Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
  });
});

describe('classifyGraphFailure', () => {
  it.each([
    [err(429, 'Retry after 1 minutes', 'tooManyRequests', 60_000), { retry: true, scope: 'request', waitMs: 60_000 }],
    [err(503, 'Retry after 1 minutes', 'serviceUnavailable'), { retry: true, scope: 'request' }],
    [err(-1, 'fetch failed', 'TypeError'), { retry: true, scope: 'request' }],
    [err(500, 'boom'), { retry: true, scope: 'request' }],
    [err(401, 'Access token validation failure'), { retry: false, scope: 'tenant' }],
    [err(400, "This provider isn't enabled for the given tenant."), { retry: false, scope: 'tenant' }],
    [err(403, "You don't have an adequate service plan for this request."), { retry: false, scope: 'tenant' }],
    [err(403, "The user license isn't valid to perform the operation."), { retry: false, scope: 'record' }],
    [err(400, 'Input field completionPercentage is invalid'), { retry: false, scope: 'record' }],
    [err(404, "The requested assignment ID doesn't exist."), { retry: false, scope: 'record' }],
  ])('%s', (error, expected) => {
    expect(classifyGraphFailure(error)).toMatchObject(expected);
  });
});

describe('odata keys', () => {
  it('quote and escape string keys, and percent-encode ids', () => {
    expect(odataKey("o'brien/1")).toBe("'o''brien%2F1'");
    expect(pathId('7ba2:749c')).toBe('7ba2%3A749c');
  });
});
