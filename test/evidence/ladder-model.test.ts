// The ladder model, its SVG, PNG and decode, on real LB captures recorded in
// the lab (test/evidence/fixtures, LINUX_SLL2 from tcpdump -i any): a healthy
// L4 VIP, an L4 VIP whose server never answers the LB, HAProxy's 503.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { LINKTYPE } from '../../src/capture/packet.js';
import { decodePcap } from '../../src/capture/pcap-stream.js';
import type { Evidence } from '../../src/model/evidence.js';
import { stepEvidence } from '../../src/evidence/step-evidence.js';
import { buildLadder } from '../../src/evidence/ladder-model.js';
import { escapeXml, renderLadderSvg } from '../../src/evidence/ladder-svg.js';
import { parseIpLink } from '../../src/remote/interface-names.js';
import { checkPng, decodeArrowLines, readPcapng, svgArrows, tcpdumpReads } from './file-checks.js';
import { fixturePath, lbInterfaces, probeFixture, type ProbeFixture } from './fixture-flows.js';

function evidenceOf(
  fx: ProbeFixture,
  extra: { interfaces?: Map<number, string>; deciding?: Packet[] } = {},
): Evidence[] {
  return stepEvidence({
    step: 2,
    title: 'Step 2: fixture',
    pcap: { linkType: fx.header.linkType, snaplen: fx.header.snaplen, packets: fx.packets, label: 'lb' },
    deciding: extra.deciding ?? fx.packets.slice(0, 1),
    notes: [],
    commands: [],
    timings: {},
    ...(extra.interfaces ? { interfaces: extra.interfaces } : {}),
  });
}

const file = (ev: Evidence[], suffix: string): Buffer => {
  const e = ev.find((x) => x.name.endsWith(suffix));
  assert.ok(e, `no ${suffix} in ${ev.map((x) => x.name).join(', ')}`);
  return e.data;
};

describe('ladder model on recorded LB captures', () => {
  it('healthy L4: client, LB and the one server; every packet in exactly one arrow; the SYN forwarded', () => {
    const fx = probeFixture('dnat-healthy');
    const ladder = buildLadder({ title: 't', packets: fx.packets, deciding: fx.packets.slice(0, 1) });
    assert.deepEqual(
      ladder.columns.map((c) => c.role),
      ['client', 'lb', 'server'],
    );
    assert.deepEqual(ladder.columns[2]?.addresses, [fx.server]);
    const rows = ladder.rows.filter((r) => r.kind === 'packet');
    assert.equal(
      rows.reduce((n, r) => n + r.count, 0),
      fx.packets.length,
    );
    assert.equal(ladder.rows.filter((r) => r.kind === 'missing').length, 0, 'nothing missing on a healthy exchange');
    assert.equal(rows.filter((r) => r.deciding).length, 1);
    assert.match(ladder.summary, new RegExp(`1 SYN forwarded to ${fx.server}, answered with SYN-ACK`));
    assert.match(ladder.summary, /the LB answered the client "HTTP\/1\.1 200 OK"/);
  });

  it('L4 server that never answers: SYN retransmissions collapsed with count and span, dashed "no SYN-ACK" arrows', () => {
    const fx = probeFixture('dnat-server-silent');
    const syns = fx.packets.filter((p) => p.tcp?.flags.syn && p.ifIndex === 2).length;
    assert.ok(syns >= 3, `the fixture holds ${syns} client SYNs`);
    const ladder = buildLadder({ title: 't', packets: fx.packets });
    const rows = ladder.rows.filter((r) => r.kind === 'packet');
    assert.equal(rows.length, 2, 'client SYNs and forwarded SYNs, one arrow each');
    for (const r of rows) assert.equal(r.count, syns);
    assert.deepEqual(
      ladder.rows.filter((r) => r.kind === 'missing').map((r) => `${r.from}>${r.to} ${r.label}`),
      ['lb>client no SYN-ACK', `server:${fx.server}>lb no SYN-ACK`],
    );
    assert.match(ladder.summary, new RegExp(`${syns} SYNs forwarded to ${fx.server} over \\d\\.\\d s, no SYN-ACK`));
  });

  it('HTTP 503 from the LB: the status line is the arrow and the summary', () => {
    const ladder = buildLadder({ title: 't', packets: probeFixture('haproxy-503').packets });
    const status = ladder.rows.find((r) => r.kind === 'packet' && r.label.startsWith('HTTP/1.1 503'));
    assert.ok(status);
    assert.equal(status.from, 'lb');
    assert.equal(status.to, 'client');
    assert.match(ladder.summary, /the LB answered the client "HTTP\/1\.1 503 Service Unavailable"/);
  });
});

