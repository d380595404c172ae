import { describe, expect, it } from 'vitest';
import { bucketKey, bucketOf, decodeKey, encodeKey, isHashedKey, MAX_ENCODED_KEY_LENGTH } from '../../src/state/keys.js';

const SAFE_KEY = /^[A-Za-z0-9\-_.~!]*$/;

const samples = [
  '',
  'enr-1',
  'a/b\\c#d?e',
  "o'brien",
  'percent%20literal',
  'bang!!',
  '!21',
  'course:urn:x:1',
  '(paren)*star',
  'tab\there\nnewline\u0000nul\u007fdel\u0085nel',
  'ünïcødé – 日本語 – 🎓',
  ' leading and trailing ',
  'https://lms.example.com/courses/42?x=1#frag',
];

describe('encodeKey / decodeKey', () => {
  it.each(samples)('round-trips %j with only safe characters', (value) => {
    const key = encodeKey(value);
    expect(key).toMatch(SAFE_KEY);
    expect(key).not.toMatch(/[%'/\\#?]/);
    expect(decodeKey(key)).toBe(value);
  });

  it('leaves plain ids readable', () => {
    expect(encodeKey('enr-123_abc.X~')).toBe('enr-123_abc.X~');
    expect(encodeKey('a/b')).toBe('a!2Fb');
    expect(encodeKey("o'b!")).toBe('o!27b!21');
  });

  it('is injective over tricky neighbours', () => {
    const values = ['!', '%21', '!21', '%', '!25', "'", '%27', 'a b', 'a+b', 'a%20b', 'A', 'a'];
    const keys = values.map(encodeKey);
    expect(new Set(keys).size).toBe(values.length);
  });

  it('hashes over-long ids into a bounded, distinct, recognisable key', () => {
    const long = 'x'.repeat(MAX_ENCODED_KEY_LENGTH + 1);
    const longer = `${long}y`;
    const viaEscapes = '/'.repeat(300); // 900 characters once encoded
    for (const value of [long, longer, viaEscapes]) {
      const key = encodeKey(value);
      expect(key.length).toBeLessThanOrEqual(200);
      expect(key).toMatch(SAFE_KEY);
      expect(isHashedKey(key)).toBe(true);
      expect(decodeKey(key)).toBeUndefined();
    }
    expect(encodeKey(long)).not.toBe(encodeKey(longer));
    expect(encodeKey(long)).toBe(encodeKey(long));
    expect(encodeKey(long).startsWith('x'.repeat(100))).toBe(true);
    // The head never ends in half an escape.
    expect(encodeKey(`${'x'.repeat(99)}${'/'.repeat(300)}`)).toMatch(/^x{99}!h[0-9a-f]{64}$/);
  });

  it('keeps ids at the limit plain', () => {
    const value = 'x'.repeat(MAX_ENCODED_KEY_LENGTH);
    expect(encodeKey(value)).toBe(value);
    expect(isHashedKey(encodeKey(value))).toBe(false);
  });

  it('hashes ill-formed UTF-16 instead of throwing, keeping distinct ids apart', () => {
    const a = encodeKey('x\uD800');
    const b = encodeKey('x\uDC00');
    expect(isHashedKey(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).toMatch(SAFE_KEY);
  });

  it('rejects text that encodeKey never produces', () => {
    expect(() => decodeKey('a/b')).toThrow(TypeError);
    expect(() => decodeKey('a!zz')).toThrow(TypeError);
    expect(() => decodeKey('a%20')).toThrow(TypeError);
  });
});

describe('bucketOf / bucketKey', () => {
  it('is stable and in range', () => {
    expect(bucketOf('enr-1', 16)).toBe(bucketOf('enr-1', 16));
    for (let i = 0; i < 1000; i++) {
      const bucket = bucketOf(`enr-${i}`, 16);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(16);
    }
  });

  it('pins known values (partition keys must never move between versions)', () => {
    expect([bucketOf('enr-1', 16), bucketOf('enr-2', 16), bucketOf('enr-3', 16), bucketOf('', 16), bucketOf('日本', 16)]).toEqual([2, 2, 6, 2, 12]);
  });

  it('spreads sequential ids evenly', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const bucket = bucketOf(`enr-${i}`, 16);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('formats partition keys like b07', () => {
    expect(bucketKey('b', 'enr-1', 16)).toMatch(/^b(0\d|1[0-5])$/);
    expect(bucketKey('c', 'x', 4)).toMatch(/^c0[0-3]$/);
    expect(bucketKey('b', 'x', 1000)).toMatch(/^b\d{3}$/);
  });

  it('rejects a bad bucket count', () => {
    expect(() => bucketOf('x', 0)).toThrow(RangeError);
    expect(() => bucketOf('x', 1.5)).toThrow(RangeError);
  });
});
