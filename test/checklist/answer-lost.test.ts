// The LB answered the SYN and the client never connected: what became of the
// answer decides who is called. Recorded on the lab (a firewall on the way
// back drops the VIP's replies), then with one fact changed: the answer
// arrived here in time (this host dropped it), arrived late, or there is no
// capture here at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ReachStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const reachOf = (obs: CheckObservation): ReachStep => decideCheck(obs).steps[0] as ReachStep;
const lost = (): CheckObservation => readFixture('answer-lost-after-lb').observation;

/** The LB's first SYN-ACK, as this machine's capture would show it arriving `afterMs` after the client's SYN. */
function arrivingHere(obs: CheckObservation, afterMs: number): void {
  const local = obs.reach.local;
  const synAck = obs.reach.lb?.packets.find((p) => p.tcp?.flags.syn && p.tcp.flags.ack);
  const sent = local?.packets.find((p) => p.tcp?.flags.syn && !p.tcp.flags.ack);
  assert.ok(local && synAck && sent);
  const arrival: Packet = {
    ...synAck,
    direction: 'in',
    index: local.packets.length,
    timeUs: sent.timeUs + afterMs * 1000,
  };
  obs.reach = { ...obs.reach, local: { ...local, packets: [...local.packets, arrival] } };
}

describe('an answer that left the LB and never made a connection', () => {
  it('as recorded: nothing arrived here, so it was lost on the way back; the network, never the LB', () => {
    const obs = lost();
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'fail');
    assert.equal(reach.answeredBy, 'lb');
    assert.equal(reach.answerLost?.fate, 'lost');
    assert.equal(reach.answerLost?.seenHere, 0);
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'path-to-lb');
    assert.equal(d.finding, 'answer-lost-after-lb');
    assert.doesNotMatch(d.summary, /the LB drops it/);
  });

  it('it arrived here in time and went no further: this host dropped it, nobody on the path is blamed', () => {
    const obs = lost();
    arrivingHere(obs, 1);
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'inconclusive');
    assert.equal(reach.answerLost?.fate, 'dropped-here');
    assert.match(reach.summary, /this host's own firewall dropped it/);
    assert.equal(decideCheck(obs).diagnosis.culprit, 'inconclusive');
  });

  it('it arrived after the client gave up: late, not lost', () => {
    const obs = lost();
    arrivingHere(obs, obs.reach.connect.ms + 200);
    const reach = reachOf(obs);
    assert.equal(reach.answerLost?.fate, 'late');
    assert.match(reach.summary, /only after the client had given up/);
    assert.notEqual(decideCheck(obs).diagnosis.culprit, 'path-to-lb');
  });

  it('no capture here: "lost" only when the LB saw every SYN the client sent, and says this host is not ruled out', () => {
    const obs = lost();
    obs.reach = { ...obs.reach, local: null };
    // The client gave up at 1001 ms, just after its retransmission timer (1 s): it may have sent a second SYN the
    // LB never saw, so the first SYN the LB saw is not known to be the client's first.
    assert.equal(reachOf(obs).answerLost, undefined);
    obs.reach = { ...obs.reach, connect: { ...obs.reach.connect, ms: 900 } };
    const reach = reachOf(obs);
    assert.equal(reach.answerLost?.fate, 'lost');
    assert.equal(reach.answerLost?.seenHere, null);
    assert.match(reach.summary, /this host's own firewall is not ruled out/);
  });

  it('a capture here that lost packets itself does not prove nothing arrived: judged as without one', () => {
    const obs = lost();
    obs.reach = { ...obs.reach, local: { ...obs.reach.local!, droppedByKernel: 2 } };
    // As without a capture here (above): the client may have sent a SYN the LB never saw, so no claim.
    assert.equal(reachOf(obs).answerLost, undefined);
  });

  it("L4: the forwarder passed the server's answer back and step 2 (--all) does not contradict step 1", () => {
    const obs = readFixture('answer-lost-after-lb-l4').observation;
    const steps = decideCheck(obs).steps;
    assert.equal(steps[0]?.verdict, 'fail');
    assert.equal(steps[1]?.verdict, 'inconclusive');
    assert.match(steps[1]?.summary ?? '', /passed the answer back toward the client, but the client did not connect/);
  });
});
