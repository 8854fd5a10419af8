// The decoded view of one captured packet: only what the checklist reasons
// about (addresses, TCP flags and sequence numbers, ICMP unreachables).

export type Direction = 'in' | 'out' | 'broadcast' | 'multicast' | 'other-host' | 'unknown';

export interface TcpFlags {
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  psh: boolean;
  urg: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: TcpFlags;
  window: number;
  /** Payload length on the wire (from the IP length), even if the snaplen cut it. */
  payloadLength: number;
  /** The captured part of the payload. */
  payload: Buffer;
}

export interface IcmpUnreachable {
  /** e.g. "port unreachable", "admin prohibited" */
  reason: string;
  /** The packet that provoked it, as quoted inside the ICMP message. */
  original: { src: string; dst: string; protocol: number; srcPort?: number; dstPort?: number };
}

export interface IcmpMessage {
  version: 4 | 6;
  type: number;
  code: number;
  unreachable?: IcmpUnreachable;
}

export interface IpHeader {
  version: 4 | 6;
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
}

export interface Packet {
  /** 0-based position in the capture. */
  index: number;
  /** Microseconds since the epoch (nanosecond captures are rounded down). */
  timeUs: number;
  capturedLength: number;
  originalLength: number;
  linkType: number;
  direction: Direction;
  /** Interface index (Linux SLL2 only). */
  ifIndex?: number;
  ip?: IpHeader;
  tcp?: TcpSegment;
  icmp?: IcmpMessage;
  /** Why the packet could not be decoded further, if it could not. */
  note?: string;
  /** The captured record bytes (link layer included), for re-encoding a subset. */
  data: Buffer;
}

export const LINKTYPE = {
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export function flagText(f: TcpFlags): string {
  let s = '';
  if (f.syn) s += 'S';
  if (f.fin) s += 'F';
  if (f.rst) s += 'R';
  if (f.psh) s += 'P';
  if (f.urg) s += 'U';
  if (f.ack) s += '.';
  return s === '' ? 'none' : s;
}