describe('step evidence files from recorded captures', () => {
  for (const name of ['dnat-healthy', 'dnat-server-silent', 'haproxy-503']) {
    it(`${name}: decode and SVG list the same arrows; the PNG is a small valid image; interfaces named as on the LB`, () => {
      const fx = probeFixture(name);
      const ev = evidenceOf(fx, { interfaces: lbInterfaces() });
      const decode = file(ev, '-decode.txt').toString();
      const svg = file(ev, '-ladder.svg').toString();
      const lines = decodeArrowLines(decode);
      const arrows = svgArrows(svg);
      assert.equal(arrows.counts.length + arrows.missing, lines.length, decode);
      assert.equal(
        arrows.counts.reduce((a, b) => a + b, 0),
        fx.packets.length,
      );
      for (const [i, line] of lines.filter((l) => !l.includes('(never)')).entries()) {
        const count = arrows.counts[i] ?? 0;
        if (count > 1) assert.match(line, new RegExp(`×${count} over \\d`));
      }
      assert.match(decode, /^# What the packets show: .+\.$/m);
      assert.doesNotMatch(decode, /\bif\d+\b/);
      for (const line of lines.filter((l) => !l.includes('(never)')))
        assert.match(line, /eth[01] (?:in|out) +(client|server) side/);
      const { width, height } = checkPng(file(ev, '-ladder.png'));
      assert.ok(width >= 400 && width <= 2000 && height >= 150 && height <= 3000, `${width}x${height}`);
      assert.ok(file(ev, '-ladder.png').length < 60_000, `${file(ev, '-ladder.png').length} B`);
    });
  }

  it('pcap is LINUX_SLL (older tools open it); pcapng names each interface as the LB does; tcpdump reads both without warnings', () => {
    const fx = probeFixture('dnat-healthy');
    assert.equal(fx.header.linkType, LINKTYPE.LINUX_SLL2);
    const ev = evidenceOf(fx, { interfaces: lbInterfaces() });
    const pcap = decodePcap(file(ev, '.pcap'));
    assert.equal(pcap.header.linkType, LINKTYPE.LINUX_SLL);
    assert.deepEqual(
      pcap.packets.map((p) => `${p.direction} ${p.ip?.src}>${p.ip?.dst} ${p.tcp?.seq}`),
      fx.packets.map((p) => `${p.direction} ${p.ip?.src}>${p.ip?.dst} ${p.tcp?.seq}`),
    );
    const ng = readPcapng(file(ev, '.pcapng'));
    assert.deepEqual(ng.interfaces, ['eth0', 'eth1']);
    assert.deepEqual(ng.linkTypes, [LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL]);
    assert.equal(ng.packets, fx.packets.length);
    for (const [name, bytes] of [
      ['x.pcap', file(ev, '.pcap')],
      ['x.pcapng', file(ev, '.pcapng')],
    ] as const) {
      const read = tcpdumpReads(bytes, name);
      assert.equal(read.lines.length, fx.packets.length);
      assert.doesNotMatch(read.stderr, /warning|might be incorrect|unknown/i, read.stderr);
      assert.match(read.stderr, /LINUX_SLL \(Linux cooked v1\)/);
    }
  });

  it('without interface names the decode says ifN is the LB interface index, and pcapng names them ifN', () => {
    const ev = evidenceOf(probeFixture('dnat-healthy'));
    assert.match(file(ev, '-decode.txt').toString(), /the LB's names were not read; ifN is the LB's interface index N/);
    assert.deepEqual(readPcapng(file(ev, '.pcapng')).interfaces, ['if2', 'if3']);
  });

  it('a dropped SYN whose SYN-ACK is also missing still says that nothing of the probe reached the LB', () => {
    const ev = stepEvidence({
      step: 1,
      title: 'Step 1: probe 198.18.2.1:80 from source port 40000; capture on lab-lb',
      pcap: { linkType: LINKTYPE.LINUX_SLL2, snaplen: 262, packets: [], label: 'lb' },
      deciding: [],
      missing: [{ from: '198.18.2.1:80', to: '198.18.0.10:40000', what: 'no SYN-ACK', waitedMs: 1000 }],
      notes: [],
      commands: [],
      timings: {},
    });
    const decode = file(ev, '-decode.txt').toString();
    assert.match(decode, /\(never\) .*client > LB {2}nothing: no packet of the probe reached the LB/);
    assert.match(decode, /\(never\) .*nothing: no SYN-ACK \(waited 1\.0 s\)/);
    assert.deepEqual(svgArrows(file(ev, '-ladder.svg').toString()), { counts: [], missing: 2 });
  });

  it('a step whose LB capture is empty (a dropped SYN) draws one dashed arrow from the probe to the LB', () => {
    const ev = stepEvidence({
      step: 1,
      title: 'Step 1: probe 198.18.2.1:80 from source port 40000; capture on lab-lb',
      pcap: { linkType: LINKTYPE.LINUX_SLL2, snaplen: 262, packets: [], label: 'lb' },
      deciding: [],
      notes: [],
      commands: [],
      timings: {},
    });
    assert.equal(
      ev.find((e) => e.name.endsWith('.pcap')),
      undefined,
    );
    const svg = file(ev, '-ladder.svg').toString();
    assert.deepEqual(svgArrows(svg), { counts: [], missing: 1 });
    const decode = file(ev, '-decode.txt').toString();
    assert.match(decode, /\(never\) .*client > LB {2}nothing: no packet of the probe reached the LB/);
    assert.match(decode, /the LB captured no packet of this probe/i);
    checkPng(file(ev, '-ladder.png'));
  });

  it('server-supplied text is never markup: an HTTP status line with < & " is escaped in the SVG', () => {
    const fx = probeFixture('haproxy-503');
    const hostile = fx.packets.map((p) => {
      if (!p.tcp?.payload.toString('latin1').startsWith('HTTP/1.1 503')) return p;
      const payload = Buffer.from('HTTP/1.1 503 <script>alert("x")</script> & more\r\n\r\n', 'latin1');
      return { ...p, tcp: { ...p.tcp, payload } };
    });
    const svg = renderLadderSvg(buildLadder({ title: 'Step 2: <b>title</b>', packets: hostile }));
    assert.doesNotMatch(svg, /<script|<b>/);
    assert.match(svg, /HTTP\/1\.1 503 &#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62; &#38; more/);
    assert.equal(escapeXml(`<&>"'`), '&#60;&#38;&#62;&#34;&#39;');
  });
});

describe('interface names from ip -o link', () => {
  it('drops the @peer suffix of veth devices and keeps every index', () => {
    assert.deepEqual(
      [...lbInterfaces().entries()],
      [
        [1, 'lo'],
        [2, 'eth0'],
        [3, 'eth1'],
      ],
    );
    const text = '7: bond0.100@bond0: <BROADCAST> mtu 1500\n12: ens5: <UP> mtu 9001\ngarbage\n';
    assert.deepEqual(
      [...parseIpLink(text).entries()],
      [
        [7, 'bond0.100'],
        [12, 'ens5'],
      ],
    );
  });
});

describe('packets seen only at the probe', () => {
  const base = { capturedLength: 60, originalLength: 60, linkType: LINKTYPE.LINUX_SLL, direction: 'in' as const };
  const flags = { syn: false, ack: true, fin: false, rst: true, psh: false, urg: false };
  const reset: Packet = {
    ...base,
    index: 0,
    timeUs: 1_700_000_000_000_000,
    ip: { version: 4, src: '198.18.2.1', dst: '198.18.0.10', protocol: 6, ttl: 63 },
    tcp: { srcPort: 80, dstPort: 40000, seq: 0, ack: 1, flags, window: 0, payloadLength: 0, payload: Buffer.alloc(0) },
    data: Buffer.from('forged reset'),
  };
  const icmp: Packet = {
    ...base,
    index: 0,
    timeUs: 1_700_000_000_000_000,
    ip: { version: 4, src: '198.18.0.1', dst: '198.18.0.10', protocol: 1, ttl: 64 },
    icmp: {
      version: 4,
      type: 3,
      code: 3,
      unreachable: {
        reason: 'port unreachable',
        original: { src: '198.18.0.10', dst: '198.18.2.1', protocol: 6, srcPort: 40000, dstPort: 80 },
      },
    },
    data: Buffer.from('icmp'),
  };
  const title = 'Step 1: probe 198.18.2.1:80 from source port 40000; capture on lab-lb';

  it('a reset the LB never sent: drawn from the LB column, marked as seen at the probe, and the summary says so', () => {
    const ev = stepEvidence({
      step: 1,
      title,
      pcap: { linkType: LINKTYPE.LINUX_SLL2, snaplen: 262, packets: [], label: 'lb' },
      deciding: [reset],
      notes: [],
      commands: [],
      timings: {},
    });
    const svg = file(ev, '-ladder.svg').toString();
    // The reset, seen only at the probe, and a dashed arrow: nothing of this probe reached the LB.
    assert.deepEqual(svgArrows(svg), { counts: [1], missing: 1 });
    assert.match(svg, /RST-ACK \(at probe\)/);
    assert.match(svg, /no packet of the probe reached the LB/);
    const decode = file(ev, '-decode.txt').toString();
    assert.match(decode, /at probe in +client side +198\.18\.2\.1:80 > 198\.18\.0\.10:40000 {2}RST-ACK/);
    assert.match(decode, /The LB captured no packet of this probe/);
  });

  it('an ICMP unreachable from a hop: the hop gets its own column between the client and the LB', () => {
    const ladder = buildLadder({
      title,
      packets: [],
      deciding: [icmp],
      sides: { vip: '198.18.2.1', port: 80, clientAddress: '198.18.0.10' },
    });
    assert.deepEqual(
      ladder.columns.map((c) => `${c.role}:${c.addresses.join(',')}`),
      ['client:198.18.0.10', 'hop:198.18.0.1', 'lb:198.18.2.1:80'],
    );
    const row = ladder.rows[0];
    assert.equal(
      row?.kind === 'packet' && `${row.from}>${row.to} ${row.label}`,
      'hop:198.18.0.1>client ICMP port unreachable',
    );
    assert.match(ladder.summary, /198\.18\.0\.1 sent ICMP port unreachable to the client/);
  });
});

describe('the probe among the LB own traffic', () => {
  it("the LB's health-check SYNs (sent out) never make a column the client: the SYN that came in does", () => {
    const { packets } = decodePcap(readFileSync(fixturePath('haproxy-503.pcap')));
    assert.equal(packets[0]?.direction, 'out', 'the fixture starts with a health check the LB sent');
    const ladder = buildLadder({ title: 't', packets });
    const probe = probeFixture('haproxy-503');
    assert.deepEqual(ladder.columns.find((c) => c.role === 'client')?.addresses, [probe.client]);
    assert.equal(ladder.columns.find((c) => c.role === 'lb')?.addresses[0], `${probe.vip}:${probe.port}`);
  });
});

describe('no LB capture at all', () => {
  it('without SSH access the ladder claims nothing about the LB: no dashed arrow, and the summary says why', () => {
    const ev = stepEvidence({
      step: 1,
      title: 'Step 1: probe 198.18.2.1:80 from source port 40000; no LB capture',
      pcap: undefined,
      deciding: [],
      notes: [],
      commands: [],
      timings: {},
    });
    assert.deepEqual(svgArrows(file(ev, '-ladder.svg').toString()), { counts: [], missing: 0 });
    const decode = file(ev, '-decode.txt').toString();
    assert.match(decode, /No capture on the LB \(no SSH access\): only what the probe saw\./);
    assert.doesNotMatch(decode, /reached the LB|captured no packet/);
  });
});
