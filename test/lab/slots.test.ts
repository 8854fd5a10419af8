// Lab slots (each a /22 of 198.18.0.0/15, reserved as a directory under /run/lbcheck-lab): a random free one, or
// the one LBCHECK_LAB_SLOT pins (fixtures refreshed one by one stay in their set's addresses).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { SLOT_COUNT } from './addresses.js';
import { releaseSlot, reserveSlot, slotDir } from './slots.js';

const taken: number[] = [];
after(() => {
  for (const slot of taken) releaseSlot(slot);
  delete process.env.LBCHECK_LAB_SLOT;
});

/** A slot no run holds now, found by reserving one at random (then pinned below). */
function freeSlot(): number {
  delete process.env.LBCHECK_LAB_SLOT;
  const slot = reserveSlot('slots-test');
  releaseSlot(slot);
  return slot;
}

describe('lab slots', () => {
  it('LBCHECK_LAB_SLOT pins the slot; pinned and taken is an error, not another slot', () => {
    const slot = freeSlot();
    process.env.LBCHECK_LAB_SLOT = String(slot);
    assert.equal(reserveSlot('slots-test'), slot);
    taken.push(slot);
    assert.ok(existsSync(slotDir(slot)));
    assert.throws(() => reserveSlot('slots-test-2'), new RegExp(`lab slot ${slot} \\(LBCHECK_LAB_SLOT\\) is taken`));
  });

  it('a pin that is no slot number is refused with the range', () => {
    for (const bad of ['-1', String(SLOT_COUNT), 'x', '1.5']) {
      process.env.LBCHECK_LAB_SLOT = bad;
      assert.throws(() => reserveSlot('slots-test'), /not a slot number from 0 to 127/);
    }
  });
});
