import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSecrets, SignatureVerifier, signWebhook, TIMESTAMP_TOLERANCE_SECONDS } from '../../src/webhook/signature.js';

const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = newSecret();
const OTHER = newSecret();
const BODY = JSON.stringify({ enrollmentId: 'e-1' });

function headers(values: Record<string, string | undefined>): { get(name: string): string | null } {
  return { get: (name) => values[name.toLowerCase()] ?? null };
}

function signed(secret = SECRET, at = new Date(), body = BODY, id = 'msg_1') {
  const s = signWebhook(secret, id, body, at);
  return { body, headers: { ...s.headers } as Record<string, string | undefined> };
}

describe('SignatureVerifier', () => {
  it('accepts a delivery signed with the secret, over the raw body', () => {
    const { body, headers: h } = signed();
    expect(new SignatureVerifier([SECRET]).verify(body, headers(h))).toMatchObject({ ok: true, webhookId: 'msg_1' });
  });

  it('refuses a wrong secret, a changed body and a changed id', () => {
    const { body, headers: h } = signed(OTHER);
    const verifier = new SignatureVerifier([SECRET]);
    expect(verifier.verify(body, headers(h))).toEqual({ ok: false, reason: 'no signature matches the body with any configured secret' });
    const good = signed();
    expect(verifier.verify(`${good.body} `, headers(good.headers)).ok).toBe(false);
    expect(verifier.verify(good.body, headers({ ...good.headers, 'webhook-id': 'msg_2' })).ok).toBe(false);
  });

  it('accepts any configured secret during a rotation, and any of several signatures', () => {
    const verifier = new SignatureVerifier(parseSecrets(` ${OTHER}   ${SECRET} `));
    expect(verifier.verify(BODY, headers(signed(SECRET).headers)).ok).toBe(true);
    expect(verifier.verify(BODY, headers(signed(OTHER).headers)).ok).toBe(true);
    // The sender signs with old and new secret: one match is enough.
    const third = newSecret();
    const at = new Date();
    const both = `${signed(third, at).headers['webhook-signature']} ${signed(SECRET, at).headers['webhook-signature']}`;
    expect(new SignatureVerifier([SECRET]).verify(BODY, headers({ ...signed(SECRET, at).headers, 'webhook-signature': both })).ok).toBe(true);
    expect(new SignatureVerifier([third]).verify(BODY, headers({ ...signed(SECRET, at).headers, 'webhook-signature': both })).ok).toBe(true);
  });

  it('refuses timestamps more than 5 minutes old or ahead, and accepts them just inside', () => {
    const verifier = new SignatureVerifier([SECRET]);
    const now = Date.now();
    const stale = signed(SECRET, new Date(now - (TIMESTAMP_TOLERANCE_SECONDS + 30) * 1000));
    expect(verifier.verify(stale.body, headers(stale.headers))).toEqual({ ok: false, reason: 'webhook-timestamp is more than 5 minutes old' });
    const future = signed(SECRET, new Date(now + (TIMESTAMP_TOLERANCE_SECONDS + 30) * 1000));
    expect(verifier.verify(future.body, headers(future.headers))).toEqual({ ok: false, reason: 'webhook-timestamp is more than 5 minutes in the future' });
    const inside = signed(SECRET, new Date(now - (TIMESTAMP_TOLERANCE_SECONDS - 30) * 1000));
    expect(verifier.verify(inside.body, headers(inside.headers)).ok).toBe(true);
  });

  it('names missing and malformed headers in one line, without quoting them', () => {
    const verifier = new SignatureVerifier([SECRET]);
    const good = signed();
    expect(verifier.verify(BODY, headers({}))).toEqual({ ok: false, reason: 'missing webhook-id, webhook-timestamp, webhook-signature headers' });
    expect(verifier.verify(BODY, headers({ ...good.headers, 'webhook-signature': undefined }))).toEqual({ ok: false, reason: 'missing webhook-signature header' });
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'webhook-timestamp': '17e9' }, /malformed webhook-timestamp/],
      [{ 'webhook-timestamp': '-5' }, /malformed webhook-timestamp/],
      [{ 'webhook-signature': 'sha256=abcdef' }, /malformed webhook-signature/],
      [{ 'webhook-signature': 'v1,abc def' }, /malformed webhook-signature/],
      [{ 'webhook-signature': 'v1a,AAAA' }, /no v1/],
      [{ 'webhook-id': 'has space' }, /malformed webhook-id/],
    ];
    for (const [patch, reason] of cases) {
      const result = verifier.verify(BODY, headers({ ...good.headers, ...patch }));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toMatch(reason);
        expect(result.reason).not.toContain('\n');
        expect(result.reason).not.toContain(good.headers['webhook-signature']?.slice(3, 20));
      }
    }
  });

  it('refuses to start without a secret or with one not in whsec_ form', () => {
    expect(() => new SignatureVerifier([])).toThrow(/No webhook secret/);
    expect(() => new SignatureVerifier(['plain-secret'])).toThrow(/whsec_/);
  });

  it('signs as the Standard Webhooks reference does (v1, base64 HMAC-SHA256 of id.timestamp.body)', async () => {
    const { createHmac } = await import('node:crypto');
    const at = new Date(1_700_000_000_000);
    const s = signWebhook(SECRET, 'msg_x', BODY, at);
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`msg_x.1700000000.${BODY}`).digest('base64');
    expect(s.headers).toEqual({ 'webhook-id': 'msg_x', 'webhook-timestamp': '1700000000', 'webhook-signature': `v1,${expected}` });
  });
});
