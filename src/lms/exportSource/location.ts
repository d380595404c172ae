/**
 * The forms a path setting (LMS_FILE_PATH, LMS_CATALOG_PATH) takes: a local path, or an Azure
 * Blob Storage URL naming one blob, or a container or folder (ending in `/`) meaning every
 * export under it (DESIGN.md, "Settings").
 */
import { ConfigError } from '../../config/errors.js';
import type { FileKind } from '../recordScanner.js';

export type ExportLocation =
  | { readonly kind: 'local'; readonly path: string }
  | BlobLocation;

export interface BlobLocation {
  readonly kind: 'blob';
  /** The blob service endpoint: `https://<account>.blob.core.windows.net`, or `http://127.0.0.1:10000/<account>` (Azurite). */
  readonly serviceUrl: string;
  readonly account: string;
  readonly container: string;
  /** A folder: every export whose name starts with `prefix` (may be empty: the whole container). */
  readonly folder: boolean;
  /** The blob name, or the folder's prefix (ending in `/`, or empty). */
  readonly path: string;
  /** A SAS token from the URL's query (a secret: never logged), without the `?`. */
  readonly sas: string | undefined;
}

/** How an export is read: its record format, and whether it is gzip-compressed. */
export interface ExportFormat {
  readonly kind: FileKind;
  readonly gzip: boolean;
}

const EXPORT_NAME = /\.(jsonl|csv)(\.gz)?$/i;

/** The format of an export by its name; undefined for a name that is not an export (a marker, a readme). */
export function exportFormatOf(name: string): ExportFormat | undefined {
  const match = EXPORT_NAME.exec(name);
  if (match === null) return undefined;
  return { kind: match[1]?.toLowerCase() === 'csv' ? 'csv' : 'jsonl', gzip: match[2] !== undefined };
}

/** Hosts served path-style (`/<account>/<container>/…`): Azurite and other emulators on a loopback address. */
function isPathStyle(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Reads a path setting; throws a ConfigError naming `setting` for a URL it cannot use. */
export function parseExportLocation(value: string, setting: string): ExportLocation {
  if (!/^https?:\/\//i.test(value)) return { kind: 'local', path: value };
  const problem = (text: string): ConfigError => new ConfigError([{ setting, problem: text }]);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw problem('is not a valid URL');
  }
  const pathStyle = isPathStyle(url);
  if (url.protocol !== 'https:' && !pathStyle) throw problem('must be an https:// Blob Storage URL (http only for a local emulator)');
  if (url.username !== '' || url.password !== '') throw problem('must not carry credentials in the URL');
  const segments = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  let account: string;
  let serviceUrl: string;
  if (pathStyle) {
    account = segments.shift() ?? '';
    serviceUrl = `${url.protocol}//${url.host}/${account}`;
  } else {
    account = url.hostname.split('.')[0] ?? '';
    serviceUrl = `${url.protocol}//${url.host}`;
  }
  const container = segments.shift() ?? '';
  if (account === '' || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw problem('must be https://<account>.blob.core.windows.net/<container>/<blob or folder/> (no container name found)');
  }
  const path = segments.join('/');
  const folder = path === '' || path.endsWith('/');
  if (!folder && exportFormatOf(path) === undefined) throw problem('must name a .jsonl, .csv, .jsonl.gz or .csv.gz blob, or end with / to read every export under a folder');
  const sas = url.search.length > 1 ? url.search.slice(1) : undefined;
  return { kind: 'blob', serviceUrl, account, container, folder, path, sas };
}

/** The location as it may appear in messages and state: no SAS token. */
export function describeLocation(location: ExportLocation): string {
  if (location.kind === 'local') return location.path;
  return `${location.serviceUrl}/${location.container}/${location.path}`;
}
