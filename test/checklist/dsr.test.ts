// Direct server return: the LB passes the client's SYN on unchanged (still to the VIP) and the server answers the
// client around it. Recorded on the lab (the LB routes the DSR address to s1), healthy and with s1 lacking the VIP,
// then with one fact changed. Before, the broken case read "the LB drops it itself" (culprit lb) and the healthy
// one said the LB answered GET /.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const modeOf = (obs: CheckObservation): ModeStep => decideCheck(obs).steps[1] as ModeStep;
const broken = (): CheckObservation => readFixture('dsr-member-lacks-vip').observation;

/** The observation without the LB capture's copy of the client's SYN leaving it: as if the LB never passed it on. */
function withoutPassedOn(obs: CheckObservation): CheckObservation {
  const lb = obs.mode?.lb;
  assert.ok(obs.mode && lb);
  const syn = lb.packets.find((p) => p.direction === 'in' && p.tcp?.flags.syn && !p.tcp.flags.ack);
  const kept = lb.packets.filter(
    (p) => !(p.direction === 'out' && p.tcp?.flags.syn && !p.tcp.flags.ack && p.tcp.seq === syn?.tcp?.seq),
  );
  assert.equal(kept.length, lb.packets.length - 1, 'exactly one passed-on SYN in the recording');
  return { ...obs, mode: { ...obs.mode, lb: { ...lb, packets: kept } } };
}

describe('direct server return', () => {
  it('healthy: L4, the SYN passed on unchanged, and the answer is the server’s, not the LB’s', () => {
    const obs = readFixture('healthy-dsr').observation;
    const mode = modeOf(obs);
    assert.equal(mode.mode, 'L4');
    assert.equal(mode.verdict, 'pass');
    assert.match(mode.summary, /passed the client's SYN on unchanged/);
    assert.doesNotMatch(mode.summary, /The LB answered/);
    assert.equal(decideCheck(obs).diagnosis.culprit, 'none');
  });

  it('the member lacks the VIP: the LB did its part; servers and the direct way back are named, never the LB', () => {
    const d = decideCheck(broken()).diagnosis;
    assert.equal(modeOf(broken()).finding, 'dsr-unanswered');
    assert.equal(d.culprit, 'inconclusive');
    assert.equal(d.finding, 'dsr-unanswered');
    assert.match(d.team, /server owners .* network team/);
    assert.match(d.summary, /Every member answers the LB's own probes .* Not the LB: it passed the SYN on/);
    assert.doesNotMatch(d.summary, /drops it itself/);
  });

  it('the passed-on SYN is what decides: without it in the capture, the LB dropped it', () => {
    const d = decideCheck(withoutPassedOn(broken())).diagnosis;
    assert.equal(d.culprit, 'lb');
    assert.equal(d.finding, 'syn-dropped-on-lb');
  });

  it('a member that fails the LB’s own probes is named first: the servers', () => {
    const obs = broken();
    const servers = obs.servers;
    assert.ok(servers);
    const [first, ...rest] = servers.members;
    assert.ok(first);
    const dead = {
      ...first,
      fromLb: { outcome: 'refused' as const, ms: 1 },
      direct: { outcome: 'refused' as const, ms: 1 },
    };
    obs.servers = { ...servers, members: [dead, ...rest] };
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'servers');
  });
});
