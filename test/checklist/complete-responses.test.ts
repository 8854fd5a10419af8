// Complete responses, decided from recorded observations: a page whose head arrives and whose body never does is
// never "no fault found", the leg where it stops is named, and a slow but whole answer is a warning with its figure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep, ServersStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { SCENARIOS } from './scenarios.js';

const blackHole = (): CheckObservation => readFixture('mtu-black-hole-lb-servers').observation;
const mode = (obs: CheckObservation): ModeStep => decideCheck(obs).steps[1] as ModeStep;
const servers = (obs: CheckObservation): ServersStep => decideCheck(obs).steps[2] as ServersStep;

describe('an MTU black hole between the LB and its servers', () => {
  it('is lb-to-servers with the mechanism: head through, body stalled, HEAD whole, largest packet seen', () => {
    const d = decideCheck(blackHole()).diagnosis;
    assert.equal(d.culprit, 'lb-to-servers');
    assert.equal(d.finding, 'mtu-black-hole-lb-servers');
    assert.match(d.summary, /body stalled after 0 of 4,052 body bytes/);
    assert.match(d.summary, /the largest packet carrying \d+ bytes of payload/);
    assert.match(d.summary, /Not the servers/);
  });

  it('step 2 names the leg from its own capture: the server delivered less than the body to the LB', () => {
    const m = mode(blackHole());
    assert.equal(m.verdict, 'warn');
    assert.equal(m.finding, 'response-incomplete');
    assert.match(m.summary, /less than the 4052-byte body alone: the body stops before the LB/);
  });

  it('without the HEAD from the LB, the leg is still named, the mechanism left open', () => {
    const obs = blackHole();
    for (const m of obs.servers!.members) delete m.smallReplyFromLb;
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'lb-to-servers');
    assert.equal(d.finding, 'response-stalls-lb-servers');
    assert.doesNotMatch(d.summary, /MTU black hole on that leg/);
  });

  it('a HEAD from the LB that stalls too proves no MTU black hole', () => {
    const obs = blackHole();
    for (const m of obs.servers!.members) m.smallReplyFromLb = { ...m.fromLb };
    assert.equal(decideCheck(obs).diagnosis.finding, 'response-stalls-lb-servers');
  });

  it('members whose bodies stall directly too are the servers, not the leg', () => {
    const obs = blackHole();
    for (const m of obs.servers!.members) m.direct = { ...m.fromLb };
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'servers');
  });

  it("the VIP's body stalls while every member's arrives whole from the LB: not the members' leg, never none", () => {
    const obs = blackHole();
    for (const m of obs.servers!.members) {
      m.fromLb = { ...m.direct };
      delete m.smallReplyFromLb;
    }
    assert.equal(servers(obs).verdict, 'pass');
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.finding, 'response-incomplete');
    // Step 2's capture shows the server delivered less than the body to the LB for that request: nobody is proven.
    assert.equal(d.culprit, 'inconclusive');
    // When the capture shows the LB got the whole body and the client did not, the LB kept it.
    for (const s of obs.mode!.lb!.packets) if (s.tcp && s.ip?.src.endsWith('.11')) s.tcp.payloadLength = 5000;
    assert.equal(decideCheck(obs).diagnosis.culprit, 'lb');
  });
});

describe('never "none" while a response is incomplete anywhere on the path', () => {
  const healthy = SCENARIOS.filter((s) => readFixture(s.name).report.diagnosis.culprit === 'none');

  it('there are healthy fixtures to spoil', () => assert.ok(healthy.length >= 4, healthy.map((s) => s.name).join()));

  for (const s of healthy) {
    it(`${s.name}: the VIP's body stalls`, () => {
      const obs = readFixture(s.name).observation;
      const x = obs.mode?.exchange;
      if (!x || x.status === undefined) return assert.fail('a healthy fixture without an HTTP answer');
      x.body = { framing: 'content-length', end: 'stalled', bytes: 10, expected: 4052, lastByteMs: 5 };
      assert.notEqual(decideCheck(obs).diagnosis.culprit, 'none');
      assert.notEqual(mode(obs).verdict, 'pass');
    });

    it(`${s.name}: a member's body stalls from the LB`, () => {
      const obs = readFixture(s.name).observation;
      const m = obs.servers?.members[0];
      if (!m || obs.target.protocol !== 'http') return;
      m.fromLb = { ...m.fromLb, body: { framing: 'content-length', end: 'closed-early', bytes: 0, lastByteMs: 4 } };
      assert.notEqual(decideCheck(obs).diagnosis.culprit, 'none');
    });
  }
});

describe('slow but complete: a warning with the figure', () => {
  it("the VIP's whole response after 3.2 s: step 2 warns with the figure, the diagnosis is none with one warning", () => {
    const obs = readFixture('healthy-haproxy-http').observation;
    obs.mode!.exchange!.body = {
      framing: 'content-length',
      end: 'complete',
      bytes: 4052,
      expected: 4052,
      lastByteMs: 3200,
    };
    const m = mode(obs);
    assert.equal(m.verdict, 'warn');
    assert.equal(m.finding, 'slow-response');
    assert.match(m.summary, /took 3200 ms/);
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'none');
    assert.match(d.summary, /with one warning/);
  });

  it("a member's whole response after 2.5 s from the LB: step 3 warns and names it", () => {
    const obs = readFixture('healthy-haproxy-http').observation;
    const m = obs.servers!.members[0]!;
    m.fromLb = { ...m.fromLb, body: { framing: 'content-length', end: 'complete', bytes: 4052, lastByteMs: 2500 } };
    const s = servers(obs);
    assert.equal(s.verdict, 'warn');
    assert.equal(s.finding, 'slow-response');
    assert.match(s.summary, /complete but slow \(last byte after 2,500 ms\)/);
    assert.equal(decideCheck(obs).diagnosis.culprit, 'none');
  });

  it('a quick whole response passes', () => {
    const obs = readFixture('healthy-haproxy-http').observation;
    obs.mode!.exchange!.body = {
      framing: 'content-length',
      end: 'complete',
      bytes: 4052,
      expected: 4052,
      lastByteMs: 6,
    };
    assert.equal(mode(obs).verdict, 'pass');
  });
});
