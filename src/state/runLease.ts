import type { TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, hasStatus, readOptionalString, readString, toWritableEntity, truncateText } from './tableClients.js';
import type { FlatEntity, StoredEntity } from './tableClients.js';
import { LeaseLostError } from './types.js';
import type { Lease, LeaseHolder, RunLease, StateOperationOptions } from './types.js';

const PARTITION_KEY = 'lease';
const ROW_KEY = 'sync';
/** A takeover can race with a release; retrying from the read a couple of times settles it. */
const MAX_ATTEMPTS = 3;

type Clock = () => number;

function leaseEntity(owner: string, expiresAtMs: number, holder: string | undefined): FlatEntity {
  return toWritableEntity({ partitionKey: PARTITION_KEY, rowKey: ROW_KEY, owner, expiresAt: new Date(expiresAtMs).toISOString(), holder: holder === undefined ? undefined : truncateText(holder, 500) });
}

function isLive(entity: StoredEntity, nowMs: number): boolean {
  const expiresAt = Date.parse(readString(entity, 'expiresAt'));
  // An unreadable expiry is treated as expired, so a damaged row cannot block runs forever.
  return Number.isFinite(expiresAt) && expiresAt > nowMs;
}

/**
 * One lease entity decides which run may sync. Every change to it is conditional (create, or
 * update/delete with the ETag last seen), so two runs can never both believe they hold it.
 */
export class TableRunLease implements RunLease {
  readonly #client: TableClient;
  readonly #now: Clock;

  constructor(client: TableClient, options: { readonly now?: Clock } = {}) {
    this.#client = client;
    this.#now = options.now ?? Date.now;
  }

  async tryAcquire(owner: string, ttlMs: number, options: StateOperationOptions & { readonly holder?: string } = {}): Promise<Lease | undefined> {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    // Most runs find the lease free (released, never taken): the create alone takes it, one round trip
    // instead of a read and a create. A 409 means a row is there, live or not: read it and judge as before.
    const created = await this.#tryCreate(owner, ttlMs, options);
    if (created !== undefined) return created;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await getEntityOrUndefined(this.#client, PARTITION_KEY, ROW_KEY, options);
      const now = this.#now();
      if (current !== undefined && readString(current, 'owner') !== owner && isLive(current, now)) return undefined;
      const entity = leaseEntity(owner, now + ttlMs, options.holder);
      try {
        const response =
          current === undefined
            ? await this.#client.createEntity(entity, { abortSignal: options.abortSignal })
            : await this.#client.updateEntity(entity, 'Replace', { etag: current.etag, abortSignal: options.abortSignal });
        if (response.etag === undefined) throw new Error('Table Storage returned no ETag for the run lease.');
        return new TableLease(this.#client, this.#now, { owner, ttlMs, expiresAtMs: now + ttlMs, etag: response.etag, holder: options.holder });
      } catch (err) {
        // 409: another run created it first; 412: another run changed it since we read it.
        if (hasStatus(err, 409, 412)) return undefined;
        // 404: it was released between our read and our takeover; start again.
        if (hasStatus(err, 404)) continue;
        throw err;
      }
    }
    return undefined;
  }

  /** The lease by create (atomic: fails with 409 when any row is there); undefined when a row exists. */
  async #tryCreate(owner: string, ttlMs: number, options: StateOperationOptions & { readonly holder?: string }): Promise<Lease | undefined> {
    const now = this.#now();
    try {
      const response = await this.#client.createEntity(leaseEntity(owner, now + ttlMs, options.holder), { abortSignal: options.abortSignal });
      if (response.etag === undefined) throw new Error('Table Storage returned no ETag for the run lease.');
      return new TableLease(this.#client, this.#now, { owner, ttlMs, expiresAtMs: now + ttlMs, etag: response.etag, holder: options.holder });
    } catch (err) {
      if (hasStatus(err, 409)) return undefined;
      throw err;
    }
  }

  async current(options: StateOperationOptions = {}): Promise<LeaseHolder | undefined> {
    const entity = await getEntityOrUndefined(this.#client, PARTITION_KEY, ROW_KEY, options);
    if (entity === undefined || !isLive(entity, this.#now())) return undefined;
    const holder = readOptionalString(entity, 'holder');
    return { owner: readString(entity, 'owner'), expiresAt: readString(entity, 'expiresAt'), ...(holder !== undefined ? { holder } : {}) };
  }
}

class TableLease implements Lease {
  readonly owner: string;
  readonly holder: string | undefined;
  readonly #client: TableClient;
  readonly #now: Clock;
  readonly #ttlMs: number;
  #expiresAtMs: number;
  #etag: string;

  constructor(client: TableClient, now: Clock, held: { owner: string; ttlMs: number; expiresAtMs: number; etag: string; holder: string | undefined }) {
    this.#client = client;
    this.#now = now;
    this.owner = held.owner;
    this.holder = held.holder;
    this.#ttlMs = held.ttlMs;
    this.#expiresAtMs = held.expiresAtMs;
    this.#etag = held.etag;
  }

  get expiresAt(): string {
    return new Date(this.#expiresAtMs).toISOString();
  }

  async renew(options: StateOperationOptions = {}): Promise<void> {
    const expiresAtMs = this.#now() + this.#ttlMs;
    try {
      const response = await this.#client.updateEntity(leaseEntity(this.owner, expiresAtMs, this.holder), 'Replace', {
        etag: this.#etag,
        abortSignal: options.abortSignal,
      });
      if (response.etag === undefined) throw new Error('Table Storage returned no ETag for the run lease.');
      this.#etag = response.etag;
      this.#expiresAtMs = expiresAtMs;
    } catch (err) {
      // 412: another run took it over; 404: it was released (or taken and released) meanwhile.
      if (hasStatus(err, 412, 404)) throw new LeaseLostError(this.owner);
      throw err;
    }
  }

  async release(options: StateOperationOptions = {}): Promise<void> {
    try {
      await this.#client.deleteEntity(PARTITION_KEY, ROW_KEY, { etag: this.#etag, abortSignal: options.abortSignal });
    } catch (err) {
      // Gone, or already someone else's: either way this run no longer holds it.
      if (!hasStatus(err, 404, 412)) throw err;
    }
  }
}
