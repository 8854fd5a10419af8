// Link-layer framing: find where the IP packet starts and which way it went.
import { LINKTYPE, type Direction } from './packet.js';

export interface LinkInfo {
  /** Offset of the network-layer header in the record, or -1 if not IP. */
  offset: number;
  etherType: number;
  direction: Direction;
  ifIndex?: number;
  note?: string;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

// Linux "packet type" as SLL and SLL2 record it.
const SLL_DIRECTION: Direction[] = ['in', 'broadcast', 'multicast', 'other-host', 'out'];

function sllDirection(packetType: number): Direction {
  return SLL_DIRECTION[packetType] ?? 'unknown';
}

function ethernet(data: Buffer): LinkInfo {
  let offset = 12;
  if (data.length < offset + 2)
    return { offset: -1, etherType: 0, direction: 'unknown', note: 'truncated Ethernet header' };
  let etherType = data.readUInt16BE(offset);
  // 802.1Q / 802.1ad: possibly stacked (QinQ).
  while (VLAN_TAGS.has(etherType)) {
    offset += 4;
    if (data.length < offset + 2) return { offset: -1, etherType, direction: 'unknown', note: 'truncated VLAN tag' };
    etherType = data.readUInt16BE(offset);
  }
  return { offset: offset + 2, etherType, direction: 'unknown' };
}

function rawIp(data: Buffer): LinkInfo {
  const version = data.length > 0 ? (data[0] ?? 0) >> 4 : 0;
  const etherType = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
  return { offset: 0, etherType, direction: 'unknown' };
}

export function decodeLinkLayer(linkType: number, data: Buffer): LinkInfo {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return ethernet(data);
    case LINKTYPE.RAW:
    case 12: // DLT_RAW on some platforms
    case 14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return rawIp(data);
    case LINKTYPE.LINUX_SLL:
      if (data.length < 16) return { offset: -1, etherType: 0, direction: 'unknown', note: 'truncated SLL header' };
      return { offset: 16, etherType: data.readUInt16BE(14), direction: sllDirection(data.readUInt16BE(0)) };
    case LINKTYPE.LINUX_SLL2:
      if (data.length < 20) return { offset: -1, etherType: 0, direction: 'unknown', note: 'truncated SLL2 header' };
      return {
        offset: 20,
        etherType: data.readUInt16BE(0),
        ifIndex: data.readUInt32BE(4),
        direction: sllDirection(data.readUInt8(10)),
      };
    default:
      return { offset: -1, etherType: 0, direction: 'unknown', note: `unsupported link type ${linkType}` };
  }
}

export const ETHERTYPE = { IPV4: ETHERTYPE_IPV4, IPV6: ETHERTYPE_IPV6 } as const;
