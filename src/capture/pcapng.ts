// A pcapng file of a step's packets with one Interface Description Block per
// LB interface, named as the LB names it (if_name), so Wireshark's
// frame.interface_name and the decode agree. Records are LINUX_SLL (113) when
// the capture was SLL2, which Wireshark 3.x and current tcpdump both read;
// direction goes into each Enhanced Packet Block's flags as well.
import { LINKTYPE, type Packet } from './packet.js';
import { portableRecords } from './sll.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;
const OPT_EPB_FLAGS = 2;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function option(code: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(code, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad4(value.length))]);
}

function options(list: Buffer[]): Buffer {
  return list.length === 0 ? Buffer.alloc(0) : Buffer.concat([...list, option(OPT_END, Buffer.alloc(0))]);
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length + pad4(body.length);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

function sectionHeader(comment: string, more: readonly string[] = []): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length unknown
  return block(
    BT_SHB,
    Buffer.concat([
      body,
      options([
        option(OPT_SHB_USERAPPL, Buffer.from('lbcheck')),
        ...[comment, ...more].map((c) => option(OPT_COMMENT, Buffer.from(c))),
      ]),
    ]),
  );
}

function interfaceBlock(
  linkType: number,
  snaplen: number,
  name: string,
  description: string,
  comments: readonly string[] = [],
): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(linkType, 0);
  body.writeUInt32LE(snaplen, 4);
  return block(
    BT_IDB,
    Buffer.concat([
      body,
      options([
        option(OPT_IF_NAME, Buffer.from(name)),
        option(OPT_IF_DESCRIPTION, Buffer.from(description)),
        option(OPT_IF_TSRESOL, Buffer.from([6])), // microseconds
        ...comments.map((c) => option(OPT_COMMENT, Buffer.from(c))),
      ]),
    ]),
  );
}

/** pcapng EPB flags: bits 0-1 direction (1 inbound, 2 outbound). */
function directionFlags(p: Packet): number {
  if (p.direction === 'out') return 2;
  if (p.direction === 'in' || p.direction === 'broadcast' || p.direction === 'multicast') return 1;
  return 0;
}

function packetBlock(interfaceId: number, p: Packet, shiftUs = 0): Buffer {
  const body = Buffer.alloc(20);
  const ts = BigInt(p.timeUs + shiftUs);
  body.writeUInt32LE(interfaceId, 0);
  body.writeUInt32LE(Number(ts >> 32n), 4);
  body.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  body.writeUInt32LE(p.data.length, 12);
  body.writeUInt32LE(p.originalLength, 16);
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(directionFlags(p), 0);
  const dir = directionFlags(p);
  return block(
    BT_EPB,
    Buffer.concat([
      body,
      p.data,
      Buffer.alloc(pad4(p.data.length)),
      options(dir === 0 ? [] : [option(OPT_EPB_FLAGS, flags)]),
    ]),
  );
}

export interface PcapngInput {
  linkType: number;
  snaplen: number;
  packets: readonly Packet[];
  /** ifindex → name on the LB; unknown indexes are named "ifN". */
  interfaces?: ReadonlyMap<number, string>;
  /** Name for records without an interface index (a capture on one named interface). */
  defaultInterface?: string;
  comment?: string;
  /** More section comments (each an opt_comment of the section header). */
  comments?: readonly string[];
}

export function encodePcapng(input: PcapngInput): Buffer {
  const portable = portableRecords(input.linkType, input.packets);
  const snaplen = Math.max(0, input.snaplen + portable.snaplenDelta);
  const ids = new Map<number | undefined, number>();
  const blocks: Buffer[] = [
    sectionHeader(input.comment ?? 'captured on the load balancer by lbcheck', input.comments ?? []),
  ];
  const idFor = (ifIndex: number | undefined): number => {
    const known = ids.get(ifIndex);
    if (known !== undefined) return known;
    const id = ids.size;
    ids.set(ifIndex, id);
    const name =
      ifIndex === undefined
        ? (input.defaultInterface ?? 'capture')
        : (input.interfaces?.get(ifIndex) ?? `if${ifIndex}`);
    const description = ifIndex === undefined ? 'capture interface' : `ifindex ${ifIndex} on the LB`;
    blocks.push(interfaceBlock(portable.linkType, snaplen, name, description));
    return id;
  };
  // An empty capture still names its interface, the comments (its filter, window, counts) on it.
  if (portable.packets.length === 0) idFor(undefined);
  portable.packets.forEach((p, i) => {
    const original = input.packets[i];
    blocks.push(packetBlock(idFor(original?.ifIndex), p));
  });
  return Buffer.concat(blocks);
}

