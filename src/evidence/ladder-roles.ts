// Who is who in a step's packets: which end of each packet is the client, the
// LB (its VIP or its server-side address), a server, or a hop on the way. The
// engine may say (sides); otherwise the probe's SYN tells: its destination is
// the VIP, its source the client, and every other TCP flow is the LB's
// server side, the server being the end that received that flow's SYN.
import type { Packet } from '../capture/packet.js';
import type { LadderSides, Side } from './ladder-types.js';

export interface PacketEnds {
  from: string;
  to: string;
  side: Side;
}

const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const isSyn = (p: Packet): boolean => !!p.tcp?.flags.syn && !p.tcp.flags.ack;

export function deriveSides(packets: readonly Packet[], given?: LadderSides): LadderSides | undefined {
  if (given) return given;
  // A SYN the LB sent ("out") is its own server-side connection, never the probe's.
  const syns = packets.filter((p) => isSyn(p) && p.ip && p.tcp);
  const syn = syns.find((p) => p.direction !== 'out') ?? syns[0];
  if (!syn?.ip || !syn.tcp) return undefined;
  return { vip: syn.ip.dst, port: syn.tcp.dstPort, clientAddress: syn.ip.src };
}

function flowKey(p: Packet): string {
  if (!p.ip || !p.tcp) return '';
  const a = endpoint(p.ip.src, p.tcp.srcPort);
  const b = endpoint(p.ip.dst, p.tcp.dstPort);
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** For each server-side TCP flow, the endpoint that is the server. */
function serverEnds(packets: readonly Packet[], sides: LadderSides): Map<string, string> {
  const members = new Set(sides.members ?? []);
  const out = new Map<string, string>();
  const decide = (p: Packet): string | undefined => {
    if (!p.ip || !p.tcp) return undefined;
    const src = endpoint(p.ip.src, p.tcp.srcPort);
    const dst = endpoint(p.ip.dst, p.tcp.dstPort);
    if (isSyn(p)) return dst;
    if (p.tcp.flags.syn && p.tcp.flags.ack) return src;
    if (members.has(dst) || members.has(p.ip.dst)) return dst;
    if (members.has(src) || members.has(p.ip.src)) return src;
    return undefined;
  };
  for (const p of packets) {
    const key = flowKey(p);
    if (key === '' || out.has(key)) continue;
    const end = decide(p);
    if (end) out.set(key, end);
  }
  // Flows seen only mid-stream: the end with the lower port is the service.
  for (const p of packets) {
    const key = flowKey(p);
    if (key === '' || out.has(key) || !p.ip || !p.tcp) continue;
    out.set(key, p.tcp.srcPort < p.tcp.dstPort ? endpoint(p.ip.src, p.tcp.srcPort) : endpoint(p.ip.dst, p.tcp.dstPort));
  }
  return out;
}

export class RoleMap {
  private readonly servers: Map<string, string>;

  constructor(
    packets: readonly Packet[],
    readonly sides: LadderSides | undefined,
  ) {
    this.servers = sides ? serverEnds(packets, sides) : new Map<string, string>();
  }

  private isVip(ip: string, port?: number): boolean {
    return ip === this.sides?.vip && (port === undefined || port === this.sides.port);
  }

  /** Column ids: "client", "lb", "hop:<ip>", "server:<ip:port>". */
  ends(p: Packet): PacketEnds | undefined {
    if (!p.ip) return undefined;
    const { src, dst } = p.ip;
    if (p.tcp) {
      const { srcPort, dstPort } = p.tcp;
      if (!this.sides) return { from: `host:${src}`, to: `host:${dst}`, side: 'client side' };
      if (this.isVip(dst, dstPort)) return { from: 'client', to: 'lb', side: 'client side' };
      if (this.isVip(src, srcPort)) return { from: 'lb', to: 'client', side: 'client side' };
      const server = this.servers.get(flowKey(p));
      const fromServer = server === endpoint(src, srcPort);
      const serverId = `server:${server ?? endpoint(dst, dstPort)}`;
      return fromServer
        ? { from: serverId, to: 'lb', side: 'server side' }
        : { from: 'lb', to: serverId, side: 'server side' };
    }
    // ICMP and other protocols: the client, the VIP, or a hop in between.
    const col = (ip: string): string =>
      ip === this.sides?.clientAddress ? 'client' : this.isVip(ip) ? 'lb' : `hop:${ip}`;
    return { from: col(src), to: col(dst), side: 'client side' };
  }

  /** The LB's own address on the server side (source of its server-side packets), if seen. */
  lbServerSideAddress(packets: readonly Packet[]): string | undefined {
    for (const p of packets) {
      const e = this.ends(p);
      if (e?.side === 'server side' && e.from === 'lb' && p.ip) return p.ip.src;
    }
    return undefined;
  }
}
