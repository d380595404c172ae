/**
 * No secret reaches a log line or an answer on any path: an LRS that echoes credentials and
 * secrets in its error messages (as misbehaving services and proxies do) is read by the CLI's
 * `sync`, the timer function and the webhook function; a queue message carrying them goes
 * through the queue worker function. Each secret form is pushed through each path.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import func from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lmsWebhook } from '../../functions/lmsWebhook.js';
import { syncTimer } from '../../functions/syncTimer.js';
import { syncWorker } from '../../functions/syncWorker.js';
import { signWebhook } from '../../src/webhook/signature.js';
import { SyncHarness } from '../support/syncHarness.js';

const token = (n: number): string => randomBytes(n).toString('base64url');
const USERNAME = 'svc-viva';
const PASSWORD = `p@ss/w+rd=Q&${token(9)}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const accountKey = randomBytes(32).toString('base64');
const sasSig = encodeURIComponent(randomBytes(24).toString('base64'));

interface SecretForm {
  readonly name: string;
  /** What the LRS says (the Authorization header it received is put in for `{auth}`). */
  readonly text: string;
  /** What must not appear anywhere. */
  readonly secrets: readonly string[];
}

const basic = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
const bearer = `eyJhbGciOiJSUzI1NiJ9.${token(24)}.${token(32)}`;
const foreignWhsec = `whsec_${randomBytes(24).toString('base64')}`;
const queryPassword = token(12);
const clientSecret = token(20);
const encodedPassword = token(12);

const FORMS: readonly SecretForm[] = [
  { name: 'an echoed Basic Authorization header (ours)', text: 'invalid credentials in {auth}', secrets: [basic, PASSWORD] },
  { name: 'base64 Basic credentials without their scheme', text: `credentials ${basic} are not known`, secrets: [basic] },
  { name: 'a bearer token (not ours)', text: `token expired: Authorization: Bearer ${bearer}`, secrets: [bearer] },
  { name: 'the password setting as set', text: `bad password "${PASSWORD}"`, secrets: [PASSWORD] },
  { name: 'the password setting URL-encoded', text: `login?u=${USERNAME}&p=${encodeURIComponent(PASSWORD)} refused`, secrets: [encodeURIComponent(PASSWORD), PASSWORD] },
  { name: 'our webhook secret and another whsec_', text: `signing with ${WEBHOOK_SECRET} or ${foreignWhsec}`, secrets: [WEBHOOK_SECRET, WEBHOOK_SECRET.slice(6), foreignWhsec.slice(6)] },
  { name: 'a connection string AccountKey', text: `storage DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${accountKey};EndpointSuffix=core.windows.net down`, secrets: [accountKey] },
  { name: 'a SharedAccessSignature and a SAS URL', text: `SharedAccessSignature=sv=2022-11-02&ss=t&sig=${sasSig}; https://acct.table.core.windows.net/t?sv=2022-11-02&sig=${sasSig}`, secrets: [sasSig] },
  { name: 'a password= query parameter', text: `GET https://lms.example/login/token.php?username=svc&password=${queryPassword}&service=x failed`, secrets: [queryPassword] },
  { name: 'a client_secret form body', text: `bad request body grant_type=client_credentials&client_id=x&client_secret=${clientSecret}`, secrets: [clientSecret] },
  { name: 'a URL-encoded password parameter inside another URL', text: `redirect=https%3A%2F%2Fx.example%2Fcb%3Fuser%3Dsvc%26password%3D${encodedPassword}%26next%3D1`, secrets: [encodedPassword] },
];

let harness: SyncHarness;
let lrs: Server;
let current: SecretForm = FORMS[0] as SecretForm;

beforeAll(async () => {
  // An LRS that refuses every request with a 400 whose message carries the current secret form.
  lrs = createServer((req, res) => {
    const message = current.text.replace('{auth}', `Authorization: ${req.headers.authorization ?? ''}`);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
  });
  await new Promise<void>((resolve) => lrs.listen(0, '127.0.0.1', resolve));
  harness = await SyncHarness.create();
  const { LMS_FILE_PATH: _unused, ...env } = harness.env;
  harness.env = { ...env, LMS_ADAPTER: 'xapi', LMS_BASE_URL: `http://127.0.0.1:${(lrs.address() as AddressInfo).port}/xapi/`, LMS_USERNAME: USERNAME, LMS_PASSWORD: PASSWORD, WEBHOOK_SECRET };
});

afterAll(async () => {
  await harness.close();
  await new Promise((resolve) => lrs.close(resolve));
});

/** Runs a function handler as the host would (settings in process.env, the app root as cwd); returns what it logged and threw. */
async function host<T>(call: (context: func.InvocationContext) => Promise<T>): Promise<{ text: string; result: T | undefined }> {
  const logs: string[] = [];
  const context = new func.InvocationContext({ invocationId: token(4), functionName: 'f', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
  const saved = process.env;
  const cwd = process.cwd();
  process.env = { ...saved, ...harness.env };
  process.chdir(harness.dir);
  try {
    const result = await call(context);
    return { text: logs.join('\n'), result };
  } catch (err) {
    // The host logs a failed invocation's error, message and stack, itself.
    return { text: `${logs.join('\n')}\n${err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)}`, result: undefined };
  } finally {
    process.chdir(cwd);
    process.env = saved;
  }
}

function expectClean(text: string, form: SecretForm): void {
  for (const secret of form.secrets) expect(text, form.name).not.toContain(secret);
}

describe.each(FORMS)('$name', (form) => {
  it('stays out of the CLI output', async () => {
    current = form;
    const out = await harness.cli(['sync']);
    expect(out.code).toBe(1);
    // The LRS's refusal is reported (so the redaction is what kept the secret out)…
    expect(out.stderr).toContain('GET /statements answered 400');
    expectClean(out.stdout + out.stderr, form);
  });

  it('stays out of the timer function\'s log and its error', async () => {
    current = form;
    const { text } = await host((context) => syncTimer({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context));
    expect(text).toContain('answered 400');
    expectClean(text, form);
  });

  it('stays out of the webhook function\'s log and answer', async () => {
    current = form;
    const body = JSON.stringify({ enrollmentId: `xapi:mbox:ada@contoso.example:https://lms.example/course/${token(4)}` });
    const signed = signWebhook(WEBHOOK_SECRET, `msg_${token(6)}`, body);
    const request = new func.HttpRequest({ method: 'POST', url: 'http://localhost:7071/api/lms/webhook', headers: { 'content-type': 'application/json', ...signed.headers }, body: { string: body } });
    const { text, result } = await host((context) => lmsWebhook(request, context));
    expect(text).toContain('answered 400');
    expectClean(`${text}\n${JSON.stringify(result)}`, form);
  });

  it('stays out of the queue worker function\'s log and error', async () => {
    current = form;
    const { text } = await host((context) => syncWorker(JSON.stringify({ version: 1, kind: form.text.replace('{auth}', `Authorization: Basic ${basic}`) }), context));
    expect(text).toContain('unknown work message kind');
    expectClean(text, form);
  });
});