/** One vantage point's capture in a merged file. */
export interface VantageSource {
  /** Prefix of its interface names: "probe" → "probe:eth0". */
  vantage: string;
  linkType: number;
  snaplen: number;
  packets: readonly Packet[];
  /** ifindex → name on that host. */
  interfaces?: ReadonlyMap<number, string>;
  /** tcpdump's -i on that host: the name of records without an index, and of an empty capture's interface. */
  captureInterface: string;
  /** Added to every timestamp of this vantage (clock alignment; 0 when none was needed). */
  shiftUs?: number;
  /** The capture's facts, on each of its interface blocks. */
  comments: readonly string[];
}

/** Ethernet records as LINUX_SLL (ARPHRD_ETHER, source MAC, EtherType), so every vantage shares one link type. */
function ethernetToSll(p: Packet): Packet {
  if (p.data.length < 14) return p;
  const head = Buffer.alloc(16);
  head.writeUInt16BE(p.direction === 'out' ? 4 : 0, 0); // outgoing, or "to us"
  head.writeUInt16BE(1, 2); // ARPHRD_ETHER
  head.writeUInt16BE(6, 4);
  p.data.copy(head, 6, 6, 12);
  p.data.copy(head, 14, 12, 14);
  const data = Buffer.concat([head, p.data.subarray(14)]);
  return { ...p, data, linkType: LINKTYPE.LINUX_SLL, originalLength: p.originalLength + 2 };
}

/** A source's records in the one link type a merged file uses when it can (libpcap reads one per file). */
function mergeable(source: VantageSource): { linkType: number; snaplen: number; packets: Packet[] } {
  if (source.linkType === LINKTYPE.ETHERNET)
    return { linkType: LINKTYPE.LINUX_SLL, snaplen: source.snaplen + 2, packets: source.packets.map(ethernetToSll) };
  const portable = portableRecords(source.linkType, source.packets);
  return { ...portable, snaplen: Math.max(0, source.snaplen + portable.snaplenDelta) };
}

/**
 * Every vantage's packets in one file, one interface block per vantage and interface ("probe:eth0", "lb:eth1"),
 * the records interleaved by (aligned) time, so Wireshark shows both sides of the same second.
 */
export function encodeMergedPcapng(sources: readonly VantageSource[], comment: string, comments: string[]): Buffer {
  const blocks: Buffer[] = [sectionHeader(comment, comments)];
  const records: { time: number; block: () => Buffer }[] = [];
  const all = sources.map(mergeable);
  // libpcap reads a file only when every interface has the first one's snapshot length.
  const snaplen = Math.max(0, ...all.map((m) => m.snaplen));
  sources.forEach((source, s) => {
    const m = all[s] ?? mergeable(source);
    const ids = new Map<number | undefined, number>();
    const idFor = (ifIndex: number | undefined): number => {
      const known = ids.get(ifIndex);
      if (known !== undefined) return known;
      const id = blocks.length - 1; // interface ids count the blocks written so far (after the section header)
      ids.set(ifIndex, id);
      const local =
        ifIndex === undefined ? source.captureInterface : (source.interfaces?.get(ifIndex) ?? `if${ifIndex}`);
      const description = `${source.vantage} side${ifIndex === undefined ? '' : `, ifindex ${ifIndex}`}`;
      blocks.push(interfaceBlock(m.linkType, snaplen, `${source.vantage}:${local}`, description, source.comments));
      return id;
    };
    // Interface blocks first (each vantage's, even an empty one's), then the records in time order.
    if (m.packets.length === 0) idFor(undefined);
    m.packets.forEach((p, i) => {
      const id = idFor(source.packets[i]?.ifIndex);
      const shift = source.shiftUs ?? 0;
      records.push({ time: p.timeUs + shift, block: () => packetBlock(id, p, shift) });
    });
  });
  // Stable: at the same microsecond the earlier vantage (the probe's) comes first.
  records.sort((a, b) => a.time - b.time);
  for (const r of records) blocks.push(r.block());
  return Buffer.concat(blocks);
}
