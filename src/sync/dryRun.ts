import type { ExistingActivity, VivaGateway } from '../graph/gateway.js';
import type { ActivityBody, LearningContentBody } from '../mapping/graphTypes.js';
import type { LearnerRef } from '../mapping/learnerRef.js';
import type { CursorStore, Lease, SyncState } from '../state/types.js';
import type { PlannedCall } from './types.js';

/**
 * `--dry-run` swaps in this gateway and state (STYLE.md §11): the engine runs unchanged,
 * Graph is never called, the state is read but never written, and every call that would
 * have been made is recorded.
 */
export class RecordingGateway implements VivaGateway {
  readonly calls: PlannedCall[] = [];

  async upsertContent(externalId: string, body: LearningContentBody): Promise<{ id: string }> {
    this.calls.push({ method: 'PATCH', operation: 'upsert content', target: externalId, body });
    return { id: `dry-run-content:${externalId}` };
  }

  async getActivityByExternalId(externalId: string): Promise<ExistingActivity | undefined> {
    this.calls.push({ method: 'GET', operation: 'look up activity by external id', target: externalId });
    return undefined;
  }

  async createActivity(body: ActivityBody): Promise<{ id: string }> {
    this.calls.push({ method: 'POST', operation: 'create activity', target: body.externalCourseActivityId, body });
    return { id: `dry-run-activity:${body.externalCourseActivityId}` };
  }

  async updateActivity(id: string, body: ActivityBody): Promise<void> {
    this.calls.push({ method: 'PATCH', operation: 'update activity', target: `${body.externalCourseActivityId} (${id})`, body });
  }

  async deleteActivity(id: string): Promise<void> {
    this.calls.push({ method: 'DELETE', operation: 'delete activity', target: id });
  }

  async findUser(ref: LearnerRef): Promise<string | undefined> {
    if (ref.match === 'id') return ref.value;
    this.calls.push({ method: 'GET', operation: `look up user by ${ref.match}`, target: ref.value });
    return `dry-run-user:${ref.value}`;
  }
}

const noLease = (owner: string): Lease => ({ owner, expiresAt: new Date(8.64e15).toISOString(), renew: async () => {}, release: async () => {} });

/** Reads pass through to the real state; writes go nowhere. */
export function readOnlyState(state: SyncState): SyncState {
  return {
    cursor: readOnlyCursor(state.cursor),
    ledger: { getMany: (ids, o) => state.ledger.getMany(ids, o), putMany: async () => {}, list: (o) => state.ledger.list(o), listStatus: (o) => state.ledger.listStatus(o) },
    contents: { getMany: (ids, o) => state.contents.getMany(ids, o), put: async () => {}, putMany: async () => {}, listStatus: (o) => state.contents.listStatus(o) },
    learners: { get: (k, age, o) => state.learners.get(k, age, o), put: async () => {} },
    deadLetters: { get: (k, o) => state.deadLetters.get(k, o), put: async () => {}, delete: async () => {}, existing: (k, o) => state.deadLetters.existing(k, o), list: (o) => state.deadLetters.list(o), listBrief: (o) => state.deadLetters.listBrief(o), count: (o) => state.deadLetters.count(o) },
    runs: { put: async () => {}, get: (id, o) => state.runs.get(id, o), listRecent: (n, o) => state.runs.listRecent(n, o) },
    lease: { tryAcquire: async (owner) => noLease(owner), current: (o) => state.lease.current(o) },
  };
}

export function readOnlyCursor(cursor: CursorStore): CursorStore {
  return { get: (o) => cursor.get(o), save: async () => 'dry-run' };
}
