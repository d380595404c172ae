/**
 * What never reaches a log line, whatever an outside system's error message carries: the values
 * of the secret settings in every form they travel in (as set, URL-encoded, form-encoded, base64,
 * inside Basic credentials), and anything that looks like a credential even when its value is
 * not one of ours (a token an LMS echoed back, a SAS signature in a storage URL).
 */
import { SECRET_SETTINGS } from '../config/loadConfig.js';
import { mergeSettings, readLocalSettings } from '../config/localSettings.js';

const HIDDEN = '(hidden)';
/** Shorter values are not treated as secrets: "true" or "1" would blank half of every line. */
const MIN_SECRET_LENGTH = 8;

/** Query, form and connection-string parameters whose value is a credential. */
const SECRET_PARAMS = ['client_secret', 'password', 'passwd', 'pwd', 'access_token', 'refresh_token', 'id_token', 'token', 'wstoken', 'api_key', 'apikey', 'secret', 'sig', 'accountkey', 'sharedaccesssignature', 'sharedaccesskey'];
const PARAM_NAMES = SECRET_PARAMS.join('|');

type Replacement = (match: string, ...groups: string[]) => string;
const keepName: Replacement = (_match, name) => `${name ?? ''}${HIDDEN}`;

/** Credentials by their shape, whoever's they are; each keeps its name and hides its value. */
const PATTERNS: readonly (readonly [RegExp, Replacement])[] = [
  // "Bearer eyJ…" (also after "Authorization:" or in a header dump).
  [/\b(Bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, keepName],
  // "Basic dXNlcjpwYXNz": only when the value decodes to user:password, so that "Basic information" stays.
  [/\b(Basic\s+)([A-Za-z0-9+/]{4,}={0,2})/gi, (match, name = '', value = '') => (Buffer.from(value, 'base64').toString('utf8').includes(':') ? `${name}${HIDDEN}` : match)],
  [/\b(SharedKey(?:Lite)?\s+[^:\s]+:)[A-Za-z0-9+/]+=*/g, keepName],
  // key=value in a query, a form or a connection string, also URL-encoded ("password%3D…"), up to a separator.
  [new RegExp(`((?:^|[?&;\\s"',(]|%26|%3F)(?:${PARAM_NAMES})(?:=|%3D))(?:[^\\s&;"',)<>%]|%(?!26|3B|22))+`, 'gi'), keepName],
  // The Functions key in a URL (?code=) or a header.
  [/((?:[?&]|%26|%3F)code(?:=|%3D))(?:[^\s&;"',)<>%]|%(?!26|3B|22))+/gi, keepName],
  [/(x-functions-key["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, keepName],
  // JSON: "password": "…", "client_secret":"…", "Authorization": "…".
  [new RegExp(`("(?:${PARAM_NAMES}|authorization)"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*`, 'gi'), keepName],
  // A Standard Webhooks secret, whoever's.
  [/\b(whsec_)[A-Za-z0-9+/=_-]+/g, keepName],
  // Credentials in a URL: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:"']+:[^\s/@"']+@/gi, (_match, scheme = '') => `${scheme}${HIDDEN}@`],
];

export class Redactor {
  readonly #values: readonly string[];

  /** `secrets`: the values to hide; their encoded forms are derived here. */
  constructor(secrets: readonly string[] = []) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (secret.length < MIN_SECRET_LENGTH) continue;
      forms.add(secret);
      forms.add(encodeURIComponent(secret));
      forms.add(new URLSearchParams({ v: secret }).toString().slice(2));
      forms.add(Buffer.from(secret, 'utf8').toString('base64'));
      forms.add(Buffer.from(secret, 'utf8').toString('base64url'));
    }
    // Longest first, so a connection string is hidden whole before its AccountKey is.
    this.#values = [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  }

  text(text: string): string {
    let clean = text;
    for (const value of this.#values) if (clean.includes(value)) clean = clean.split(value).join(HIDDEN);
    for (const [pattern, replace] of PATTERNS) clean = clean.replace(pattern, replace);
    return clean;
  }
}

/** The base64 of `user:password` as HTTP Basic sends it, both raw and URL-encoded first (RFC 6749 §2.3.1). */
function basicForms(user: string | undefined, password: string | undefined): string[] {
  if (user === undefined || password === undefined || password.length < MIN_SECRET_LENGTH) return [];
  return [`${user}:${password}`, `${encodeURIComponent(user)}:${encodeURIComponent(password)}`];
}

/**
 * The secret values among `values` (the environment or local.settings.json): each secret
 * setting, each of its space-separated parts (a rotation), the key part of a `whsec_` secret,
 * a connection string's AccountKey or SharedAccessSignature, and the Basic pairs the LMS
 * client sends.
 */
export function secretValuesOf(values: Readonly<Record<string, string | undefined>>): string[] {
  const named = SECRET_SETTINGS.flatMap((name) => {
    const value = values[name]?.trim();
    if (value === undefined || value === '') return [];
    const parts = value.split(/\s+/);
    return [
      value,
      ...parts,
      ...parts.map((v) => v.replace(/^whsec_/, '')),
      ...[...value.matchAll(/(?:AccountKey|SharedAccessSignature|SharedAccessKey)=([^;]+)/gi)].map((m) => m[1] ?? ''),
    ];
  });
  const basic = [...basicForms(values['LMS_CLIENT_ID'], values['LMS_CLIENT_SECRET']), ...basicForms(values['LMS_USERNAME'], values['LMS_PASSWORD'])];
  return [...named, ...basic].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** A text sink (standard error, standard output) whose every write is redacted; a terminal stays one. */
export function redactingWriter(writer: { write(text: string): unknown; isTTY?: boolean }, redactor: Redactor): { write(text: string): unknown; isTTY?: boolean } {
  return { write: (text: string) => writer.write(redactor.text(text)), ...(writer.isTTY !== undefined ? { isTTY: writer.isTTY } : {}) };
}

/** The settings an app root runs with: the environment over local.settings.json's Values, as loadConfig reads them. */
export function settingValuesOf(env: NodeJS.ProcessEnv, cwd: string): Readonly<Record<string, string | undefined>> {
  try {
    return mergeSettings(env, readLocalSettings(cwd));
  } catch {
    // An unreadable local.settings.json is reported by loadConfig; the environment's secrets still count.
    return env;
  }
}

/** A Redactor for the secrets of the settings in `env` and `cwd`'s local.settings.json. */
export function redactorFor(env: NodeJS.ProcessEnv, cwd: string): Redactor {
  return new Redactor(secretValuesOf(settingValuesOf(env, cwd)));
}
