// Step 1's "Answered by" fact: a healthy direct-server-return VIP is answered by a server, around the LB, not by
// "none".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { stepView } from '../../src/messages/views.js';
import type { Step } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const answeredBy = (name: string): string | undefined => {
  const step = decideCheck(readFixture(name).observation).steps[0] as Step;
  return stepView(step, []).facts.find((f) => f.label === 'Answered by')?.value;
};

describe('step 1: Answered by', () => {
  it('healthy DSR: a server, directly', () => {
    assert.equal(answeredBy('healthy-dsr'), 'a server, directly (DSR: its answer went around the LB)');
  });
  it('a proxy answering itself: lb', () => assert.equal(answeredBy('healthy-haproxy-http'), 'lb'));
  it('nothing reached the LB and nothing answered: none', () => assert.equal(answeredBy('dropped-before-lb'), 'none'));
});
