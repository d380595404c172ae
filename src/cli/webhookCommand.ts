import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { mergeSettings, readLocalSettings } from '../config/localSettings.js';
import { parseWebhookPayload } from '../webhook/payload.js';
import { parseSecrets, signWebhook } from '../webhook/signature.js';
import { withExamples, type CommandContext } from './command.js';
import { EXIT, UsageError, type CliIo } from './io.js';

export interface WebhookSignOptions {
  readonly enrollment?: string;
  readonly body?: string;
  readonly bodyFile?: string;
  readonly url?: string;
  readonly id?: string;
  readonly timestamp?: string;
  readonly json?: boolean;
}
const DEFAULT_URL = 'http://localhost:7071/api/lms/webhook';

/**
 * `viva-sync webhook sign`: a correctly signed test delivery for an LMS administrator, as a
 * curl command (or JSON with --json), signed with the first secret of WEBHOOK_SECRET (the one
 * an LMS should use during a rotation). The secret itself is never printed; the signature is,
 * since it is the point of the command. Only WEBHOOK_SECRET is needed, not the other settings.
 */
export async function webhookSignCommand(values: WebhookSignOptions, io: CliIo): Promise<number> {
  const sources = [values.enrollment, values.body, values.bodyFile].filter((v) => v !== undefined);
  if (sources.length !== 1) throw new UsageError('name exactly one of --enrollment, --body or --body-file');
  const secret = readSecret(io);
  let at = new Date();
  if (values.timestamp !== undefined) {
    if (!/^\d{1,12}$/.test(values.timestamp)) throw new UsageError('--timestamp must be Unix seconds');
    at = new Date(Number(values.timestamp) * 1000);
  }

  let body: string;
  if (values.enrollment !== undefined) {
    body = JSON.stringify({ type: 'enrollment.changed', timestamp: at.toISOString(), data: { enrollmentId: values.enrollment } });
  } else if (values.body !== undefined) {
    body = values.body;
  } else {
    body = readFileSync(resolve(io.cwd, values.bodyFile ?? ''), 'utf8');
  }
  const payload = parseWebhookPayload(body);
  if (!payload.ok) throw new UsageError(`the body would be refused: ${payload.reason}`);

  const url = values.url ?? DEFAULT_URL;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL`);
  }
  const signed = signWebhook(secret, values.id ?? `msg_${randomUUID()}`, body, at);
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ method: 'POST', url, headers: { 'content-type': 'application/json', ...signed.headers }, body: signed.body })}\n`);
  } else {
    const lines = [
      `curl -i -X POST ${shellQuote(url)}`,
      `  -H 'content-type: application/json'`,
      ...Object.entries(signed.headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)}`),
      `  --data-raw ${shellQuote(signed.body)}`,
    ];
    io.stdout.write(`${lines.join(' \\\n')}\n`);
    io.stderr.write(`Signed for enrollment ${payload.notice.enrollmentId}; valid for 5 minutes from ${at.toISOString()}, and accepted once (webhook-id).\n`);
  }
  return EXIT.ok;
}

function readSecret(io: CliIo): string {
  const value = mergeSettings(io.env, readLocalSettings(io.cwd))['WEBHOOK_SECRET']?.trim();
  if (value === undefined || value === '') throw new ConfigError([{ setting: 'WEBHOOK_SECRET', problem: 'is required to sign a webhook' }]);
  const first = parseSecrets(value)[0] ?? '';
  if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(first)) {
    throw new ConfigError([{ setting: 'WEBHOOK_SECRET', problem: 'must be one or more space-separated secrets of the form whsec_<base64>' }]);
  }
  return first;
}

/** Single-quoted for POSIX shells. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function registerWebhook(program: Command, context: CommandContext): void {
  const webhook = program.command('webhook').summary('print a signed test delivery for POST /api/lms/webhook').description('Test deliveries for the LMS webhook endpoint.');
  const sign = webhook
    .command('sign')
    .summary('print a signed test delivery (curl, or JSON)')
    .description(
      'Print a correctly signed test delivery for POST /api/lms/webhook as a curl command (or JSON with --json), signed\n' +
        'with the first secret of WEBHOOK_SECRET. Only WEBHOOK_SECRET is needed; the secret itself is never printed.',
    )
    .option('--enrollment <id>', 'an enrollment.changed notice for this LMS enrollment id')
    .option('--body <json>', 'this body instead')
    .option('--body-file <path>', 'the body in this file instead')
    .option('--url <url>', 'where to deliver it', DEFAULT_URL)
    .option('--id <id>', 'the webhook-id (default: a new msg_… id)')
    .option('--timestamp <unix>', 'the signing time in Unix seconds (default: now)')
    .option('--json', 'print { method, url, headers, body } instead of curl')
    .action(async (options: WebhookSignOptions) => context.exit(await webhookSignCommand(options, context.io)));
  withExamples(sign, [
    ['viva-sync webhook sign --enrollment e-1001', 'a curl command that tells the app enrollment e-1001 changed'],
    ['viva-sync webhook sign --body-file notice.json --url https://func-x.azurewebsites.net/api/lms/webhook', 'a notice of your own, to the deployed app'],
  ]);
}
