// Step 2 reads "the LB drops the SYN" from packets that are not in its capture: no answer from the LB, nothing
// passed to a server. A capture that lost packets or ended early cannot show that they are missing, so the step
// is inconclusive and names the gap (DESIGN: a cap before the deciding packet is never a failure). Recorded: an
// LB whose firewall drops the SYN after the capture saw it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CaptureView, CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const recorded = (): CheckObservation => readFixture('lb-drops-syn').observation;

function withModeCapture(obs: CheckObservation, edit: Partial<CaptureView>): CheckObservation {
  assert.ok(obs.mode?.lb, 'the recording has step 2 on the LB');
  return { ...obs, mode: { ...obs.mode, lb: { ...obs.mode.lb, ...edit } } };
}

function decided(obs: CheckObservation): { mode: ModeStep; culprit: string } {
  const d = decideCheck({ ...obs, options: { ...obs.options, all: true } });
  const mode = d.steps.find((s) => s.step === 2);
  assert.ok(mode && mode.name === 'mode');
  return { mode, culprit: d.diagnosis.culprit };
}

describe('step 2 with a gap in the LB capture', () => {
  it('the recording, complete: the LB drops the SYN, culprit lb', () => {
    const { mode, culprit } = decided(recorded());
    assert.equal(mode.verdict, 'fail');
    assert.equal(mode.finding, 'syn-dropped-on-lb');
    assert.equal(culprit, 'lb');
  });

  const gaps: [string, Partial<CaptureView>, RegExp][] = [
    ['its packet cap', { endedBy: 'packet-limit' }, /hit its packet cap/],
    ['a stream that never drained', { endedBy: 'unfinished' }, /stalled and never drained/],
    ["the kernel's drops", { droppedByKernel: 40 }, /kernel dropped 40 captured packets/],
  ];
  for (const [what, edit, said] of gaps) {
    it(`${what}: inconclusive, naming the gap, and no culprit lb`, () => {
      const { mode, culprit } = decided(withModeCapture(recorded(), edit));
      assert.equal(mode.verdict, 'inconclusive');
      assert.equal(mode.finding, undefined);
      assert.match(mode.summary, said);
      assert.match(mode.summary, /either may have happened unseen/);
      assert.notEqual(culprit, 'lb');
    });
  }
});
