// Members that answer direct probes and time out from the LB: is something between them blocking the LB, or does
// the LB drop their answers itself? A capture on the LB during a second connection tells (ignored-answers.ts).
// Recorded on the lab (the LB's INPUT chain drops its servers' replies; the servers drop the LB), then with one
// fact changed. Before, the LB's own drop read "allow the LB's source address" (lb-to-servers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { ignoredSynAcks } from '../../src/checklist/decide/ignored-answers.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import { readFixture } from '../fixtures/fixture-files.js';

const LB = '198.18.3.1';
const MEMBER = '198.18.3.11';

function segment(at: number, out: boolean, sport: number, seq: number, ack: number, flags: 'S' | 'SA'): Packet {
  const tcp = {
    srcPort: out ? sport : 8080,
    dstPort: out ? 8080 : sport,
    seq,
    ack,
    flags: { syn: true, ack: flags === 'SA', fin: false, rst: false, psh: false, urg: false },
    window: 64240,
    payloadLength: 0,
    payload: Buffer.alloc(0),
  };
  const ip = { version: 4 as const, src: out ? LB : MEMBER, dst: out ? MEMBER : LB, protocol: 6, ttl: 64 };
  return {
    index: at,
    timeUs: at * 1_000_000,
    capturedLength: 60,
    originalLength: 60,
    linkType: 276,
    direction: out ? 'out' : 'in',
    ip,
    tcp,
    data: Buffer.alloc(0),
  };
}

const withAnswersAtLb = (obs: CheckObservation, counts: (number | undefined)[]): CheckObservation => {
  const servers = obs.servers;
  assert.ok(servers);
  const members = servers.members.map((m, i) => {
    const { answersReachLb: _seen, ...rest } = m;
    const n = counts[i];
    return n === undefined ? rest : { ...rest, answersReachLb: n };
  });
  return { ...obs, servers: { ...servers, members } };
};

describe('a member that answers directly and times out from the LB', () => {
  it('its SYN-ACKs reached the LB and were ignored: the LB drops them itself (recorded)', () => {
    const d = decideCheck(readFixture('lb-drops-server-answers').observation).diagnosis;
    assert.equal(d.culprit, 'lb');
    assert.equal(d.finding, 'lb-drops-server-answers');
    assert.match(d.summary, /INPUT chain without a rule accepting ESTABLISHED\/RELATED/);
    assert.doesNotMatch(d.summary, /Allow the LB's source address/);
  });

  it('no answer arrived at the LB: something between them or the servers block it (recorded)', () => {
    const obs = readFixture('server-blocks-lb').observation;
    assert.ok(obs.servers?.members.every((m) => m.answersReachLb === 0));
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'lb-to-servers');
    assert.equal(d.finding, 'lb-blocked');
    assert.match(d.summary, /saw no answer arrive, so it is not the LB dropping them/);
  });

  it('answers ignored for only some of them: not said of the LB', () => {
    const obs = withAnswersAtLb(readFixture('server-blocks-lb').observation, [3, 0, 0]);
    assert.equal(decideCheck(obs).diagnosis.finding, 'lb-blocked');
  });

  it('not looked at (no second connection): as before, lb-blocked, and nothing said about the LB', () => {
    const obs = withAnswersAtLb(readFixture('lb-drops-server-answers').observation, [undefined, undefined, undefined]);
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.finding, 'lb-blocked');
    assert.doesNotMatch(d.summary, /not the LB dropping them/);
  });
});

describe('ignoredSynAcks', () => {
  it('counts a SYN-ACK answering a SYN the LB then sent again', () => {
    const packets = [segment(0, true, 40000, 100, 0, 'S'), segment(1, false, 40000, 900, 101, 'SA')];
    assert.equal(ignoredSynAcks(packets, MEMBER, 8080), 0, 'no retransmission: the handshake may have completed');
    packets.push(segment(2, true, 40000, 100, 0, 'S'), segment(3, false, 40000, 900, 101, 'SA'));
    assert.equal(ignoredSynAcks(packets, MEMBER, 8080), 1, 'the second SYN-ACK was not followed by another SYN');
    packets.push(segment(4, true, 40000, 100, 0, 'S'));
    assert.equal(ignoredSynAcks(packets, MEMBER, 8080), 2);
  });

  it('an answer to another connection (a health check that completed) is not counted', () => {
    const packets = [
      segment(0, true, 40001, 500, 0, 'S'),
      segment(1, false, 40001, 700, 501, 'SA'),
      segment(2, true, 40000, 100, 0, 'S'),
      segment(3, true, 40000, 100, 0, 'S'),
      // An answer whose ack matches no SYN of that port.
      segment(4, false, 40000, 900, 555, 'SA'),
      segment(5, true, 40000, 100, 0, 'S'),
    ];
    assert.equal(ignoredSynAcks(packets, MEMBER, 8080), 0);
  });

  it('only what arrived addressed to the LB counts (a flooded frame for another host is not its answer)', () => {
    const answer = { ...segment(1, false, 40000, 900, 101, 'SA'), direction: 'other-host' as const };
    const packets = [segment(0, true, 40000, 100, 0, 'S'), answer, segment(2, true, 40000, 100, 0, 'S')];
    assert.equal(ignoredSynAcks(packets, MEMBER, 8080), 0);
  });
});
