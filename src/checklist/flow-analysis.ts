// Reads the LB capture for one probe: the client's connection to the VIP
// (matched by the probe's source port) and any server-side connection the LB
// made for it. L4 vs L7 is decided here, from packets:
//  - L4 forwarders pass the client's own SYN on (same initial sequence number)
//    before any SYN-ACK reaches the client;
//  - L7 proxies answer the client's SYN themselves and open their own
//    connection (new ISN) to a server, before or after the request arrives.
import type { Packet } from '../capture/packet.js';

export interface ProbeIdentity {
  vip: string;
  port: number;
  sourcePort: number;
  /** Unique text the probe puts in its request, to find the proxied copy. */
  marker: string;
}

export interface ServerSideFlow {
  address: string;
  port: number;
  src: string;
  syn: Packet;
  sameIsn: boolean;
  answered: boolean;
  refused: boolean;
  carriesMarker: boolean;
}

export interface FlowAnalysis {
  clientSyn?: Packet;
  /** The client's address as the LB sees it (after any NAT on the way). */
  clientAddress?: string;
  /** First packet from the VIP back to the client: SYN-ACK or RST. */
  vipAnswer?: Packet;
  /** First packet of the client's request data as it reached the LB. */
  clientRequest?: Packet;
  serverSide: ServerSideFlow[];
  /** The packets that decided, in capture order. */
  deciding: Packet[];
}

const isSyn = (p: Packet): boolean => !!p.tcp?.flags.syn && !p.tcp.flags.ack;

function inClientFlow(p: Packet, id: ProbeIdentity, client: string): boolean {
  if (!p.ip || !p.tcp) return false;
  const toVip =
    p.ip.dst === id.vip && p.tcp.dstPort === id.port && p.ip.src === client && p.tcp.srcPort === id.sourcePort;
  const fromVip =
    p.ip.src === id.vip && p.tcp.srcPort === id.port && p.ip.dst === client && p.tcp.dstPort === id.sourcePort;
  return toVip || fromVip;
}

export function findClientSyn(
  packets: readonly Packet[],
  id: Pick<ProbeIdentity, 'vip' | 'port' | 'sourcePort'>,
): Packet | undefined {
  return packets.find(
    (p) => isSyn(p) && p.ip?.dst === id.vip && p.tcp?.dstPort === id.port && p.tcp.srcPort === id.sourcePort,
  );
}

export function analyzeFlows(packets: readonly Packet[], id: ProbeIdentity): FlowAnalysis {
  const clientSyn = findClientSyn(packets, id);
  if (!clientSyn?.ip || !clientSyn.tcp) return { serverSide: [], deciding: [] };
  const client = clientSyn.ip.src;
  const clientFlow = packets.filter((p) => inClientFlow(p, id, client));
  const vipAnswer = clientFlow.find((p) => p.ip?.src === id.vip && (p.tcp?.flags.syn || p.tcp?.flags.rst));
  const clientRequest = clientFlow.find((p) => p.ip?.src === client && (p.tcp?.payloadLength ?? 0) > 0);
  const markerFlows = new Set<string>();
  const key = (src: string, sport: number, dst: string, dport: number): string => `${src}:${sport}>${dst}:${dport}`;
  for (const p of packets) {
    if (!p.ip || !p.tcp || inClientFlow(p, id, client)) continue;
    if (p.tcp.payload.includes(id.marker)) markerFlows.add(key(p.ip.src, p.tcp.srcPort, p.ip.dst, p.tcp.dstPort));
  }

  const serverSide: ServerSideFlow[] = [];
  for (const syn of packets) {
    if (!syn.ip || !syn.tcp || !isSyn(syn) || syn.timeUs < clientSyn.timeUs || inClientFlow(syn, id, client)) continue;
    // The client SYN itself, seen again on another interface before DNAT, is not a server-side flow.
    if (syn.ip.dst === id.vip && syn.tcp.dstPort === id.port) continue;
    const k = key(syn.ip.src, syn.tcp.srcPort, syn.ip.dst, syn.tcp.dstPort);
    const sameIsn = syn.tcp.seq === clientSyn.tcp.seq;
    const carriesMarker = markerFlows.has(k);
    if (!sameIsn && !carriesMarker) continue;
    if (serverSide.some((s) => key(s.src, s.syn.tcp?.srcPort ?? 0, s.address, s.port) === k)) continue;
    const replies = packets.filter(
      (p) =>
        p.ip?.src === syn.ip?.dst &&
        p.ip?.dst === syn.ip?.src &&
        p.tcp?.srcPort === syn.tcp?.dstPort &&
        p.tcp?.dstPort === syn.tcp?.srcPort,
    );
    serverSide.push({
      address: syn.ip.dst,
      port: syn.tcp.dstPort,
      src: syn.ip.src,
      syn,
      sameIsn,
      answered: replies.some((p) => p.tcp?.flags.syn && p.tcp.flags.ack),
      refused: replies.some((p) => p.tcp?.flags.rst),
      carriesMarker,
    });
  }
  const deciding = [clientSyn, vipAnswer, clientRequest, ...serverSide.map((s) => s.syn)]
    .filter((p): p is Packet => p !== undefined)
    .sort((a, b) => a.index - b.index);
  const result: FlowAnalysis = { clientSyn, clientAddress: client, serverSide, deciding };
  if (vipAnswer) result.vipAnswer = vipAnswer;
  if (clientRequest) result.clientRequest = clientRequest;
  return result;
}

export type ModeDecision =
  | { mode: 'L4'; reason: string }
  | { mode: 'L7'; proxyKind: 'tcp' | 'http' | null; reason: string }
  | { mode: 'unknown'; reason: string };

export function decideMode(a: FlowAnalysis): ModeDecision {
  if (!a.clientSyn) return { mode: 'unknown', reason: 'the probe SYN is not in the capture' };
  const forwarded = a.serverSide.find((s) => s.sameIsn);
  const answerBeforeForward = a.vipAnswer && (!forwarded || a.vipAnswer.index < forwarded.syn.index);
  if (forwarded && !answerBeforeForward) {
    return {
      mode: 'L4',
      reason: `the LB passed the client's SYN on to ${forwarded.address}:${forwarded.port} with the same sequence number before answering the client`,
    };
  }
  if (a.vipAnswer?.tcp?.flags.syn) {
    const proxied = a.serverSide.find((s) => s.carriesMarker);
    if (!proxied)
      return {
        mode: 'L7',
        proxyKind: null,
        reason: 'the LB completed the handshake with the client itself, before any server-side SYN',
      };
    const beforeRequest = a.clientRequest !== undefined && proxied.syn.index < a.clientRequest.index;
    return {
      mode: 'L7',
      proxyKind: beforeRequest ? 'tcp' : 'http',
      reason: beforeRequest
        ? `the LB answered the client's SYN itself and opened its own connection to ${proxied.address}:${proxied.port} before the request arrived (a TCP proxy)`
        : `the LB answered the client's SYN itself and connected to ${proxied.address}:${proxied.port} only after reading the request (an HTTP proxy)`,
    };
  }
  return {
    mode: 'unknown',
    reason: a.vipAnswer?.tcp?.flags.rst
      ? 'the LB reset the connection without trying a server'
      : 'no answer and no server-side connection in the capture',
  };
}
