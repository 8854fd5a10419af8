// The probe's SYN never left this machine (a rule in its own OUTPUT chain): recorded on the lab, where the test
// process is the client, for DROP (a timeout), REJECT (ICMP from this host) and REJECT with a reset (in the VIP's
// name), then with one fact changed. Before, these said "dropped before the LB" (network team) or "impostor".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ReachStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

const reachOf = (obs: CheckObservation): ReachStep => decideCheck(obs).steps[0] as ReachStep;
const recorded = (how: 'drop' | 'reject' | 'reset'): CheckObservation => readFixture(`blocked-here-${how}`).observation;

/** The probe's SYN as it would show leaving this machine, taken from a recording where it did leave. */
function synLeavingHere(obs: CheckObservation): Packet {
  const other = readFixture('dropped-before-lb').observation.reach.local;
  const syn = other?.packets.find((p) => p.direction !== 'in' && p.tcp?.flags.syn && !p.tcp.flags.ack);
  assert.ok(syn?.ip && syn.tcp);
  return {
    ...syn,
    ip: { ...syn.ip, dst: obs.target.vip },
    tcp: { ...syn.tcp, dstPort: obs.target.port, srcPort: obs.reach.connect.localPort },
  };
}

describe("the probe's SYN never left this machine", () => {
  for (const how of ['drop', 'reject', 'reset'] as const) {
    it(`${how}: its complete capture shows no SYN leaving, so only this host is named, never the path or an impostor`, () => {
      const obs = recorded(how);
      const reach = reachOf(obs);
      assert.equal(reach.verdict, 'inconclusive');
      assert.deepEqual(reach.blockedHere?.proof, 'capture');
      assert.equal(reach.lbSawSyn, false);
      const d = decideCheck(obs).diagnosis;
      assert.equal(d.culprit, 'inconclusive');
      assert.equal(d.finding, 'probe-blocked-here');
      assert.match(d.team, /host lbcheck probes from/);
      assert.doesNotMatch(d.summary, /answered in the LB's place|dropped or misrouted before the LB|rejected it with/);
    });
  }

  it('the drop names the OUTPUT chain; the refusals say they came from this host itself', () => {
    assert.match(reachOf(recorded('drop')).summary, /dropped it before any interface: a firewall rule in its OUTPUT/);
    for (const how of ['reject', 'reset'] as const)
      assert.match(reachOf(recorded(how)).summary, /The refusal came from this host itself: a firewall REJECT rule/);
  });

  it('the capture here shows the SYN leaving: it did leave, and the path is judged as before', () => {
    const obs = recorded('drop');
    const local = obs.reach.local;
    assert.ok(local);
    obs.reach = { ...obs.reach, local: { ...local, packets: [synLeavingHere(obs)] } };
    const reach = reachOf(obs);
    assert.equal(reach.blockedHere, undefined);
    assert.equal(decideCheck(obs).diagnosis.finding, 'dropped-before-lb');
    assert.doesNotMatch(reach.summary, /not ruled out/);
  });

  it('no capture here and a timeout: dropped before the LB, saying this host is not ruled out', () => {
    const obs = recorded('drop');
    obs.reach = { ...obs.reach, local: null };
    const reach = reachOf(obs);
    assert.equal(reach.blockedHere, undefined);
    assert.equal(decideCheck(obs).diagnosis.culprit, 'path-to-lb');
    assert.match(reach.summary, /Without a complete capture on this machine, its own firewall is not ruled out/);
  });

  it('a capture here that lost packets proves nothing: as if there were none', () => {
    const obs = recorded('drop');
    const local = obs.reach.local;
    assert.ok(local);
    obs.reach = { ...obs.reach, local: { ...local, droppedByKernel: 3 } };
    assert.equal(reachOf(obs).blockedHere, undefined);
  });

  it('no capture here: EPERM or EACCES alone prove it (only this host kernel returns them); a refusal does not', () => {
    for (const errno of ['EPERM', 'EACCES']) {
      const obs = recorded('drop');
      obs.reach = { ...obs.reach, local: null, connect: { ...obs.reach.connect, outcome: 'unreachable', errno } };
      const reach = reachOf(obs);
      assert.deepEqual(reach.blockedHere, { proof: 'errno', errno });
      assert.match(reach.summary, new RegExp(`connect\\(\\) failed with ${errno}, which only this host's own kernel`));
      assert.equal(decideCheck(obs).diagnosis.finding, 'probe-blocked-here');
    }
    // A reset can come from the network (something answering in the LB's place): without a capture, not here.
    const obs = recorded('reset');
    obs.reach = { ...obs.reach, local: null };
    assert.equal(reachOf(obs).blockedHere, undefined);
  });

  it('the LB saw the SYN: it left, whatever the capture here shows', () => {
    const healthy = readFixture('healthy-nginx').observation;
    healthy.reach = { ...healthy.reach, local: healthy.reach.local ? { ...healthy.reach.local, packets: [] } : null };
    assert.equal(reachOf(healthy).blockedHere, undefined);
  });
});
