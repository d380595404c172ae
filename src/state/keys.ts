import { createHash } from 'node:crypto';

/**
 * Encoded keys longer than this are replaced by a hashed form. The service caps a key at 1 KiB,
 * read as UTF-16: 512 characters (Azurite refuses a 513-character key with InvalidInput).
 * Encoded keys are ASCII. Until 2026-11 this was 700, so ids encoding to 513–700 characters were
 * refused; keys of 512 or fewer characters are unchanged.
 */
export const MAX_ENCODED_KEY_LENGTH = 512;

/** Readable head kept in front of the hash of an over-long key (helps when browsing a table). */
const HASHED_HEAD_LENGTH = 100;

/**
 * Marks a hashed key. A plain encoding never contains it: there `!` is always followed by two
 * upper-case hex digits.
 */
const HASH_MARK = '!h';
const HASHED_KEY = /!h[0-9a-f]{64}$/;

/**
 * Encodes any id as a PartitionKey/RowKey. The output uses only `A-Z a-z 0-9 - _ . ~ !`, so it
 * holds none of the characters Table Storage forbids in keys (`/ \ # ?`, control characters),
 * no `%` (which some gateways decode in URLs) and no `'` (which needs doubling in OData).
 *
 * It is `encodeURIComponent` with the characters that function leaves alone but we must not
 * keep (`! ' ( ) *`) percent-escaped too, then every `%` turned into `!`. Distinct ids give
 * distinct keys: a plain key decodes back with `decodeKey`; an id whose encoding would exceed
 * `MAX_ENCODED_KEY_LENGTH` (or that is not well-formed UTF-16) becomes a head of its encoding
 * plus `!h` and the SHA-256 of the id, which cannot be decoded, so stores keep the raw id in a
 * property of the entity as well.
 */
export function encodeKey(value: string): string {
  let uri: string;
  try {
    uri = encodeURIComponent(value);
  } catch {
    // A lone surrogate (URIError): the hash, taken over UTF-16 code units, still tells such ids apart.
    return hashedKey('', value);
  }
  const encoded = uri
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, '!');
  return encoded.length > MAX_ENCODED_KEY_LENGTH ? hashedKey(encoded, value) : encoded;
}

function hashedKey(encoded: string, value: string): string {
  let head = encoded.slice(0, HASHED_HEAD_LENGTH);
  // Cut before a partial `!XX` escape, so that the head reads as the start of a plain key.
  const bang = head.lastIndexOf('!');
  if (bang !== -1 && bang > head.length - 3) head = head.slice(0, bang);
  return `${head}${HASH_MARK}${createHash('sha256').update(value, 'utf16le').digest('hex')}`;
}

/** Whether `key` is the hashed form of an over-long (or ill-formed) id. */
export function isHashedKey(key: string): boolean {
  return HASHED_KEY.test(key);
}

/**
 * The id a plain key was made from; undefined for a hashed key, whose id cannot be recovered
 * (read it from the entity instead). Throws on text that `encodeKey` never produces.
 */
export function decodeKey(key: string): string | undefined {
  if (isHashedKey(key)) return undefined;
  if (!/^(?:[A-Za-z0-9\-_.~]|![0-9A-F]{2})*$/.test(key)) {
    throw new TypeError(`Not an encoded key: ${JSON.stringify(key.slice(0, 80))}`);
  }
  return decodeURIComponent(key.replace(/!/g, '%'));
}

/**
 * A stable bucket in `[0, buckets)` for `value`, from its SHA-256 (not `String#hashCode`-like
 * arithmetic, so similar ids such as `enr-1`, `enr-2` spread evenly). Stable across processes
 * and versions: partition keys depend on it.
 */
export function bucketOf(value: string, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0x1_0000) {
    throw new RangeError(`buckets must be an integer from 1 to 65536, got ${buckets}`);
  }
  return createHash('sha256').update(value, 'utf8').digest().readUInt32BE(0) % buckets;
}

/** The PartitionKey of `value`'s bucket: a letter and a zero-padded number, such as `b07`. */
export function bucketKey(prefix: string, value: string, buckets: number): string {
  return bucketName(prefix, bucketOf(value, buckets), buckets);
}

/** The PartitionKey of bucket number `bucket` of `buckets`. */
export function bucketName(prefix: string, bucket: number, buckets: number): string {
  const width = String(buckets - 1).length;
  return `${prefix}${String(bucket).padStart(Math.max(2, width), '0')}`;
}
