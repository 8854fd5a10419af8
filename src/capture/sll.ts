// LINUX_SLL2 (link type 276, what `tcpdump -i any` writes since libpcap 1.10)
// is unknown to Wireshark before 3.4 and tshark/tcpdump of older distributions
// ("network type 276 unknown"). LINUX_SLL (113) carries the same direction and
// protocol and has been readable for twenty years; only the interface index is
// lost, and the pcapng file keeps that (one interface block per index).
import { LINKTYPE, type Packet } from './packet.js';

const SLL2_HEADER = 20;
const SLL_HEADER = 16;

/**
 * One SLL2 record as SLL: packet type, ARPHRD type, address length, address
 * (8 bytes), protocol, then the same payload. Other records come back as they are.
 */
export function sll2RecordToSll(data: Buffer): Buffer {
  if (data.length < SLL2_HEADER) return data;
  const head = Buffer.alloc(SLL_HEADER);
  head.writeUInt16BE(data.readUInt8(10), 0); // packet type
  head.writeUInt16BE(data.readUInt16BE(8), 2); // ARPHRD type
  head.writeUInt16BE(Math.min(data.readUInt8(11), 8), 4); // address length
  data.copy(head, 6, 12, 20); // link-layer address
  head.writeUInt16BE(data.readUInt16BE(0), 14); // protocol
  return Buffer.concat([head, data.subarray(SLL2_HEADER)]);
}

/** The link type and records to write for tools that cannot read SLL2; others unchanged. */
export function portableRecords(
  linkType: number,
  packets: readonly Packet[],
): { linkType: number; packets: Packet[]; snaplenDelta: number } {
  if (linkType !== LINKTYPE.LINUX_SLL2) return { linkType, packets: [...packets], snaplenDelta: 0 };
  const delta = SLL2_HEADER - SLL_HEADER;
  return {
    linkType: LINKTYPE.LINUX_SLL,
    snaplenDelta: -delta,
    packets: packets.map((p) => {
      const data = sll2RecordToSll(p.data);
      return {
        ...p,
        data,
        linkType: LINKTYPE.LINUX_SLL,
        originalLength: p.originalLength - (p.data.length - data.length),
      };
    }),
  };
}
