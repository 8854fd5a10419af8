// An HA group whose nodes saw no SYN: nobody handled the probe, and a step that was not judged reports nothing it
// did not observe (no mode, no proxy kind, no server side).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { decideModeStep } from '../../src/checklist/decide/step-mode.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep, ReachStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

/** The recorded group, as if the router's ARP entry were gone too: no node's capture saw anything. */
function nobodySawIt(name: string): CheckObservation {
  const obs = readFixture(name).observation;
  obs.options.all = true;
  for (const n of obs.reach.nodes ?? []) if (n.lb) n.lb = { ...n.lb, packets: [] };
  if (obs.reach.lb) obs.reach.lb = { ...obs.reach.lb, packets: [] };
  if (obs.mode?.lb) obs.mode.lb = { ...obs.mode.lb, packets: [] };
  return obs;
}

describe('an HA group where no node saw the SYN', () => {
  it('vip-on-no-node: no node is named as having handled it', () => {
    const reach = decideCheck(nobodySawIt('vip-on-no-node')).steps[0] as ReachStep;
    assert.equal(reach.finding, 'vip-on-no-node');
    assert.equal(reach.handledBy, undefined);
  });

  for (const name of ['vip-on-wrong-node-all']) {
    it(`${name}: no handledBy, and step 2 says no node was reached`, () => {
      const d = decideCheck(nobodySawIt(name));
      const reach = d.steps[0] as ReachStep;
      assert.ok(reach.nodes && reach.nodes.length >= 2);
      assert.ok(reach.nodes.every((n) => n.sawSyn !== true));
      assert.equal(reach.handledBy, undefined);
      const mode = d.steps[1] as ModeStep;
      assert.equal(mode.verdict, 'skipped');
      assert.doesNotMatch(mode.summary, /reached lab-lb/);
      assert.equal(mode.mode, 'unknown');
      assert.equal(mode.proxyKind, null);
      assert.deepEqual(mode.serverSide, []);
    });
  }

  it('a node that saw the SYN still names itself the handler', () => {
    const reach = decideCheck(readFixture('pair-active').observation).steps[0] as ReachStep;
    assert.ok(reach.handledBy);
  });

  it('a skipped step 2 reports no mode even when the capture it did not judge shows one (warm ARP case)', () => {
    // An L4 forwarder's recorded step 2, decided as if step 1 had found the SYN on a node without the VIP.
    const obs = readFixture('healthy-dnat').observation;
    const reach = decideCheck(obs).steps[0] as ReachStep;
    const at = { observedAt: obs.observedAt, connectMs: obs.reach.connect.ms };
    assert.equal(decideModeStep(obs.target, reach, obs.mode!, at).mode, 'L4');
    const skipped = decideModeStep(obs.target, { ...reach, finding: 'vip-on-wrong-node' }, obs.mode!, at);
    assert.equal(skipped.verdict, 'skipped');
    assert.equal(skipped.mode, 'unknown');
    assert.equal(skipped.proxyKind, null);
    assert.deepEqual(skipped.serverSide, []);
    // No node saw the SYN (no handler): step 2 names none.
    const none = decideModeStep(obs.target, { ...reach, finding: 'vip-on-no-node' }, obs.mode!, at);
    assert.match(none.summary, /reached no node of the group/);
  });
});
