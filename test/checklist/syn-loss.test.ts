// SYNs lost on the way to the LB while the connection still got through (a
// flapping link, a watch catching a fault as it clears): this machine's
// capture shows the SYN sent twice, the LB's complete capture shows it once.
// Decided from a recorded healthy check with that one fact changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ReachStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const reachOf = (obs: CheckObservation): ReachStep => decideCheck(obs).steps[0] as ReachStep;

const isProbeSyn = (p: Packet): boolean => p.tcp?.flags.syn === true && !p.tcp.flags.ack;

/** The same SYN sent once more, a second before the one that got through (the client's retransmission timer). */
function sentTwice(captured: Packet[]): Packet[] {
  const syn = captured.find(isProbeSyn);
  assert.ok(syn);
  const earlier: Packet = { ...syn, index: syn.index - 0.5, timeUs: syn.timeUs - 1_000_000 };
  return [earlier, ...captured];
}

/** healthy-nginx, where the client had to send its SYN twice: only the second reached the LB. */
function firstSynLost(): CheckObservation {
  const obs = readFixture('healthy-nginx').observation;
  const local = obs.reach.local;
  assert.ok(local && obs.reach.lb);
  obs.reach = { ...obs.reach, local: { ...local, packets: sentTwice(local.packets) } };
  obs.reach.connect = { ...obs.reach.connect, ms: obs.reach.connect.ms + 1000 };
  return obs;
}

describe('SYNs lost before the LB, the connection still made', () => {
  it('the client sent 2 SYNs, the LB saw 1: warn, counted, and the path is the culprit', () => {
    const obs = firstSynLost();
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'warn');
    assert.equal(reach.lbSawSyn, true);
    assert.deepEqual(reach.lostBeforeLb, { sent: 2, seen: 1 });
    assert.match(reach.summary, /sent its SYN 2 times and the LB's capture .* shows 1: 1 was lost on the way/);
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'path-to-lb');
    assert.equal(d.finding, 'syn-loss-before-lb');
    // Steps 2 and 3 still ran and passed: the loss does not stop the check.
    assert.deepEqual(
      decideCheck(obs).steps.map((s) => s.verdict),
      ['warn', 'pass', 'pass'],
    );
  });

  it('the LB saw both SYNs (its answer was what got lost): no loss before the LB', () => {
    const obs = firstSynLost();
    const lb = obs.reach.lb;
    assert.ok(lb);
    obs.reach = { ...obs.reach, lb: { ...lb, packets: sentTwice(lb.packets) } };
    const reach = reachOf(obs);
    assert.equal(reach.verdict, 'pass');
    assert.equal(reach.lostBeforeLb, undefined);
  });

  it("the LB's view ends before the client's handshake ACK: a SYN may still be in the stream, no claim", () => {
    const obs = firstSynLost();
    const lb = obs.reach.lb;
    assert.ok(lb);
    const noAck = lb.packets.filter((p) => !(p.tcp?.flags.ack && !p.tcp.flags.syn && p.direction === 'in'));
    obs.reach = { ...obs.reach, lb: { ...lb, packets: noAck } };
    assert.equal(reachOf(obs).verdict, 'pass');
  });

  it('the LB capture lost packets itself (kernel drops): no claim', () => {
    const obs = firstSynLost();
    obs.reach = { ...obs.reach, lb: { ...obs.reach.lb!, droppedByKernel: 3 } };
    assert.equal(reachOf(obs).lostBeforeLb, undefined);
  });

  it('a fault further on answers the incident first: servers down outranks the lost SYN', () => {
    const obs = firstSynLost();
    const refused = { outcome: 'refused' as const, code: 'L4CON' };
    obs.servers = {
      ...obs.servers!,
      members: obs.servers!.members.map((m) => ({ ...m, fromLb: refused, direct: refused, code: 'L4CON' })),
    };
    const d = decideCheck(obs).diagnosis;
    assert.notEqual(d.culprit, 'path-to-lb');
    assert.equal(reachOf(obs).verdict, 'warn');
  });
});
