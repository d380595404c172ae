import { describe, expect, it } from 'vitest';
import type { LearnerMatch } from '../../src/mapping/learnerRef.js';
import { rehearseDelivery } from '../../src/webhook/rehearsal.js';

describe("the warm-up's made-up delivery", () => {
  // A step that refused it (the signature, the record's schema, the plan) would stay cold for the first real webhook.
  it.each<LearnerMatch>(['userPrincipalName', 'mail', 'employeeId', 'id'])('goes through every step of the webhook with LEARNER_MATCH=%s', (learnerMatch) => {
    expect(rehearseDelivery({ learnerMatch, providerId: '9f1b2c3d-0000-4000-8000-000000000001' })).toBe(true);
  });
});
