// A pcapng file of a step's packets with one Interface Description Block per
// LB interface, named as the LB names it (if_name), so Wireshark's
// frame.interface_name and the decode agree. Records are LINUX_SLL (113) when
// the capture was SLL2, which Wireshark 3.x and current tcpdump both read;
// direction goes into each Enhanced Packet Block's flags as well.
import type { Packet } from './packet.js';
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

function sectionHeader(comment: string): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length unknown
  return block(
    BT_SHB,
    Buffer.concat([
      body,
      options([option(OPT_SHB_USERAPPL, Buffer.from('lbcheck')), option(OPT_COMMENT, Buffer.from(comment))]),
    ]),
  );
}

function interfaceBlock(linkType: number, snaplen: number, name: string, description: string): Buffer {
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

function packetBlock(interfaceId: number, p: Packet): Buffer {
  const body = Buffer.alloc(20);
  const ts = BigInt(p.timeUs);
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
}

export function encodePcapng(input: PcapngInput): Buffer {
  const portable = portableRecords(input.linkType, input.packets);
  const snaplen = Math.max(0, input.snaplen + portable.snaplenDelta);
  const ids = new Map<number | undefined, number>();
  const blocks: Buffer[] = [sectionHeader(input.comment ?? 'captured on the load balancer by lbcheck')];
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
  portable.packets.forEach((p, i) => {
    const original = input.packets[i];
    blocks.push(packetBlock(idFor(original?.ifIndex), p));
  });
  return Buffer.concat(blocks);
}
