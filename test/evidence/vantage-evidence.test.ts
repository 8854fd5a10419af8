// Both vantage points' captures as evidence, from recorded checks: the LB's and
// the probing host's files kept also when empty, the facts that make an empty
// capture proof written into its pcapng and the decode, and the merged pcapng
// with one interface per vantage, the clocks tied by the probe's SYN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaptureFacts } from '../../src/capture/capture-facts.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { Evidence } from '../../src/model/evidence.js';
import { stepEvidenceDraftFor } from '../../src/evidence/check-evidence.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import { draftFiles } from '../../src/evidence/step-evidence.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { pcapngComments, readPcapng, tcpdumpReads } from './file-checks.js';

function stepFiles(obs: CheckObservation, n: 1 | 2): Evidence[] {
  const decided = decideCheck(obs);
  const step = decided.steps.find((s) => s.step === n) ?? assert.fail(`no step ${n}`);
  return draftFiles(stepEvidenceDraftFor(step, obs, decided.deciding[n] ?? [], ['tcpdump ...'], false), undefined);
}

const named = (ev: Evidence[], name: string): Buffer =>
  (ev.find((e) => e.name === name) ?? assert.fail(`no ${name} among ${ev.map((e) => e.name).join(', ')}`)).data;

const LB_FACTS: CaptureFacts = {
  host: 'lbcheck@198.18.137.2:22',
  iface: 'any',
  filter: 'tcp and host 198.18.138.3 and port 80',
  startedAtUs: Date.parse('2026-11-24T03:29:09.200Z') * 1000,
  endedAtUs: Date.parse('2026-11-24T03:29:10.300Z') * 1000,
  receivedByFilter: 0,
  droppedByKernel: 0,
};

describe('both vantage points as evidence', () => {
  it('a dropped SYN keeps the empty LB capture, its facts in the pcapng comments and the decode', () => {
    const obs = readFixture('dropped-before-lb').observation;
    const lb = obs.reach.lb ?? assert.fail('the fixture captured on the LB');
    const ev = stepFiles({ ...obs, reach: { ...obs.reach, lb: { ...lb, facts: LB_FACTS } } }, 1);
    const names = ev.map((e) => e.name);
    for (const n of ['step1-both.pcapng', 'step1-lb.pcap', 'step1-lb.pcapng', 'step1-probe.pcap', 'step1-probe.pcapng'])
      assert.ok(names.includes(n), `${n} missing: ${names.join(', ')}`);
    assert.equal(names[0], 'step1-both.pcapng', 'the merged capture leads the files');
    const lbFile = named(ev, 'step1-lb.pcapng');
    assert.equal(readPcapng(lbFile).packets, 0);
    assert.deepEqual(readPcapng(lbFile).interfaces, ['any']);
    const comments = pcapngComments(lbFile).join('\n');
    assert.match(
      comments,
      /capture on lbcheck@198\.18\.137\.2:22: tcpdump -i any 'tcp and host 198\.18\.138\.3 and port 80'/,
    );
    assert.match(comments, /window: 2026-11-24T03:29:09\.200Z to 2026-11-24T03:29:10\.300Z \(1\.100 s\)/);
    assert.match(comments, /packets of this probe: 0 \(of \d+ captured\); received by filter: 0; dropped by kernel: 0/);
    assert.equal(tcpdumpReads(named(ev, 'step1-lb.pcap'), 'step1-lb.pcap').lines.length, 0);
    const decode = named(ev, 'step1-decode.txt').toString();
    assert.match(decode, /^# Captures:$/m);
    assert.match(
      decode,
      /^# {3}LB capture on lab-lb \(198\.18\.137\.2\):\n# {5}capture on lbcheck@198\.18\.137\.2:22: tcpdump -i any/m,
    );
    assert.match(decode, /^# {3}clocks: each side's timestamps are its own host's clock, not adjusted/m);
  });

  it('the merged pcapng: one interface per vantage, every probe packet, tcpdump reads it', () => {
    const obs = readFixture('dropped-before-lb').observation;
    const ev = stepFiles(obs, 1);
    const both = named(ev, 'step1-both.pcapng');
    const merged = readPcapng(both);
    const probe = obs.reach.local ?? assert.fail('the fixture captured at the probe');
    assert.equal(merged.packets, probe.packets.length);
    assert.ok(probe.packets.length >= 1);
    assert.deepEqual(
      merged.interfaces.map((i) => i.split(':')[0]),
      ['probe', 'lb'],
    );
    assert.equal(merged.interfaces[1], 'lb:any');
    assert.equal(new Set(merged.linkTypes).size, 1);
    const read = tcpdumpReads(both, 'step1-both.pcapng');
    assert.equal(read.lines.length, probe.packets.length);
    assert.doesNotMatch(read.stderr, /warning/i);
    // Without recorded facts the files say so rather than invent them.
    assert.match(pcapngComments(named(ev, 'step1-lb.pcapng')).join('\n'), /were not recorded with this check/);
  });

  it("an LB clock behind the probe's is moved forward so the SYN does not arrive before it left", () => {
    const obs = readFixture('healthy-nginx').observation;
    const lb = obs.reach.lb ?? assert.fail('no LB capture');
    const behindUs = 250_000;
    const late = { ...lb, packets: lb.packets.map((p) => ({ ...p, timeUs: p.timeUs - behindUs })) };
    const ev = stepFiles({ ...obs, reach: { ...obs.reach, lb: late } }, 1);
    const comments = pcapngComments(named(ev, 'step1-both.pcapng')).join('\n');
    const m = /the LB's timestamps are moved forward by ([\d.]+) ms/.exec(comments);
    assert.ok(m, comments);
    assert.ok(Number(m[1]) > 200 && Number(m[1]) <= 250, comments);
    const plain = stepFiles(obs, 1);
    assert.match(
      pcapngComments(named(plain, 'step1-both.pcapng')).join('\n'),
      /after the nearest SYN left .* not adjusted/,
    );
  });

  it('step 2 keeps the LB capture (one vantage: no merged file)', () => {
    const ev = stepFiles(readFixture('healthy-haproxy-http').observation, 2);
    assert.ok(ev.some((e) => e.name === 'step2-lb.pcapng'));
    assert.ok(!ev.some((e) => e.name === 'step2-both.pcapng'));
  });
});
