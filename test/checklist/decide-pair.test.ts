// HA pairs, decided from observations recorded on the lab's pair (no root):
// each rule that turns on one node's fact is tested by changing that fact, and
// the reason the group matters is shown: the same packets read as a single LB
// would blame the path to the LB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation, NodeReach } from '../../src/checklist/observation.js';
import type { ReachStep } from '../../src/model/report.js';
import { parseIpAddr } from '../../src/remote/vip-owner.js';
import { stepView } from '../../src/messages/views.js';
import { readFixture } from '../fixtures/fixture-files.js';

const reachOf = (obs: CheckObservation): ReachStep => decideCheck(obs).steps[0] as ReachStep;

function withNode(obs: CheckObservation, i: number, change: Partial<NodeReach>): CheckObservation {
  const nodes = (obs.reach.nodes ?? []).map((n, j) => (j === i ? { ...n, ...change } : n));
  return { ...obs, reach: { ...obs.reach, nodes } };
}

describe('HA pair: step 1 over every node', () => {
  it('the active node saw the SYN and holds the VIP: pass, the node named, no finding', () => {
    const reach = reachOf(readFixture('pair-active').observation);
    assert.equal(reach.verdict, 'pass');
    assert.match(reach.handledBy ?? '', /^lab-lb \(/);
    assert.equal(reach.finding, undefined);
  });

  it('the standby also holding the VIP turns the same packets into split brain (culprit lb)', () => {
    const obs = withNode(readFixture('pair-active').observation, 1, { ownsVip: true });
    assert.equal(reachOf(obs).finding, 'split-brain');
    assert.equal(reachOf(obs).verdict, 'warn');
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'lb');
    assert.equal(d.finding, 'split-brain');
  });

  it('an active/active group: both nodes holding the VIP is the design, not split brain; a failover is not named', () => {
    const split = readFixture('split-brain').observation;
    const aa = { ...split, target: { ...split.target, activeActive: true } };
    const reach = reachOf(aa);
    assert.equal(reach.verdict, 'pass');
    assert.equal(reach.finding, undefined);
    assert.equal(decideCheck(aa).diagnosis.culprit, 'none');
    const over = readFixture('failover-to-standby').observation;
    assert.equal(reachOf({ ...over, target: { ...over.target, activeActive: true } }).finding, undefined);
    // A SYN at a node that holds nothing, while another holds the VIP, is still the wrong node.
    const wrong = readFixture('vip-on-wrong-node').observation;
    assert.equal(reachOf({ ...wrong, target: { ...wrong.target, activeActive: true } }).finding, 'vip-on-wrong-node');
  });

  it('ownership unreadable on the standby: no accusation, the handling node still named', () => {
    const obs = withNode(readFixture('failover-to-standby').observation, 0, { ownsVip: null, error: 'ip: not found' });
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'pass');
    assert.match(reach.handledBy ?? '', /^lab-lb2 \(/);
    assert.equal(reach.finding, 'failed-over');
    assert.equal(reach.nodes?.[0]?.error, 'ip: not found');
  });

  it('a failover is not a fault: culprit none, the standby named as the one that handled it', () => {
    const d = decideCheck(readFixture('failover-to-standby').observation).diagnosis;
    assert.equal(d.culprit, 'none');
    assert.match(d.summary, /lab-lb2 .*failed over/);
  });

  it('a standby without a capture (SSH refused) is listed, and the active node decides alone', () => {
    const obs = withNode(readFixture('pair-active').observation, 1, {
      lb: null,
      ownsVip: null,
      error: 'SSH refused',
    });
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'pass');
    assert.deepEqual(reach.nodes?.[1], {
      name: reach.nodes?.[1]?.name,
      sawSyn: null,
      ownsVip: null,
      error: 'SSH refused',
    });
  });

  for (const name of ['vip-on-wrong-node', 'vip-on-no-node']) {
    it(`${name}: a group-aware check blames the pair, where the VIP holder's capture alone would blame something in front of the LB`, () => {
      const obs = readFixture(name).observation;
      assert.equal(decideCheck(obs).diagnosis.culprit, 'lb');
      // The old reading: one LB (the one that is supposed to hold the VIP), its capture only.
      const holder = obs.reach.nodes?.[1];
      assert.ok(holder);
      const { nodes: _nodes, handledBy: _handledBy, ...singleReach } = obs.reach;
      const single: CheckObservation = { ...obs, reach: { ...singleReach, lb: holder.lb } };
      // (the probe was looped back by the old node's routing: an ICMP error a single-LB reading takes for an impostor)
      assert.ok(['path-to-lb', 'impostor'].includes(decideCheck(single).diagnosis.culprit));
    });
  }

  it('the SYN reached a node that does not hold the VIP and the other could not be asked: the pair, not a pass', () => {
    const obs = withNode(readFixture('vip-on-no-node').observation, 1, {
      lb: null,
      ownsVip: null,
      error: 'SSH refused',
    });
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'fail');
    assert.equal(reach.finding, 'vip-on-wrong-node');
    assert.match(reach.summary, /^The probe's SYN arrived at lab-lb .*, which does not hold the VIP/);
    assert.match(reach.summary, /whether lab-lb2 .* holds it is unknown/);
    assert.equal(decideCheck(obs).diagnosis.culprit, 'lb');
  });

  it('no node holds the VIP and no node saw the SYN: still the pair, never the path', () => {
    const obs = readFixture('vip-on-no-node').observation;
    const noSyn = withNode(obs, 0, { lb: obs.reach.nodes?.[1]?.lb ?? null });
    const reach = reachOf({ ...noSyn, reach: { ...noSyn.reach, lb: noSyn.reach.nodes?.[1]?.lb ?? null } });
    assert.equal(reach.finding, 'vip-on-no-node');
    assert.match(reach.summary, /reached no node/);
  });
});

describe('HA pair in chat', () => {
  it("step 1's facts list each node: saw the SYN, holds the VIP, which handled the probe, and the finding", () => {
    const reach = readFixture('split-brain').report.steps[0] as ReachStep;
    const facts = stepView(reach, []).facts.map((f) => `${f.label}: ${f.value}`);
    assert.ok(
      facts.some((f) => /^Node lab-lb \(.*\): saw SYN yes · holds VIP yes · handled the probe$/.test(f)),
      facts.join('\n'),
    );
    assert.ok(
      facts.some((f) => /^Node lab-lb2 \(.*\): saw SYN no · holds VIP yes$/.test(f)),
      facts.join('\n'),
    );
    assert.ok(facts.includes('HA group: split-brain'));
  });
});

describe('ip -o addr parsing', () => {
  it('finds IPv4 and IPv6 addresses without their prefix, on any interface', () => {
    const text = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '1: lo    inet 198.18.2.1/32 scope global lo\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 198.18.1.2/24 brd 198.18.1.255 scope global eth0\\       valid_lft forever',
      '2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever',
    ].join('\n');
    assert.deepEqual(parseIpAddr(text), ['127.0.0.1', '198.18.2.1', '198.18.1.2', 'fe80::1']);
    assert.deepEqual(parseIpAddr('garbage\n'), []);
  });
});
