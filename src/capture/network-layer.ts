// IPv4/IPv6, TCP and ICMP/ICMPv6 decoding. Every read is bounds-checked:
// capture data is untrusted and may be cut by the snaplen.
import type { IcmpMessage, IpHeader, TcpSegment } from './packet.js';

export interface NetworkDecode {
  ip?: IpHeader;
  tcp?: TcpSegment;
  icmp?: IcmpMessage;
  note?: string;
}

const PROTO_TCP = 6;
const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;
const IPV6_EXTENSIONS = new Set([0, 43, 44, 60]);

export function ipv4ToString(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 form: lower case, longest zero run compressed. */
export function ipv6ToString(b: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

interface IpParse {
  header: IpHeader;
  /** Offset of the transport header. */
  payloadOffset: number;
  /** Transport length per the IP header (may exceed what was captured). */
  payloadLength: number;
}

function parseIp(b: Buffer, at: number): IpParse | string {
  if (b.length < at + 1) return 'truncated IP header';
  const version = (b[at] ?? 0) >> 4;
  if (version === 4) {
    if (b.length < at + 20) return 'truncated IPv4 header';
    const ihl = ((b[at] ?? 0) & 0x0f) * 4;
    if (ihl < 20 || b.length < at + ihl) return 'bad IPv4 header length';
    const total = b.readUInt16BE(at + 2);
    return {
      header: {
        version: 4,
        src: ipv4ToString(b, at + 12),
        dst: ipv4ToString(b, at + 16),
        protocol: b[at + 9] ?? 0,
        ttl: b[at + 8] ?? 0,
      },
      payloadOffset: at + ihl,
      payloadLength: Math.max(0, total - ihl),
    };
  }
  if (version === 6) {
    if (b.length < at + 40) return 'truncated IPv6 header';
    let next = b[at + 6] ?? 0;
    let offset = at + 40;
    let remaining = b.readUInt16BE(at + 4);
    while (IPV6_EXTENSIONS.has(next)) {
      if (b.length < offset + 8) return 'truncated IPv6 extension header';
      const extLen = next === 44 ? 8 : ((b[offset + 1] ?? 0) + 1) * 8;
      next = b[offset] ?? 0;
      offset += extLen;
      remaining -= extLen;
    }
    return {
      header: {
        version: 6,
        src: ipv6ToString(b, at + 8),
        dst: ipv6ToString(b, at + 24),
        protocol: next,
        ttl: b[at + 7] ?? 0,
      },
      payloadOffset: offset,
      payloadLength: Math.max(0, remaining),
    };
  }
  return `not IP (version ${version})`;
}

function parseTcp(b: Buffer, at: number, length: number): TcpSegment | string {
  if (b.length < at + 14) return 'truncated TCP header';
  const dataOffset = ((b[at + 12] ?? 0) >> 4) * 4;
  const f = b[at + 13] ?? 0;
  const window = b.length >= at + 16 ? b.readUInt16BE(at + 14) : 0;
  const payloadStart = Math.min(b.length, at + dataOffset);
  const payloadLength = Math.max(0, length - dataOffset);
  return {
    srcPort: b.readUInt16BE(at),
    dstPort: b.readUInt16BE(at + 2),
    seq: b.readUInt32BE(at + 4),
    ack: b.readUInt32BE(at + 8),
    flags: { fin: !!(f & 1), syn: !!(f & 2), rst: !!(f & 4), psh: !!(f & 8), ack: !!(f & 16), urg: !!(f & 32) },
    window,
    payloadLength,
    payload: b.subarray(payloadStart, Math.min(b.length, payloadStart + payloadLength)),
  };
}

const ICMP4_UNREACHABLE: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  9: 'net admin prohibited',
  10: 'host admin prohibited',
  13: 'admin prohibited',
};
const ICMP6_UNREACHABLE: Record<number, string> = {
  0: 'no route',
  1: 'admin prohibited',
  3: 'address unreachable',
  4: 'port unreachable',
  5: 'source address failed policy',
  6: 'reject route',
};

function parseIcmp(b: Buffer, at: number, version: 4 | 6): IcmpMessage | string {
  if (b.length < at + 8) return 'truncated ICMP header';
  const type = b[at] ?? 0;
  const code = b[at + 1] ?? 0;
  const message: IcmpMessage = { version, type, code };
  const isUnreachable = version === 4 ? type === 3 : type === 1;
  if (!isUnreachable) return message;
  const reason = (version === 4 ? ICMP4_UNREACHABLE : ICMP6_UNREACHABLE)[code] ?? `unreachable code ${code}`;
  const inner = parseIp(b, at + 8);
  if (typeof inner === 'string')
    return { ...message, unreachable: { reason, original: { src: '?', dst: '?', protocol: 0 } } };
  const original: IcmpUnreachableOriginal = {
    src: inner.header.src,
    dst: inner.header.dst,
    protocol: inner.header.protocol,
  };
  if ((inner.header.protocol === PROTO_TCP || inner.header.protocol === 17) && b.length >= inner.payloadOffset + 4) {
    original.srcPort = b.readUInt16BE(inner.payloadOffset);
    original.dstPort = b.readUInt16BE(inner.payloadOffset + 2);
  }
  return { ...message, unreachable: { reason, original } };
}

type IcmpUnreachableOriginal = NonNullable<IcmpMessage['unreachable']>['original'];

export function decodeNetworkLayer(b: Buffer, at: number): NetworkDecode {
  const ip = parseIp(b, at);
  if (typeof ip === 'string') return { note: ip };
  const result: NetworkDecode = { ip: ip.header };
  const proto = ip.header.protocol;
  if (proto === PROTO_TCP) {
    const tcp = parseTcp(b, ip.payloadOffset, ip.payloadLength);
    if (typeof tcp === 'string') result.note = tcp;
    else result.tcp = tcp;
  } else if ((proto === PROTO_ICMP && ip.header.version === 4) || (proto === PROTO_ICMPV6 && ip.header.version === 6)) {
    const icmp = parseIcmp(b, ip.payloadOffset, ip.header.version);
    if (typeof icmp === 'string') result.note = icmp;
    else result.icmp = icmp;
  }
  return result;
}
