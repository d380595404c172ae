import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { LeaseLostError, type Lease, type RunLease } from '../state/types.js';
import type { Logger } from './logger.js';

/**
 * A run's lease is short and renewed in the background (like the Functions host's own singleton
 * lock, 15 s): a run whose process dies blocks the next one for at most the TTL, while a live
 * run keeps it however long it lasts.
 */
export const DEFAULT_LEASE_TTL_MS = 15_000;

/** Another run holds the lease: this one did nothing. */
export class RunInProgressError extends Error {
  override readonly name = 'RunInProgressError';
  constructor(
    readonly holder: string,
    readonly until: string,
    readonly description?: string,
  ) {
    super(`Another sync run (${holder}${description !== undefined ? `, ${description}` : ''}) holds the run lease until ${until}; not starting.`);
  }
}

export interface HeldLease {
  /** Aborted when the caller aborts or the lease is lost. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface HoldLeaseOptions {
  readonly ttlMs?: number;
  /** Who is asking, for `viva-sync status` and the refusal message (the trigger). */
  readonly trigger: string;
  readonly logger: Logger;
  readonly abortSignal?: AbortSignal;
}

/** Who holds the lease, for people: the trigger, the host and the process. */
export function holderOf(trigger: string): string {
  return `${trigger} on ${hostname()} pid ${process.pid}`;
}

/**
 * Takes the run lease for `owner` (or throws RunInProgressError naming the holder) and renews it
 * every third of its TTL until released. A renewal refused because another run took the lease
 * stops the run at once; a renewal that merely failed (storage busy) is tried again, and stops the
 * run only once the lease may have expired.
 */
export async function holdRunLease(lease: RunLease, owner: string, options: HoldLeaseOptions): Promise<HeldLease> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const held = await lease.tryAcquire(owner, ttlMs, { holder: holderOf(options.trigger), ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}) });
  if (held === undefined) {
    const current = await lease.current();
    throw new RunInProgressError(current?.owner ?? 'unknown', current?.expiresAt ?? 'unknown', current?.holder);
  }
  // Our own controller: a lost lease stops the run as surely as the caller's abort.
  const controller = new AbortController();
  // Every request in flight listens to this signal; the default limit of 10 would warn.
  setMaxListeners(0, controller.signal);
  const outer = options.abortSignal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  if (outer?.aborted === true) controller.abort(outer.reason);

  const renewEvery = Math.max(1_000, Math.floor(ttlMs / 3));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // One renewal at a time: a second one sent with the same ETag would lose to the first and read as a lost lease.
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void renew(held), renewEvery);
    timer.unref();
  };
  const renew = async (current: Lease): Promise<void> => {
    try {
      await current.renew();
    } catch (err) {
      const lost = err instanceof LeaseLostError || Date.now() + 1_000 >= Date.parse(current.expiresAt);
      const reason = err instanceof Error ? err.message : String(err);
      if (lost) {
        options.logger.error('Lost the run lease; stopping', { runId: owner, reason });
        controller.abort(err instanceof LeaseLostError ? err : new LeaseLostError(owner));
        return;
      }
      options.logger.warn('Could not renew the run lease; trying again', { runId: owner, reason });
    }
    schedule();
  };
  schedule();

  return {
    signal: controller.signal,
    release: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
      await held.release().catch(() => undefined);
    },
  };
}
