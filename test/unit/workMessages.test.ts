import { describe, expect, it } from 'vitest';
import { learnerKey } from '../../src/mapping/learnerRef.js';
import { planChanges } from '../../src/sync/plan.js';
import { splitIntoBatches } from '../../src/sync/queue/enqueuePlan.js';
import { InvalidWorkMessageError, MAX_MESSAGE_JSON_BYTES, parseWorkBatch } from '../../src/sync/queue/messages.js';
import type { WorkItem } from '../../src/sync/types.js';
import { decodeQueueMessage, encodeQueueMessage, poisonQueueName } from '../../src/state/queueClients.js';
import { anEnrollment, aWithdrawal } from '../support/builders.js';

function planned(n: number, learners = 7): WorkItem[] {
  const records = Array.from({ length: n }, (_, i) => anEnrollment({ enrollmentId: `enr-${i}`, learner: { upn: `p${i % learners}@contoso.example`, email: `p${i % learners}@contoso.example` } }));
  return [...planChanges({ records: [...records, aWithdrawal({ enrollmentId: 'gone' })], ledger: new Map(), ledgerComplete: false, learnerMatch: 'userPrincipalName' }).items];
}

const message = (items: readonly WorkItem[]) => ({ version: 1, kind: 'workBatch', runId: 'r1', pageId: 'r1.000001', batchId: 'b0001', items });

describe('work batch messages', () => {
  it('round-trips through the queue encoding, as a string or as the object the host parsed', () => {
    const items = planned(3);
    const json = JSON.stringify(message(items));
    expect(parseWorkBatch(decodeQueueMessage(encodeQueueMessage(json))).items).toEqual(items);
    expect(parseWorkBatch(JSON.parse(json)).items).toEqual(items);
    expect(decodeQueueMessage(json)).toBe(json);
    expect(poisonQueueName('vivasync-work')).toBe('vivasync-work-poison');
  });

  it.each([
    ['not JSON', '{oops', /not JSON/],
    ['another version', { ...message([]), version: 2 }, /version 2/],
    ['another kind', { ...message([]), kind: 'other' }, /kind "other"/],
    ['no page id', { ...message([]), pageId: '' }, /pageId/],
    ['items and a ref', { ...message([]), ref: 'x' }, /either items or a ref/],
    ['a bad item', message([{ version: 1, kind: 'create' } as unknown as WorkItem]), /items\[0\]: no externalId/],
    ['an item of another version', message([{ ...planned(1)[0], version: 3 } as unknown as WorkItem]), /items\[0\]: unsupported work item version 3/],
  ])('refuses %s', (_label, input, reason) => {
    expect(() => parseWorkBatch(typeof input === 'string' ? input : JSON.stringify(input))).toThrow(InvalidWorkMessageError);
    expect(() => parseWorkBatch(typeof input === 'string' ? input : JSON.stringify(input))).toThrow(reason);
  });
});

describe('splitIntoBatches', () => {
  it('keeps each learner in one batch, every item once, within the item limit', () => {
    const items = planned(120);
    const batches = splitIntoBatches(items, {}, 25);
    expect(batches.flatMap((b) => b.items).map((i) => i.externalId).sort()).toEqual(items.map((i) => i.externalId).sort());
    for (const b of batches) expect(b.items.length).toBeLessThanOrEqual(25);
    const batchOf = new Map<string, Set<number>>();
    batches.forEach((b, index) => {
      for (const item of b.items) if (item.kind !== 'delete') batchOf.set(learnerKey(item.draft.learner), new Set([...(batchOf.get(learnerKey(item.draft.learner)) ?? []), index]));
    });
    // A learner's items stay in one partition: the batches cut from it are consecutive.
    for (const indexes of batchOf.values()) {
      const sorted = [...indexes].sort((a, b) => a - b);
      expect((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)).toBe(sorted.length - 1);
    }
  });

  it('keeps every message under the queue limit, whatever the sources weigh', () => {
    const items = planned(40, 40);
    const sources = Object.fromEntries(items.map((i) => [i.enrollmentId, { record: 'x'.repeat(5_000), position: 'line 1' }]));
    const batches = splitIntoBatches(items, sources, 50);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(Buffer.byteLength(JSON.stringify(message(b.items))) + Buffer.byteLength(JSON.stringify(b.sources))).toBeLessThanOrEqual(MAX_MESSAGE_JSON_BYTES);
  });
});
