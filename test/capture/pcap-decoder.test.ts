// The pcap decoder against captures made by the lab's real tcpdump, checked
// packet by packet against tcpdump's own reading of the same file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePcap, encodePcap, PcapFormatError, PcapStreamDecoder } from '../../src/capture/pcap-stream.js';
import { flagText, LINKTYPE, type Packet } from '../../src/capture/packet.js';
import { formatPacket } from '../../src/capture/format-packet.js';
import { startLab, type Lab } from '../lab/lab.js';
import { captureToFile, httpGet, tcpConnect } from '../lab/lab-probes.js';
import { runOk } from '../lab/run-command.js';
import { bigEndianCopy, ipv6TcpSynPcap, withVlanTags } from './pcap-fixtures.js';

let lab: Lab;
let dir: string;
const files: Record<string, string> = {};

before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-pcap-'));
  const variants: Record<string, { host: string; args: string[] }> = {
    sll2: { host: 'lb', args: ['-i', 'any'] },
    sll: { host: 'lb', args: ['-i', 'any', '-y', 'LINUX_SLL'] },
    ethernet: { host: 'lb', args: ['-i', 'eth0'] },
    nano: { host: 'lb', args: ['-i', 'eth0', '--time-stamp-precision=nano'] },
    icmp: { host: 'router', args: ['-i', 'any', 'icmp or tcp port 80'] },
  };
  const caps = [];
  for (const [name, v] of Object.entries(variants)) {
    files[name] = join(dir, `${name}.pcap`);
    caps.push(
      await captureToFile(lab, v.host, files[name], [
        '-s',
        '256',
        ...v.args,
        ...(v.args.length > 2 ? [] : ['tcp port 80']),
      ]),
    );
  }
  assert.equal((await httpGet(lab.vips.nginx.address, 80)).status, 200);
  await lab.faults.rejectBeforeLb('haproxy-tcp', 'icmp-port-unreachable');
  assert.equal((await tcpConnect(lab.vips['haproxy-tcp'].address, 80)).outcome, 'refused');
  for (const c of caps) await c.stop();
});
after(() => {
  lab?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface TcpdumpView {
  src: string;
  dst: string;
  flags: string;
  seq?: number;
}

/** tcpdump's own reading: "IP a.b.c.d.p > e.f.g.h.q: Flags [S.], seq 123, ..." with -S for absolute seqs. */
async function tcpdumpRead(file: string): Promise<TcpdumpView[]> {
  const out = await runOk(['tcpdump', '-r', file, '-nn', '-S', '-t']);
  return out
    .split('\n')
    .filter((l) => /(?:^|\s)IP /.test(l))
    .map((l) => {
      const m = /(?:^|\s)IP (\S+) > (\S+?):(?: Flags \[([^\]]+)\](?:, seq (\d+))?)?/.exec(l);
      assert.ok(m, l);
      const view: TcpdumpView = { src: m[1] ?? '', dst: m[2] ?? '', flags: m[3] ?? '' };
      if (m[4] !== undefined) view.seq = Number(m[4]);
      return view;
    });
}

function ourView(p: Packet): TcpdumpView {
  assert.ok(p.ip, `packet ${p.index} not decoded: ${p.note}`);
  if (!p.tcp) return { src: p.ip.src, dst: p.ip.dst, flags: '' };
  const f = flagText(p.tcp.flags).replace('none', '');
  const view: TcpdumpView = { src: `${p.ip.src}.${p.tcp.srcPort}`, dst: `${p.ip.dst}.${p.tcp.dstPort}`, flags: f };
  // tcpdump omits seq on pure ACKs without payload
  if (p.tcp.flags.syn || p.tcp.flags.fin || p.tcp.flags.rst || p.tcp.payloadLength > 0) view.seq = p.tcp.seq;
  return view;
}

describe('pcap decoder on real tcpdump captures', () => {
  for (const [name, linkType] of [
    ['sll2', LINKTYPE.LINUX_SLL2],
    ['sll', LINKTYPE.LINUX_SLL],
    ['ethernet', LINKTYPE.ETHERNET],
    ['nano', LINKTYPE.ETHERNET],
  ] as const) {
    it(`${name}: every packet matches tcpdump's own decode`, async () => {
      const bytes = readFileSync(files[name] ?? '');
      const { header, packets, leftover } = decodePcap(bytes);
      assert.equal(header.linkType, linkType);
      assert.equal(header.nanosecond, name === 'nano');
      assert.equal(leftover, 0);
      const theirs = await tcpdumpRead(files[name] ?? '');
      assert.ok(theirs.length >= 8, `expected a full HTTP exchange, got ${theirs.length} packets`);
      const ours = packets.filter((p) => p.ip).map(ourView);
      assert.deepEqual(
        ours.map((v) => ({
          ...v,
          seq: v.seq ?? theirs.find((t) => t.src === v.src && t.dst === v.dst && t.flags === v.flags)?.seq,
        })),
        theirs.map((t) => ({ ...t, seq: t.seq })),
      );
      assert.ok(packets.some((p) => p.tcp?.payload.toString('latin1').startsWith('GET / HTTP/1.1')));
    });
  }

  it('sll2 records the interface and the direction', () => {
    const { packets } = decodePcap(readFileSync(files.sll2 ?? ''));
    const syn = packets.find((p) => p.tcp?.flags.syn && !p.tcp.flags.ack && p.ip?.dst === lab.vips.nginx.address);
    assert.ok(syn);
    assert.equal(syn.direction, 'in');
    assert.ok((syn.ifIndex ?? 0) > 0);
    assert.ok(packets.some((p) => p.direction === 'out'));
  });

  it('nanosecond and microsecond timestamps of the same moment agree', () => {
    const us = decodePcap(readFileSync(files.ethernet ?? '')).packets[0];
    const ns = decodePcap(readFileSync(files.nano ?? '')).packets[0];
    assert.ok(us && ns);
    assert.ok(Math.abs(us.timeUs - ns.timeUs) < 5_000, `${us.timeUs} vs ${ns.timeUs}`);
    assert.ok(Math.abs(us.timeUs / 1000 - Date.now()) < 600_000);
  });

  it('decodes an ICMP port unreachable with the packet it quotes', () => {
    const { packets } = decodePcap(readFileSync(files.icmp ?? ''));
    const icmp = packets.find((p) => p.icmp?.unreachable);
    assert.ok(icmp?.icmp?.unreachable, 'no ICMP unreachable decoded');
    assert.equal(icmp.ip?.src, lab.addr.routerClientSide);
    assert.equal(icmp.icmp.unreachable.reason, 'port unreachable');
    assert.equal(icmp.icmp.unreachable.original.dst, lab.vips['haproxy-tcp'].address);
    assert.equal(icmp.icmp.unreachable.original.dstPort, 80);
    assert.match(formatPacket(icmp), /ICMP port unreachable for .* > .*:80$/);
  });

  it('gives the same packets however the stream is cut into chunks', () => {
    const bytes = readFileSync(files.sll2 ?? '');
    const whole = decodePcap(bytes).packets;
    for (const size of [1, 3, 17, 100, 4096]) {
      const d = new PcapStreamDecoder();
      const got: Packet[] = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...d.push(bytes.subarray(i, i + size)));
      assert.equal(d.leftover, 0);
      assert.deepEqual(
        got.map((p) => formatPacket(p)),
        whole.map((p) => formatPacket(p)),
        `chunk size ${size}`,
      );
    }
  });

  it('reads big-endian files the same as little-endian', () => {
    const bytes = readFileSync(files.ethernet ?? '');
    const le = decodePcap(bytes);
    const be = decodePcap(bigEndianCopy(bytes));
    assert.equal(be.header.littleEndian, false);
    assert.deepEqual(
      be.packets.map((p) => formatPacket(p)),
      le.packets.map((p) => formatPacket(p)),
    );
  });

  it('reads VLAN-tagged (and QinQ) Ethernet frames', () => {
    const bytes = readFileSync(files.ethernet ?? '');
    const plain = decodePcap(bytes).packets.map((p) => formatPacket(p));
    assert.deepEqual(
      decodePcap(withVlanTags(bytes, 1)).packets.map((p) => formatPacket(p)),
      plain,
    );
    assert.deepEqual(
      decodePcap(withVlanTags(bytes, 2)).packets.map((p) => formatPacket(p)),
      plain,
    );
  });

  it('reads raw-IP captures (SLL headers stripped, as a tun device would record)', () => {
    const { packets } = decodePcap(readFileSync(files.sll ?? ''));
    const raw = packets.map((p) => ({ ...p, data: p.data.subarray(16) }));
    const again = decodePcap(encodePcap(LINKTYPE.RAW, 256, raw)).packets;
    assert.deepEqual(
      again.map((p) => formatPacket(p)),
      packets.map((p) => formatPacket({ ...p, direction: 'unknown' })),
    );
  });

  it('decodes IPv6 TCP and ICMPv6 unreachables', () => {
    const { packets } = decodePcap(ipv6TcpSynPcap());
    const [syn, icmp] = packets;
    assert.equal(syn?.ip?.version, 6);
    assert.equal(syn?.ip?.src, '2001:db8::1');
    assert.equal(syn?.ip?.dst, '2001:db8:0:1::80');
    assert.equal(syn?.tcp?.dstPort, 443);
    assert.equal(syn?.tcp?.flags.syn, true);
    assert.equal(syn?.tcp?.seq, 0x01020304);
    assert.equal(icmp?.icmp?.unreachable?.reason, 'port unreachable');
    assert.equal(icmp?.icmp?.unreachable?.original.dstPort, 443);
  });

  it('encodePcap round-trips and tcpdump reads what it writes', async () => {
    const { packets } = decodePcap(readFileSync(files.sll2 ?? ''));
    const file = join(dir, 'subset.pcap');
    const subset = packets.filter((p) => p.tcp?.flags.syn);
    writeFileSync(file, encodePcap(LINKTYPE.LINUX_SLL2, 256, subset));
    const theirs = await tcpdumpRead(file);
    assert.equal(theirs.length, subset.length);
    assert.ok(theirs.every((t) => t.flags.includes('S')));
  });

  it('rejects what is not a classic pcap, and a record claiming an absurd length', () => {
    assert.throws(
      () => decodePcap(Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex')),
      PcapFormatError,
    );
    const bytes = Buffer.from(readFileSync(files.ethernet ?? ''));
    assert.ok(bytes.length > 40);
    bytes.writeUInt32LE(10_000_000, 24 + 8);
    assert.throws(() => decodePcap(bytes), /corrupt/);
  });
});
