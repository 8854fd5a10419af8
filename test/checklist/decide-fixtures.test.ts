// The decide phase on observations recorded from the lab (no root, no
// network, milliseconds): every failure mode reaches the conclusions its
// scenario expects, and each rule that turns on one fact is tested by
// changing that fact in a real observation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep, ReachStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { assertExpected, SCENARIOS } from './scenarios.js';

const DAY_MS = 86_400_000;

function reachOf(obs: CheckObservation): ReachStep {
  return decideCheck(obs).steps[0] as ReachStep;
}
function modeOf(obs: CheckObservation): ModeStep {
  const s = decideCheck(obs).steps.find((x) => x.step === 2);
  assert.ok(s && s.name === 'mode');
  return s;
}

describe('every scenario, decided from its recorded observation', () => {
  for (const s of SCENARIOS) {
    it(s.name, () => {
      const f = readFixture(s.name);
      const decided = decideCheck(f.observation);
      assert.deepEqual(assertExpected(decided, s.expect, f.lab), []);
      // The live check decided the same way (one decide path, no hidden state).
      assert.deepEqual(
        decided.steps.map((x) => [x.step, x.verdict, x.summary]),
        f.report.steps.map((x) => [x.step, x.verdict, x.summary]),
      );
      assert.equal(decided.diagnosis.culprit, f.report.diagnosis.culprit);
    });
  }
});

describe('busy-LB safety: a missing SYN proves nothing unless the capture is complete', () => {
  const dropped = (): CheckObservation => readFixture('dropped-before-lb').observation;

  it('complete capture, no SYN, client timed out: path-to-lb', () => {
    assert.equal(decideCheck(dropped()).diagnosis.culprit, 'path-to-lb');
  });

  for (const endedBy of ['packet-limit', 'byte-limit', 'time-limit', 'exited'] as const) {
    it(`capture ended by ${endedBy} before the SYN: inconclusive, never a failure`, () => {
      const obs = dropped();
      obs.reach.lb = { ...obs.reach.lb!, endedBy };
      const reach = reachOf(obs);
      assert.equal(reach.verdict, 'inconclusive');
      assert.ok(reach.captureGap);
      const d = decideCheck(obs).diagnosis;
      assert.equal(d.culprit, 'inconclusive');
      assert.equal(d.finding, 'capture-incomplete');
    });
  }

  it('kernel dropped packets while the SYN was missing: inconclusive', () => {
    const obs = dropped();
    obs.reach.lb = { ...obs.reach.lb!, droppedByKernel: 12 };
    assert.equal(reachOf(obs).verdict, 'inconclusive');
    assert.match(reachOf(obs).summary, /dropped 12/);
  });

  it('an impostor accusation needs a complete capture too', () => {
    const obs = readFixture('impostor-reset').observation;
    assert.equal(decideCheck(obs).diagnosis.culprit, 'impostor');
    obs.reach.lb = { ...obs.reach.lb!, endedBy: 'packet-limit' };
    assert.equal(decideCheck(obs).diagnosis.culprit, 'inconclusive');
  });

  it('a cap hit after the SYN was seen does not undo what the SYN proves', () => {
    const obs = readFixture('healthy-nginx').observation;
    obs.reach.lb = { ...obs.reach.lb!, endedBy: 'packet-limit' };
    assert.equal(reachOf(obs).verdict, 'pass');
  });
});

describe('a capture stream from the LB that stalls (the SSH path loses packets)', () => {
  /** The MTU observation as it looks when the LB's stream stalled before the big segments reached lbcheck. */
  const stalled = (): CheckObservation => {
    const obs = readFixture('mtu-black-hole').observation;
    const lb = obs.mode!.lb!;
    const small = lb.packets.filter((p) => (p.tcp?.payloadLength ?? 0) < 1000);
    obs.mode = { ...obs.mode!, lb: { ...lb, packets: small, endedBy: 'unfinished' } };
    return obs;
  };

  it('small replies pass, large ones vanish, the stream stalled: the MTU black hole by its pattern', () => {
    const d = decideCheck(stalled());
    assert.equal(d.diagnosis.culprit, 'path-to-lb');
    assert.equal(d.diagnosis.finding, 'mtu-black-hole');
    assert.match(d.diagnosis.summary, /capture stream from the LB over SSH stalled the same way/);
  });

  it('without the small-reply evidence: inconclusive, and the servers are never blamed', () => {
    const obs = stalled();
    obs.mode = { ...obs.mode!, reprobes: {} };
    const mode = modeOf(obs);
    assert.equal(mode.verdict, 'inconclusive');
    assert.equal(mode.finding, 'capture-stalled');
    // Step 3 then runs; even if every member "fails" from the LB over the same stalled path:
    const fails = { outcome: 'timeout' as const, code: 'L4TOUT' };
    obs.servers = {
      members: [{ address: '198.18.0.11:8080', source: 'configured', direct: fails, fromLb: fails, code: 'L4TOUT' }],
      lbChecked: true,
      lbSourceAddresses: {},
      ms: 1000,
    };
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'inconclusive');
    assert.equal(d.finding, 'capture-stalled');
  });
});

