import { createHash } from 'node:crypto';
import type { LedgerStore, StateOperationOptions } from '../state/types.js';
import { settledStatus } from './plan.js';

/**
 * What a full pass knows of the ledger before it reads a page: each row's settled status
 * (src/sync/plan.ts), read once by a partition scan, so that a record already in that state
 * costs no ledger read. Keyed reads cost a query each and a partition scan on some stores
 * (Azurite scans the whole table per query), which made an unchanged full pass of 100,000
 * enrollments take minutes.
 *
 * Held as 64-bit digests in an open-addressing table (16 bytes a slot, at most half full), not
 * as strings: about 4 MB per 100,000 rows. A digest collision can only send a record the slow
 * way (status differs) or, with odds near 2^-64 per record, skip one that needed a write.
 */
export class LedgerSnapshot {
  /** [keyHi, keyLo, statusHi, statusLo] per slot; key 0:0 marks a free slot, status 0:0 a forgotten one. */
  private slots: Uint32Array;
  private used = 0;

  private constructor(capacity: number) {
    this.slots = new Uint32Array(capacity * 4);
  }

  static async load(ledger: LedgerStore, options: StateOperationOptions = {}): Promise<LedgerSnapshot> {
    const snapshot = new LedgerSnapshot(1024);
    for await (const row of ledger.listStatus(options)) {
      const status = settledStatus(row);
      if (status !== undefined) snapshot.set(row.externalId, status);
    }
    return snapshot;
  }

  /** Rows held (forgotten ones included). */
  get size(): number {
    return this.used;
  }

  /** Does the ledger row of `externalId` hold exactly `status`, as far as this snapshot knows? */
  holds(externalId: string, status: string | undefined): boolean {
    if (status === undefined) return false;
    const slot = this.find(digest(externalId));
    if (slot < 0 || this.isForgotten(slot)) return false;
    const [hi, lo] = digest(status);
    return this.slots[slot + 2] === hi && this.slots[slot + 3] === lo;
  }

  /** This run is about to change the row: from now on ask the ledger itself. */
  forget(externalId: string): void {
    const slot = this.find(digest(externalId));
    if (slot < 0) return;
    this.slots[slot + 2] = 0;
    this.slots[slot + 3] = 0;
  }

  private set(key: string, status: string): void {
    if ((this.used + 1) * 2 > this.slots.length / 4) this.grow();
    const [hi, lo] = digest(key);
    const slot = this.probe(hi, lo);
    if (this.slots[slot] === 0 && this.slots[slot + 1] === 0) this.used += 1;
    const [shi, slo] = digest(status);
    this.slots.set([hi, lo, shi, slo], slot);
  }

  private find([hi, lo]: readonly [number, number]): number {
    const slot = this.probe(hi, lo);
    return this.slots[slot] === 0 && this.slots[slot + 1] === 0 ? -1 : slot;
  }

  /** The slot holding key hi:lo, or the free slot where it would go (linear probing). */
  private probe(hi: number, lo: number): number {
    const mask = this.slots.length / 4 - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const at = i * 4;
      const free = this.slots[at] === 0 && this.slots[at + 1] === 0;
      if (free || (this.slots[at] === hi && this.slots[at + 1] === lo)) return at;
    }
  }

  private isForgotten(slot: number): boolean {
    return this.slots[slot + 2] === 0 && this.slots[slot + 3] === 0;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let at = 0; at < old.length; at += 4) {
      const hi = old[at] ?? 0;
      const lo = old[at + 1] ?? 0;
      if (hi === 0 && lo === 0) continue;
      this.slots.set(old.subarray(at, at + 4), this.probe(hi, lo));
    }
  }
}

/** 64 bits of SHA-256, never 0:0 (the free-slot marker). */
function digest(text: string): [number, number] {
  const bytes = createHash('sha256').update(text, 'utf8').digest();
  const hi = bytes.readUInt32BE(0);
  const lo = bytes.readUInt32BE(4);
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}
