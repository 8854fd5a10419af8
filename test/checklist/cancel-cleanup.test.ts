// The words a cancel posts: "stopped" only for what has exited within the budget, the rest "still stopping",
// and a shared capture other checks still use named as kept for them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cleanupText,
  notStartedText,
  stoppedLaterText,
  stopWithin,
} from '../../src/checklist/observe/cancel-cleanup.js';

describe('cancel cleanup words', () => {
  it('splits what exited within the budget from what is still stopping', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const c = await stopWithin(
      [
        { what: 'the capture on the LB (lb1)', exited: Promise.resolve() },
        { what: "step 3's probes of the members", exited: slow },
      ],
      [],
      50,
    );
    assert.deepEqual(c.stopped, ['the capture on the LB (lb1)']);
    assert.deepEqual(
      c.stopping.map((s) => s.what),
      ["step 3's probes of the members"],
    );
    const text = cleanupText(c);
    assert.match(text, /^Stopped before this message .*: the capture on the LB \(lb1\)\./);
    assert.match(text, /Still stopping: step 3's probes of the members; a follow-up says when it has stopped\./);
    release();
    assert.match(
      stoppedLaterText('chk-0123456789', c.stopping, 1500),
      /stopped 1\.5 s after the cancelled notice \(gone/,
    );
  });

  it('a shared capture still leased by others is said to keep running for them, never "stopped"', async () => {
    const c = await stopWithin([], [{ what: 'the capture on the LB (lb1)', others: 2 }], 50);
    const text = cleanupText(c);
    assert.match(
      text,
      /^The capture on the LB \(lb1\) is shared with 2 other running checks .* keeps running for them/,
    );
    assert.doesNotMatch(text, /Stopped/);
  });

  it('a check cancelled before anything started claims nothing', () => {
    assert.equal(cleanupText(undefined), 'Nothing of it had started on the LB or here.');
    assert.equal(notStartedText(1), 'Nothing of it had started on the LB or here.');
  });

  it('a check cancelled while waiting for another attempt does not say nothing of it had started', () => {
    const text = notStartedText(2);
    assert.doesNotMatch(text, /had started/);
    assert.match(text, /^It was waiting to be tried again and will not be: nothing of it was running here/);
  });
});