describe('pool drift is the LB using endpoints the inventory does not list, and failing there', () => {
  it('the recorded drift: the listed members answer, the ones the LB used do not: lb, pool-drift', () => {
    assert.equal(decideCheck(readFixture('pool-drift').observation).diagnosis.finding, 'pool-drift');
  });

  it('when the listed members fail too, it is the servers (a partial member list is no drift)', () => {
    const obs = readFixture('pool-drift').observation;
    const refused = { outcome: 'refused' as const, code: 'L4CON' };
    obs.servers = {
      ...obs.servers!,
      members: obs.servers!.members.map((m) => ({ ...m, fromLb: refused, direct: refused, code: 'L4CON' })),
    };
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'servers');
    assert.notEqual(d.finding, 'pool-drift');
  });
});

describe('TLS certificate validity, judged at the time of the probe', () => {
  const tls = (): CheckObservation => readFixture('healthy-tls').observation;
  const shifted = (days: number): CheckObservation => {
    const obs = tls();
    return { ...obs, observedAt: new Date(Date.parse(obs.observedAt) + days * DAY_MS).toISOString() };
  };

  it('valid for months: pass', () => {
    assert.equal(modeOf(tls()).verdict, 'pass');
  });
  it('expiring within 14 days: warn, and the diagnosis says no fault with one warning', () => {
    const obs = shifted(80);
    assert.equal(modeOf(obs).verdict, 'warn');
    assert.equal(modeOf(obs).finding, 'tls-expires-soon');
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'none');
    assert.match(d.summary, /one warning: .*expires on/);
  });
  it('past its end date: fail, culprit lb, naming the date', () => {
    const obs = shifted(100);
    assert.equal(modeOf(obs).finding, 'tls-expired');
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'lb');
    assert.match(d.summary, new RegExp(obs.mode!.tls!.validTo.slice(0, 6)));
  });
});

describe('expected status of the health path', () => {
  it('a status outside expectStatus is a warn naming it; inside, a pass', () => {
    const obs = readFixture('healthy-haproxy-http').observation;
    assert.equal(modeOf(obs).verdict, 'pass');
    obs.target = { ...obs.target, expectStatus: { min: 204, max: 204 } };
    const mode = modeOf(obs);
    assert.equal(mode.verdict, 'warn');
    assert.equal(mode.finding, 'unexpected-status');
    assert.match(mode.summary, /expected to answer 204–204; 200 is not/);
  });
});

describe('fingerprints and honest wording', () => {
  it('nginx and HAProxy are named from their own answers', () => {
    assert.match(modeOf(readFixture('healthy-nginx').observation).fingerprint ?? '', /^nginx/);
    assert.match(modeOf(readFixture('servers-500-haproxy').observation).fingerprint ?? '', /HAProxy/);
  });

  it('without an LB capture nothing is said to be "the LB" answering', () => {
    const obs = readFixture('healthy-nginx').observation;
    obs.reach.lb = null;
    obs.mode = { ...obs.mode!, lb: null };
    const d = decideCheck(obs);
    assert.equal(d.steps[0]?.verdict, 'inconclusive');
    assert.equal(d.diagnosis.culprit, 'inconclusive');
  });

  it('an MTU black hole needs lost full-size segments: the same silence without them is not one', () => {
    const obs = readFixture('mtu-black-hole').observation;
    assert.equal(modeOf(obs).finding, 'mtu-black-hole');
    const big = (p: { tcp?: { payloadLength: number } }): boolean => (p.tcp?.payloadLength ?? 0) >= 1000;
    obs.mode = { ...obs.mode!, lb: { ...obs.mode!.lb!, packets: obs.mode!.lb!.packets.filter((p) => !big(p)) } };
    assert.notEqual(modeOf(obs).finding, 'mtu-black-hole');
    assert.notEqual(decideCheck(obs).diagnosis.culprit, 'path-to-lb');
  });
});
