// The evidence a check produces, on the lab, for a healthy VIP and three
// failure modes (a dropped SYN, an L4 VIP whose servers never answer the LB,
// HAProxy's 503 with every server down): ladder PNG valid and small, the SVG
// holding an arrow per line the decode lists with retransmissions counted,
// and the saved captures read back by tcpdump without warnings. Interface
// names: read over the check's own SSH session and used for a real LB capture.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { RemoteCapture, DEFAULT_CAPTURE_LIMITS } from '../../src/capture/remote-capture.js';
import type { Evidence } from '../../src/model/evidence.js';
import type { Report } from '../../src/model/report.js';
import { runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import { stepEvidence } from '../../src/evidence/step-evidence.js';
import { writeEvidence } from '../../src/evidence/write-evidence.js';
import { parseIpLink, readInterfaceNames } from '../../src/remote/interface-names.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import { startLab, waitHealthy, type Lab, type VipKind } from '../lab/lab.js';
import { httpGet } from '../lab/lab-probes.js';
import {
  checkPng,
  decodeArrowLines,
  pcapngComments,
  readPcapng,
  svgArrows,
  tcpdumpReads,
  tsharkInterfaces,
} from './file-checks.js';

let lab: Lab;
let session: SshSession | undefined;
let dir: string;

before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-evidence-lab-'));
});
after(() => {
  session?.close();
  lab?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

async function warmSession(): Promise<SshSession> {
  if (!session?.alive) session = await SshSession.open(labTarget(lab, 'dnat').lb ?? assert.fail('no LB access'));
  return session;
}

async function check(kind: VipKind, connectTimeoutMs = 1000): Promise<CheckOutcome> {
  return runCheck(labTarget(lab, kind), checkOptions({ connectTimeoutMs }), { session: () => warmSession() });
}

const named = (ev: Evidence[], name: string): Evidence => {
  const e = ev.find((x) => x.name === name);
  assert.ok(e, `no ${name} among ${ev.map((x) => x.name).join(', ')}`);
  return e;
};

/** What every step's diagram must satisfy; returns the decode and the SVG arrows for scenario checks. */
function checkLadder(ev: Evidence[], step: 1 | 2): { decode: string; arrows: ReturnType<typeof svgArrows> } {
  const png = named(ev, `step${step}-ladder.png`);
  assert.equal(png.mediaType, 'image/png');
  const { width, height } = checkPng(png.data);
  assert.ok(width >= 300 && width <= 2000 && height >= 120 && height <= 4000, `step ${step}: ${width}x${height}`);
  assert.ok(png.bytes < 60_000, `step ${step} PNG is ${png.bytes} B`);
  const svg = named(ev, `step${step}-ladder.svg`);
  assert.equal(svg.mediaType, 'image/svg+xml');
  const decode = named(ev, `step${step}-decode.txt`).data.toString();
  const lines = decodeArrowLines(decode);
  const arrows = svgArrows(svg.data.toString());
  assert.ok(lines.length > 0, decode);
  assert.equal(
    arrows.counts.length + arrows.missing,
    lines.length,
    `step ${step}: one arrow per decode line\n${decode}`,
  );
  const packetLines = lines.filter((l) => !l.includes('(never)'));
  assert.equal(packetLines.length, arrows.counts.length);
  packetLines.forEach((line, i) => {
    const n = arrows.counts[i] ?? 0;
    if (n > 1) assert.match(line, new RegExp(`×${n}(?: on \\d+ connections)? over \\d`), line);
    else assert.doesNotMatch(line, /×\d/, line);
    assert.match(line, /(client|server) side/);
  });
  return { decode, arrows };
}

/** The capture as saved by --evidence-dir: tcpdump reads it back, every packet, no warning. */
function checkSavedCaptures(report: Report, ev: Evidence[], step: 1 | 2): void {
  const saved = writeEvidence(dir, report, ev);
  for (const name of [`step${step}-lb.pcap`, `step${step}-lb.pcapng`]) {
    const path = saved.paths.find((p) => p.endsWith(`/${name}`));
    assert.ok(path, `${name} not saved`);
    const bytes = readFileSync(path);
    const read = tcpdumpReads(bytes, name);
    assert.doesNotMatch(read.stderr, /warning|might be incorrect|unknown/i, read.stderr);
    assert.match(read.stderr, /link-type LINUX_SLL \(Linux cooked v1\)/);
    assert.ok(read.lines.length > 0);
    if (name.endsWith('.pcapng')) assert.equal(readPcapng(bytes).packets, read.lines.length);
  }
  assert.ok(saved.paths.some((p) => p.endsWith(`/step${step}-ladder.png`)));
  assert.ok(saved.paths.some((p) => p.endsWith(`/step${step}-ladder.svg`)));
}

/**
 * Step 1 of a dropped SYN keeps both sides' packets: the LB's capture empty but with its filter, window and
 * counts recorded, the probe's holding the retransmitted SYNs, and the merged file with one interface per
 * vantage that tcpdump (and tshark) open.
 */
function checkBothVantages(report: Report, ev: Evidence[]): void {
  const saved = writeEvidence(dir, report, ev);
  const step1 = report.steps.find((s) => s.step === 1)?.evidence.map((e) => e.name) ?? [];
  for (const name of [
    'step1-both.pcapng',
    'step1-lb.pcap',
    'step1-lb.pcapng',
    'step1-probe.pcap',
    'step1-probe.pcapng',
  ]) {
    assert.ok(step1.includes(name), `${name} is not among step 1's evidence: ${step1.join(', ')}`);
    assert.ok(
      saved.paths.some((p) => p.endsWith(`/${name}`)),
      `${name} not saved`,
    );
  }
  const lb = named(ev, 'step1-lb.pcapng').data;
  assert.equal(readPcapng(lb).packets, 0, 'the LB saw nothing');
  const lbComments = pcapngComments(lb).join('\n');
  assert.match(lbComments, /capture on \S+: tcpdump -i any '[^']*\b(?:host|port)\b[^']*'/, lbComments);
  assert.match(lbComments, /window: \S+Z to \S+Z \(\d+\.\d{3} s\)/);
  assert.match(lbComments, /received by filter: \d+; dropped by kernel: 0/);
  assert.equal(tcpdumpReads(lb, 'step1-lb.pcapng').lines.length, 0);

  const probe = named(ev, 'step1-probe.pcapng').data;
  const probeRead = tcpdumpReads(probe, 'step1-probe.pcapng');
  const vip = lab.vips['haproxy-http'].address;
  const syns = probeRead.lines.filter((l) => l.includes(`> ${vip}.80: Flags [S]`));
  assert.ok(
    syns.length >= 2,
    `the probe's capture holds the SYN and its retransmission:\n${probeRead.lines.join('\n')}`,
  );

  const both = named(ev, 'step1-both.pcapng').data;
  const merged = readPcapng(both);
  // One interface per vantage and interface the packets were seen on: the probe's (named as on this host, the
  // SYN may pass more than one) and the LB's empty capture on "any".
  const probeSide = merged.interfaces.filter((i) => i.startsWith('probe:'));
  assert.ok(probeSide.length >= 1 && probeSide.every((i) => /^probe:[\w.-]+$/.test(i)), merged.interfaces.join(', '));
  assert.deepEqual(merged.interfaces.slice(probeSide.length), ['lb:any'], merged.interfaces.join(', '));
  assert.equal(new Set(merged.linkTypes).size, 1, 'one link type: libpcap reads the file');
  const read = tcpdumpReads(both, 'step1-both.pcapng');
  assert.doesNotMatch(read.stderr, /warning|might be incorrect|unknown/i, read.stderr);
  assert.equal(read.lines.length, readPcapng(probe).packets);
  assert.match(pcapngComments(both).join('\n'), /clocks: /);
  const tshark = tsharkInterfaces(both);
  assert.deepEqual(tshark.sort(), [...merged.interfaces].sort(), 'tshark lists both vantages');
  const decode = named(ev, 'step1-decode.txt').data.toString();
  assert.match(decode, /^# {3}LB capture on .*:\n# {5}capture on .*tcpdump -i any/m);
  assert.match(decode, /^# {3}probe capture on .*:\n(?:# .*\n)*?# {5}packets of this probe: [2-9]/m);
}

describe('evidence a tired human reads at a glance', () => {
  it('healthy L7 VIP: ladders for steps 1 and 2, the deciding SYN highlighted, the 200 in the story', async () => {
    const { report, evidence } = await check('haproxy-http');
    assert.equal(report.diagnosis.culprit, 'none');
    for (const step of [1, 2] as const) {
      const { arrows } = checkLadder(evidence, step);
      assert.equal(arrows.missing, 0, `nothing is missing on a healthy check (step ${step})`);
      assert.match(named(evidence, `step${step}-ladder.svg`).data.toString(), /data-deciding="true"/);
      checkSavedCaptures(report, evidence, step);
    }
    const decode = named(evidence, 'step2-decode.txt').data.toString();
    assert.match(
      decode,
      /^# What the packets show: 1 SYN from the client to [\d.]+:80, answered with SYN-ACK by the LB;/m,
    );
    assert.match(decode, /the LB answered the client "HTTP\/1\.1 200 OK"/);
    assert.match(decode, /server side .*GET \/ HTTP\/1\.1/);
    assert.ok(report.steps.flatMap((s) => s.evidence).some((e) => e.name === 'step2-ladder.png'));
  });

  it('dropped SYN: the LB captured nothing; the ladder draws the dashed arrow the SYN never made', async () => {
    await lab.faults.dropBeforeLb('haproxy-http');
    // 2.5 s: the client sends its SYN and retransmits it (at ~1 s) before giving up.
    const { report, evidence } = await check('haproxy-http', 2500);
    assert.equal(report.diagnosis.culprit, 'path-to-lb');
    const { decode, arrows } = checkLadder(evidence, 1);
    // The probe's own capture shows its SYNs leaving; the LB shows nothing: a dashed arrow says so, and one for
    // the SYN-ACK that never came back.
    assert.equal(arrows.missing, 2, decode);
    assert.match(decode, /\(never\) .*LB > client {2}nothing: no SYN-ACK/);
    assert.match(decode, /\(never\) .*client > LB {2}nothing: no packet of the probe reached the LB/);
    assert.match(decode, /The LB captured no packet of this probe/);
    checkBothVantages(report, evidence);
  });

  it('L4 VIP whose servers never answer the LB: SYNs counted on both sides, dashed "no SYN-ACK"', async () => {
    for (const s of lab.servers) await lab.faults.serverBlocksLb(s.name, 'drop');
    // 2.5 s lets the client retransmit its SYN once (at ~1 s): "×2" on the client and the server side.
    const { report, evidence } = await check('dnat', 2500);
    assert.equal(report.steps[0]?.verdict, 'pass');
    const { decode, arrows } = checkLadder(evidence, 2);
    assert.ok(arrows.counts.filter((n) => n >= 2).length >= 2, `retransmissions collapsed: ${arrows.counts.join(',')}`);
    assert.match(decode, /client side .*SYN ×[2-9] over [12]\.\d s/);
    assert.match(decode, /server side .*SYN ×[2-9] over [12]\.\d s/);
    assert.match(decode, /\(never\) .*server side .*> LB {2}nothing: no SYN-ACK \(waited/);
    assert.match(
      decode,
      /# What the packets show: [2-9] SYNs from the client .* over [12]\.\d s, no SYN-ACK; [2-9] SYNs forwarded to [\d.]+:\d+ over [12]\.\d s, no SYN-ACK[;.]/,
    );
    checkSavedCaptures(report, evidence, 2);
  });

  it('HTTP 503 from the LB: the status line is an arrow from the LB to the client and the summary says it', async () => {
    await lab.faults.allServersDown();
    const { report, evidence } = await check('haproxy-http');
    assert.equal(report.diagnosis.culprit, 'servers');
    const { decode } = checkLadder(evidence, 2);
    assert.match(decode, /client side +[\d.]+:80 > [\d.]+:\d+ {2}HTTP\/1\.1 503 Service Unavailable \(\d+ B\)/);
    assert.match(decode, /the LB answered the client "HTTP\/1\.1 503 Service Unavailable"/);
    assert.match(named(evidence, 'step2-ladder.svg').data.toString(), /HTTP\/1\.1 503 Service Unavailable/);
    checkSavedCaptures(report, evidence, 2);
  });

  it('interface names read over the check SSH session name the LB capture in the decode and the pcapng', async () => {
    const s = await warmSession();
    const names = await readInterfaceNames(s);
    assert.deepEqual(names, parseIpLink((await lab.exec('lb', ['ip', '-o', 'link', 'show'])).stdout));
    assert.equal(names.get(2), 'eth0');
    assert.equal(names.get(3), 'eth1');
    assert.ok(s.commands.includes('ip -o link show'), 'the command is recorded for the evidence');
    const vip = lab.vips.dnat;
    const capture = await RemoteCapture.start(s, {
      ...DEFAULT_CAPTURE_LIMITS,
      maxSeconds: 15,
      // Everything but the SSH session; the probe's flows are picked out below.
      filter: `tcp and not port ${lab.sshInfo.port}`,
    });
    assert.equal((await httpGet(vip.address, vip.port)).status, 200);
    // The capture streams behind the probe on a busy machine: wait for both ends' FINs before stopping it.
    await capture.waitFor((p) => !!p.tcp?.flags.fin && p.ip?.src === vip.address, 3000);
    await capture.waitFor((p) => !!p.tcp?.flags.fin && p.ifIndex === 3, 3000);
    const result = await capture.stop();
    assert.ok(result.header);
    // Keep the probe's flows, as the engine does: the L4 forwarder keeps the client's source port on the
    // server side; the LB's own health checks to the members are not part of this probe.
    const probeSyn = result.packets.find((p) => p.tcp?.flags.syn && !p.tcp.flags.ack && p.ip?.dst === vip.address);
    if (!probeSyn?.tcp) return assert.fail('the probe SYN is not in the LB capture');
    const sport = probeSyn.tcp.srcPort;
    const packets = result.packets.filter((p) => p.tcp?.srcPort === sport || p.tcp?.dstPort === sport);
    const ev = stepEvidence({
      step: 2,
      title: `Step 2: how the lab LB handles ${vip.address}:${vip.port}`,
      pcap: { linkType: result.header.linkType, snaplen: result.header.snaplen, packets, label: 'lb' },
      deciding: [probeSyn],
      notes: [],
      commands: [...s.commands],
      timings: {},
      interfaces: names,
    });
    const decode = named(ev, 'step2-decode.txt').data.toString();
    assert.match(decode, /^# Interfaces as named on the LB: eth0 \(ifindex 2\), eth1 \(ifindex 3\)$/m);
    assert.doesNotMatch(decode, /\bif\d+\b/);
    for (const line of decodeArrowLines(decode))
      assert.match(line, /eth0 (in|out) +client side|eth1 (in|out) +server side/, line);
    assert.deepEqual(readPcapng(named(ev, 'step2-lb.pcapng').data).interfaces, ['eth0', 'eth1']);
    assert.match(named(ev, 'step2-ladder.svg').data.toString(), />eth1</);
  });
});
