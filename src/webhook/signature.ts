/**
 * Standard Webhooks signatures (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256
 * of "id.timestamp.body">`, secrets in `whsec_<base64>` form, a 5-minute timestamp tolerance.
 * The cryptography is the reference library's (`standardwebhooks`, constant-time compare);
 * this module only checks the headers' shape first, tries every configured secret (rotation),
 * and turns failures into one-line reasons that never quote a signature or a secret.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** The tolerance of the reference library (WEBHOOK_TOLERANCE_IN_SECONDS), both directions. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export interface HeaderSource {
  get(name: string): string | null;
}

export type VerifyResult =
  | { readonly ok: true; readonly webhookId: string; readonly timestamp: number }
  | { readonly ok: false; readonly reason: string };

const ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE_ENTRY = /^v1a?,[A-Za-z0-9+/=_-]+$/;
const MAX_SIGNATURE_HEADER = 4096;

/** The secrets of `WEBHOOK_SECRET`: one or more, space-separated (several during a rotation). */
export function parseSecrets(setting: string): string[] {
  return setting.split(/\s+/).filter((s) => s !== '');
}

/** Verifies a delivery against any of `secrets`, over the raw body exactly as received. */
export class SignatureVerifier {
  readonly #webhooks: readonly Webhook[];

  /** Throws when a secret is not `whsec_` + base64 of at least one byte. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('No webhook secret is configured');
    this.#webhooks = secrets.map((secret) => {
      if (!secret.startsWith('whsec_')) throw new Error('A webhook secret must start with whsec_');
      return new Webhook(secret);
    });
  }

  verify(rawBody: string, headers: HeaderSource): VerifyResult {
    const id = headers.get(WEBHOOK_HEADERS.id)?.trim();
    const timestamp = headers.get(WEBHOOK_HEADERS.timestamp)?.trim();
    const signature = headers.get(WEBHOOK_HEADERS.signature)?.trim();
    const missing = [
      ...(id === undefined || id === '' ? [WEBHOOK_HEADERS.id] : []),
      ...(timestamp === undefined || timestamp === '' ? [WEBHOOK_HEADERS.timestamp] : []),
      ...(signature === undefined || signature === '' ? [WEBHOOK_HEADERS.signature] : []),
    ];
    if (id === undefined || timestamp === undefined || signature === undefined || missing.length > 0) {
      return { ok: false, reason: `missing ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}` };
    }
    if (!ID.test(id)) return { ok: false, reason: 'malformed webhook-id header (1 to 256 printable ASCII characters)' };
    if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed webhook-timestamp header (integer Unix seconds)' };
    const entries = signature.split(/\s+/);
    if (signature.length > MAX_SIGNATURE_HEADER || !entries.every((e) => SIGNATURE_ENTRY.test(e))) {
      return { ok: false, reason: 'malformed webhook-signature header (space-separated v1,<base64> entries)' };
    }
    if (!entries.some((e) => e.startsWith('v1,'))) return { ok: false, reason: 'webhook-signature holds no v1 (HMAC-SHA256) signature' };

    const normalized = { [WEBHOOK_HEADERS.id]: id, [WEBHOOK_HEADERS.timestamp]: timestamp, [WEBHOOK_HEADERS.signature]: entries.join(' ') };
    let reason = 'no signature matches the body with any configured secret';
    for (const webhook of this.#webhooks) {
      try {
        webhook.verify(rawBody, normalized, { jsonParse: false });
        return { ok: true, webhookId: id, timestamp: Number(timestamp) };
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        // The timestamp check comes first and is the same for every secret: say it plainly.
        if (/too old/i.test(err.message)) return { ok: false, reason: `webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS / 60} minutes old` };
        if (/too new/i.test(err.message)) return { ok: false, reason: `webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS / 60} minutes in the future` };
        if (!/no matching signature/i.test(err.message)) reason = 'the signature headers could not be read';
      }
    }
    return { ok: false, reason };
  }
}

export interface SignedRequest {
  readonly headers: { readonly 'webhook-id': string; readonly 'webhook-timestamp': string; readonly 'webhook-signature': string };
  readonly body: string;
}

/** Signs `body` as an LMS would (for `viva-sync webhook sign` and tests). */
export function signWebhook(secret: string, webhookId: string, body: string, at: Date = new Date()): SignedRequest {
  const signature = new Webhook(secret).sign(webhookId, at, body);
  return {
    headers: { 'webhook-id': webhookId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
    body,
  };
}
