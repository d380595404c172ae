import { afterEach, describe, expect, it } from 'vitest';
import { startDemoLms, type DemoAdapter, type DemoLms } from '../../src/sandbox/lms/demoLms.js';
import { stableGuid } from '../../src/sandbox/tenant.js';
import { SyncHarness } from '../support/syncHarness.js';

let harness: SyncHarness | undefined;
let demo: DemoLms | undefined;
afterEach(async () => {
  await harness?.close();
  await demo?.stop();
  harness = undefined;
  demo = undefined;
});

const LEARNERS = ['alex.wilber', 'megan.bowen', 'lynne.robbins', 'diego.siciliani'].map((n) => `${n}@contoso.example`);

/** What `LMS_ADAPTER=<adapter> npm start` syncs with nothing beside the clone: generated data, no reference captures. */
describe.each<[DemoAdapter, { created: number; deleted: number; catalog: boolean }]>([
  ['canvas', { created: 3, deleted: 1, catalog: true }],
  ['moodle', { created: 3, deleted: 1, catalog: true }],
  ['oneroster', { created: 3, deleted: 2, catalog: true }],
  ['xapi', { created: 3, deleted: 1, catalog: false }],
])('the %s stand-in with generated data', (adapter, expected) => {
  it('syncs enrollments in every state, an unenrolment, an unenrolled course and a retired one; a second run changes nothing', async () => {
    demo = await startDemoLms(adapter);
    harness = await SyncHarness.create();
    delete harness.env['LMS_FILE_PATH'];
    Object.assign(harness.env, { LMS_ADAPTER: adapter, ...demo.settings });
    for (const email of LEARNERS) harness.standIn.addUser({ id: stableGuid(email), userPrincipalName: email, mail: email });
    const first = await harness.run();
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ created: expected.created, deleted: expected.deleted, failed: 0 });
    if (expected.catalog) {
      expect(first.catalog).toMatchObject({ created: 2, retired: 1, failed: 0, complete: true });
      expect(harness.standIn.contents().filter((c) => !c.isActive)).toHaveLength(1);
    } else {
      expect(first.catalog).toBeUndefined();
    }
    harness.standIn.resetStats();
    const second = await harness.run();
    expect(second.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    expect(harness.standIn.stats().writes).toBe(0);
  });
});
