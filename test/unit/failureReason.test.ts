import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/sync/failureReason.js';

describe('failureReason: the one line a failed run keeps', () => {
  it.each([
    ['fetch failed for https://admin:hunter2@lms.example/api/v1/courses', 'hunter2'],
    ['GET https://acct.table.core.windows.net/Runs?sv=2024-01-01&sig=AbC%2Fdef%3D&se=2026 answered 403', 'AbC%2Fdef'],
    ['request had Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', 'eyJhbGciOiJIUzI1NiJ9'],
    ['AccountName=acct;AccountKey=c2VjcmV0a2V5PT0=;EndpointSuffix=core.windows.net', 'c2VjcmV0a2V5PT0='],
    ['token refused: client_secret=s3cr3t-value', 's3cr3t-value'],
  ])('%s loses its secret', (message, secret) => {
    const reason = failureReason(new Error(message));
    expect(reason).not.toContain(secret);
    expect(reason).toContain('[redacted]');
  });

  it('keeps the first non-empty line only, and names a typed error', () => {
    class CursorMoved extends Error {
      override readonly name = 'CursorMoved';
    }
    expect(failureReason(new CursorMoved('\nthe cursor moved\n    at stack line'))).toBe('CursorMoved: the cursor moved');
    expect(failureReason('x'.repeat(1000))).toHaveLength(300);
  });
});
