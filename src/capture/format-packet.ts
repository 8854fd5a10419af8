// A readable, tcpdump-like line per packet: what goes into the "decode"
// evidence a tired human (or another team) reads first.
import { flagText, type Packet } from './packet.js';

function time(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return `${d.toISOString().slice(11, 19)}.${String(us % 1_000_000).padStart(6, '0')}`;
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function formatPacket(p: Packet, ifNames?: ReadonlyMap<number, string>): string {
  const ifName = p.ifIndex === undefined ? '' : ` ${ifNames?.get(p.ifIndex) ?? `if${p.ifIndex}`}`;
  const head = `${time(p.timeUs)}${ifName} ${p.direction === 'unknown' ? '' : `${p.direction} `}`.replace(/ +$/, ' ');
  if (p.ip === undefined) return `${head}${p.note ?? 'non-IP'} (${p.capturedLength} bytes)`;
  const { ip } = p;
  const family = `${head}IP${ip.version === 6 ? '6' : ''}`;
  if (p.tcp) {
    const t = p.tcp;
    const ack = t.flags.ack ? ` ack ${t.ack}` : '';
    const flow = `${endpoint(ip.src, t.srcPort)} > ${endpoint(ip.dst, t.dstPort)}`;
    return `${family} ${flow}: TCP [${flagText(t.flags)}] seq ${t.seq}${ack} win ${t.window} len ${t.payloadLength}`;
  }
  const hosts = `${family} ${ip.src} > ${ip.dst}`;
  if (p.icmp) {
    const u = p.icmp.unreachable;
    if (u) {
      const port = u.original.dstPort === undefined ? '' : `:${u.original.dstPort}`;
      return `${hosts}: ICMP ${u.reason} for ${u.original.src} > ${u.original.dst}${port}`;
    }
    return `${hosts}: ICMP type ${p.icmp.type} code ${p.icmp.code}`;
  }
  return `${hosts}: protocol ${ip.protocol}${p.note ? ` (${p.note})` : ''}`;
}
