// Variants of real captures for the decoder tests: byte-swapped files, VLAN
// tags inserted into real Ethernet frames, and a hand-built IPv6 exchange
// (IPv6 never goes on the lab's wire: the lab uses 198.18.0.0/15 only).
import { decodePcap, encodePcap } from '../../src/capture/pcap-stream.js';
import { LINKTYPE } from '../../src/capture/packet.js';

export function bigEndianCopy(le: Buffer): Buffer {
  const out = Buffer.from(le);
  const swap32 = (at: number): void => void out.writeUInt32BE(le.readUInt32LE(at), at);
  const swap16 = (at: number): void => void out.writeUInt16BE(le.readUInt16LE(at), at);
  swap32(0);
  swap16(4);
  swap16(6);
  for (const at of [8, 12, 16, 20]) swap32(at);
  let at = 24;
  while (at + 16 <= le.length) {
    const incl = le.readUInt32LE(at + 8);
    for (let i = 0; i < 16; i += 4) swap32(at + i);
    at += 16 + incl;
  }
  return out;
}

export function withVlanTags(ethernetPcap: Buffer, depth: 1 | 2): Buffer {
  const { header, packets } = decodePcap(ethernetPcap);
  const tagged = packets.map((p) => {
    const tags =
      depth === 1 ? Buffer.from('8100' + '0064', 'hex') : Buffer.from('88a8' + '00c8' + '8100' + '0064', 'hex');
    const data = Buffer.concat([p.data.subarray(0, 12), tags, p.data.subarray(12)]);
    return { ...p, data, originalLength: p.originalLength + tags.length };
  });
  return encodePcap(header.linkType, header.snaplen + 8, tagged);
}

function ipv6(src: string, dst: string, next: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = 64;
  parse6(src).copy(h, 8);
  parse6(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function parse6(addr: string): Buffer {
  const [head = '', tail = ''] = addr.split('::');
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const groups = [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function tcpSyn(srcPort: number, dstPort: number, seq: number): Buffer {
  const t = Buffer.alloc(20);
  t.writeUInt16BE(srcPort, 0);
  t.writeUInt16BE(dstPort, 2);
  t.writeUInt32BE(seq, 4);
  t[12] = 5 << 4;
  t[13] = 0x02;
  t.writeUInt16BE(64800, 14);
  return t;
}

/** A raw-IP pcap: an IPv6 SYN, then an ICMPv6 port unreachable quoting it. */
export function ipv6TcpSynPcap(): Buffer {
  const syn = ipv6('2001:db8::1', '2001:db8:0:1::80', 6, tcpSyn(40000, 443, 0x01020304));
  const icmpBody = Buffer.concat([Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]), syn]);
  const icmp = ipv6('2001:db8::fe', '2001:db8::1', 58, icmpBody);
  const now = Date.now() * 1000;
  const packet = (data: Buffer, i: number) => ({
    index: i,
    timeUs: now + i,
    capturedLength: data.length,
    originalLength: data.length,
    linkType: LINKTYPE.RAW,
    direction: 'unknown' as const,
    data,
  });
  return encodePcap(LINKTYPE.RAW, 65535, [packet(syn, 0), packet(icmp, 1)]);
}
