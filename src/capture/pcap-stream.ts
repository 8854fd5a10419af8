// Classic pcap, decoded incrementally: chunks arrive from an SSH channel cut
// at arbitrary places, so headers and records may straddle chunk boundaries.
import { decodeLinkLayer, ETHERTYPE } from './link-layer.js';
import { decodeNetworkLayer } from './network-layer.js';
import type { Packet } from './packet.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger than any snaplen tcpdump uses; a bigger record means a corrupt stream. */
const MAX_RECORD = 262_144;

export class PcapFormatError extends Error {
  override name = 'PcapFormatError';
}

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  snaplen: number;
  linkType: number;
}

export function parseGlobalHeader(b: Buffer): PcapHeader {
  if (b.length < GLOBAL_HEADER) throw new PcapFormatError('pcap header truncated');
  const le = b.readUInt32LE(0);
  const be = b.readUInt32BE(0);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (le === MAGIC_US || le === MAGIC_NS) {
    littleEndian = true;
    nanosecond = le === MAGIC_NS;
  } else if (be === MAGIC_US || be === MAGIC_NS) {
    littleEndian = false;
    nanosecond = be === MAGIC_NS;
  } else {
    throw new PcapFormatError(`not a classic pcap stream (magic 0x${be.toString(16)}); pcapng is not supported`);
  }
  const u32 = (at: number): number => (littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at));
  return { littleEndian, nanosecond, snaplen: u32(16), linkType: u32(20) & 0x0fffffff };
}

export function decodeRecord(header: PcapHeader, index: number, recordHeader: Buffer, data: Buffer): Packet {
  const u32 = (at: number): number =>
    header.littleEndian ? recordHeader.readUInt32LE(at) : recordHeader.readUInt32BE(at);
  const sec = u32(0);
  const frac = u32(4);
  const timeUs = sec * 1_000_000 + (header.nanosecond ? Math.floor(frac / 1000) : frac);
  const link = decodeLinkLayer(header.linkType, data);
  const packet: Packet = {
    index,
    timeUs,
    capturedLength: data.length,
    originalLength: u32(12),
    linkType: header.linkType,
    direction: link.direction,
    data,
  };
  if (link.ifIndex !== undefined) packet.ifIndex = link.ifIndex;
  if (link.offset < 0) {
    if (link.note) packet.note = link.note;
    return packet;
  }
  if (link.etherType !== ETHERTYPE.IPV4 && link.etherType !== ETHERTYPE.IPV6) {
    packet.note = `ethertype 0x${link.etherType.toString(16).padStart(4, '0')}`;
    return packet;
  }
  const net = decodeNetworkLayer(data, link.offset);
  if (net.ip) packet.ip = net.ip;
  if (net.tcp) packet.tcp = net.tcp;
  if (net.icmp) packet.icmp = net.icmp;
  if (net.note) packet.note = net.note;
  return packet;
}

/** Feed chunks with push(); complete packets come back as soon as their last byte arrives. */
export class PcapStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private headerInfo: PcapHeader | undefined;
  private count = 0;
  private bytes = 0;

  get header(): PcapHeader | undefined {
    return this.headerInfo;
  }

  /** Total bytes pushed so far, headers included. */
  get totalBytes(): number {
    return this.bytes;
  }

  push(chunk: Buffer): Packet[] {
    this.bytes += chunk.length;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Packet[] = [];
    let at = 0;
    if (this.headerInfo === undefined) {
      if (this.pending.length < GLOBAL_HEADER) return out;
      this.headerInfo = parseGlobalHeader(this.pending);
      at = GLOBAL_HEADER;
    }
    const h = this.headerInfo;
    while (this.pending.length - at >= RECORD_HEADER) {
      const recordHeader = this.pending.subarray(at, at + RECORD_HEADER);
      const inclLen = h.littleEndian ? recordHeader.readUInt32LE(8) : recordHeader.readUInt32BE(8);
      if (inclLen > MAX_RECORD)
        throw new PcapFormatError(`pcap record ${this.count} claims ${inclLen} bytes; the stream is corrupt`);
      if (this.pending.length - at - RECORD_HEADER < inclLen) break;
      // Copy, so packets do not pin the whole accumulated buffer.
      const data = Buffer.from(this.pending.subarray(at + RECORD_HEADER, at + RECORD_HEADER + inclLen));
      out.push(decodeRecord(h, this.count++, Buffer.from(recordHeader), data));
      at += RECORD_HEADER + inclLen;
    }
    this.pending = at === 0 ? this.pending : this.pending.subarray(at);
    return out;
  }

  /** Bytes of a record that never completed (the capture was cut mid-record). */
  get leftover(): number {
    return this.pending.length;
  }
}

export function decodePcap(b: Buffer): { header: PcapHeader; packets: Packet[]; leftover: number } {
  const d = new PcapStreamDecoder();
  const packets = d.push(b);
  if (d.header === undefined) throw new PcapFormatError('pcap header truncated');
  return { header: d.header, packets, leftover: d.leftover };
}

/** A little-endian microsecond pcap holding the given packets (e.g. the ones that decided a step). */
export function encodePcap(linkType: number, snaplen: number, packets: readonly Packet[]): Buffer {
  const header = Buffer.alloc(GLOBAL_HEADER);
  header.writeUInt32LE(MAGIC_US, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [header];
  for (const p of packets) {
    const rh = Buffer.alloc(RECORD_HEADER);
    rh.writeUInt32LE(Math.floor(p.timeUs / 1_000_000), 0);
    rh.writeUInt32LE(p.timeUs % 1_000_000, 4);
    rh.writeUInt32LE(p.data.length, 8);
    rh.writeUInt32LE(p.originalLength, 12);
    parts.push(rh, p.data);
  }
  return Buffer.concat(parts);
}
