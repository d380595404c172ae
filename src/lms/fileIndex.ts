/**
 * The compact index the file adapter builds in its first pass: for each record selected,
 * its updatedAt (ms), byte offset, byte length and starting line, in growable typed arrays
 * (24 bytes a record, plus 4 for the sort order when the file is not already in order).
 * Records are read back by offset in the second pass; nothing else of them is kept.
 */
import type { FileHandle } from 'node:fs/promises';
import { scanRecords, type FileKind, type RecordSpan, type ScanOptions } from './recordScanner.js';

/** Where a record sorts: by updatedAt (NaN, an unreadable updatedAt, first), then by file position. */
export interface IndexKey {
  /** NaN when the record's updatedAt cannot be read. */
  readonly updatedAtMs: number;
  /** Byte offset of the record in the file. */
  readonly position: number;
}

export function compareKeys(aMs: number, aPos: number, bMs: number, bPos: number): number {
  const aNone = Number.isNaN(aMs);
  const bNone = Number.isNaN(bMs);
  if (aNone !== bNone) return aNone ? -1 : 1;
  if (!aNone && aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aPos - bPos;
}

/** Which records a listing returns. */
export interface Selection {
  /** Records whose updatedAt is at least this (−Infinity: all). Records with no readable updatedAt are always selected. */
  readonly fromMs: number;
  /** Resume strictly after this key (a continuation token). */
  readonly after?: IndexKey;
}

export function isSelected(selection: Selection, updatedAtMs: number, position: number): boolean {
  if (!Number.isNaN(updatedAtMs) && updatedAtMs < selection.fromMs) return false;
  const after = selection.after;
  return after === undefined || compareKeys(updatedAtMs, position, after.updatedAtMs, after.position) > 0;
}

const INITIAL_CAPACITY = 1024;
const U32_MAX = 0xffff_ffff;

export class FileIndex {
  #count = 0;
  #updatedAtMs = new Float64Array(INITIAL_CAPACITY);
  #offsets = new Float64Array(INITIAL_CAPACITY);
  #lengths = new Uint32Array(INITIAL_CAPACITY);
  #lines = new Uint32Array(INITIAL_CAPACITY);
  /** rank -> entry, only when entries were not added in key order. */
  #order: Uint32Array | undefined;
  #inOrder = true;
  #finished = false;

  get count(): number {
    return this.#count;
  }

  /** True when the file was already in (updatedAt, position) order: the second pass then reads it front to back. */
  get inOrder(): boolean {
    return this.#inOrder;
  }

  /** Bytes held by the index's arrays. */
  get byteLength(): number {
    return this.#updatedAtMs.byteLength + this.#offsets.byteLength + this.#lengths.byteLength + this.#lines.byteLength + (this.#order?.byteLength ?? 0);
  }

  push(updatedAtMs: number, offset: number, length: number, line: number): void {
    if (this.#finished) throw new Error('FileIndex.push after finish');
    const i = this.#count;
    if (i === this.#updatedAtMs.length) this.#resize(i * 2);
    if (i > 0 && this.#inOrder && compareKeys(this.#updatedAtMs[i - 1] ?? NaN, this.#offsets[i - 1] ?? 0, updatedAtMs, offset) > 0) {
      this.#inOrder = false;
    }
    this.#updatedAtMs[i] = updatedAtMs;
    this.#offsets[i] = offset;
    this.#lengths[i] = Math.min(length, U32_MAX);
    this.#lines[i] = Math.min(line, U32_MAX);
    this.#count = i + 1;
  }

  /** Trims the arrays to size and sorts (only when the file was out of order). */
  finish(): this {
    if (this.#finished) return this;
    this.#finished = true;
    this.#resize(this.#count);
    if (!this.#inOrder) {
      const ms = this.#updatedAtMs;
      const offsets = this.#offsets;
      const order = new Uint32Array(this.#count);
      for (let i = 0; i < order.length; i++) order[i] = i;
      order.sort((a, b) => compareKeys(ms[a] ?? NaN, offsets[a] ?? 0, ms[b] ?? NaN, offsets[b] ?? 0));
      this.#order = order;
    }
    return this;
  }

  #entry(rank: number): number {
    if (!this.#finished) throw new Error('FileIndex read before finish');
    if (rank < 0 || rank >= this.#count) throw new RangeError(`rank ${rank} is outside 0..${this.#count - 1}`);
    return this.#order === undefined ? rank : (this.#order[rank] ?? rank);
  }

  /** The rank-th record in listing order. */
  at(rank: number): { readonly updatedAtMs: number; readonly offset: number; readonly length: number; readonly line: number } {
    const i = this.#entry(rank);
    return {
      updatedAtMs: this.#updatedAtMs[i] ?? NaN,
      offset: this.#offsets[i] ?? 0,
      length: this.#lengths[i] ?? 0,
      line: this.#lines[i] ?? 0,
    };
  }

  #resize(capacity: number): void {
    const grow = <T extends Float64Array | Uint32Array>(from: T, make: (n: number) => T): T => {
      const to = make(capacity);
      to.set(from.subarray(0, Math.min(this.#count, capacity)));
      return to;
    };
    this.#updatedAtMs = grow(this.#updatedAtMs, (n) => new Float64Array(n));
    this.#offsets = grow(this.#offsets, (n) => new Float64Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Uint32Array(n));
    this.#lines = grow(this.#lines, (n) => new Uint32Array(n));
  }
}

/**
 * Reads a record's updatedAt in the first pass: ms, NaN when unreadable, or undefined for a
 * row that is not a record (a CSV header, a row of empty fields). `text` is undefined when
 * the record is too long to decode.
 */
export type UpdatedAtReader = (span: RecordSpan, text: string | undefined) => number | undefined;

/** The first pass: streams the file and indexes the selected records. */
export async function buildFileIndex(handle: FileHandle, kind: FileKind, readUpdatedAtMs: UpdatedAtReader, selection: Selection, options: ScanOptions = {}): Promise<FileIndex> {
  const index = new FileIndex();
  await scanRecords(
    handle,
    kind,
    (span, text) => {
      const ms = readUpdatedAtMs(span, text);
      if (ms !== undefined && isSelected(selection, ms, span.offset)) index.push(ms, span.offset, span.length, span.line);
    },
    options,
  );
  return index.finish();
}
