// Reads a recorded LB capture (test/evidence/fixtures) and keeps what the
// engine hands to stepEvidence: the probe's client flow and the server-side
// flows tied to it (same ISN), without the LB's own health checks.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Packet } from '../../src/capture/packet.js';
import { decodePcap, type PcapHeader } from '../../src/capture/pcap-stream.js';
import { analyzeFlows } from '../../src/checklist/decide/flow-analysis.js';
import { parseIpLink } from '../../src/remote/interface-names.js';

const dir = fileURLToPath(new URL('../../../test/evidence/fixtures/', import.meta.url));

export const fixturePath = (name: string): string => `${dir}${name}`;

export function lbInterfaces(): Map<number, string> {
  return parseIpLink(readFileSync(fixturePath('lb-ip-link.txt'), 'utf8'));
}

export interface ProbeFixture {
  header: PcapHeader;
  packets: Packet[];
  vip: string;
  port: number;
  client: string;
  server?: string;
}

export function probeFixture(name: string): ProbeFixture {
  const { header, packets } = decodePcap(readFileSync(fixturePath(`${name}.pcap`)));
  // The probe's SYN is the one that came in on the client side (eth0, ifindex 2) of the LB.
  const syn = packets.find((p) => p.tcp?.flags.syn && !p.tcp.flags.ack && p.direction === 'in' && p.ifIndex === 2);
  if (!syn?.ip || !syn.tcp) throw new Error(`${name}: no client SYN on eth0`);
  const id = { vip: syn.ip.dst, port: syn.tcp.dstPort, sourcePort: syn.tcp.srcPort, marker: 'no-marker' };
  const flows = analyzeFlows(packets, id);
  const ends = (p: Packet): string[] =>
    p.ip && p.tcp ? [`${p.ip.src}:${p.tcp.srcPort}`, `${p.ip.dst}:${p.tcp.dstPort}`].sort() : [];
  const wanted = new Set<string>([
    [`${syn.ip.src}:${syn.tcp.srcPort}`, `${id.vip}:${id.port}`].sort().join('|'),
    ...flows.serverSide.map((s) => [`${s.src}:${s.syn.tcp?.srcPort}`, `${s.address}:${s.port}`].sort().join('|')),
  ]);
  const server = flows.serverSide[0];
  return {
    header,
    packets: packets.filter((p) => wanted.has(ends(p).join('|'))),
    vip: id.vip,
    port: id.port,
    client: syn.ip.src,
    ...(server ? { server: `${server.address}:${server.port}` } : {}),
  };
}
