// Reads the LB capture for one probe: the client's connection to the VIP
// (matched by the probe's source port) and any server-side connection the LB
// made for it. L4 vs L7 is decided here, from packets:
//  - L4 forwarders pass the client's own SYN on (same initial sequence number)
//    before any SYN-ACK reaches the client;
//  - L7 proxies answer the client's SYN themselves and open their own
//    connection (new ISN) to a server, before or after the request arrives.
import { hostPort } from '../../model/endpoint-text.js';
import type { Packet } from '../../capture/packet.js';
import { compareForwarded, isTlsRecord, streamBytes, type ForwardedRequest } from './forwarded-request.js';

export interface ProbeIdentity {
  vip: string;
  port: number;
  sourcePort: number;
  /** Unique text the probe puts in its request, to find the proxied copy. */
  marker: string;
  /**
   * The plaintext request the probe wrote: what a TLS-terminating proxy had to pass on when the capture shows
   * only ciphertext from the client.
   */
  sent?: string;
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
  /**
   * How the flow is tied to the probe: the client's own SYN passed on (isn),
   * the probe's marker in the proxied request (marker), or, for a connection
   * that failed before any request could carry the marker, its timing (opened
   * while the LB held this probe's request, before it answered).
   */
  tiedBy: 'isn' | 'marker' | 'timing';
  /** Status of the server's HTTP answer on this connection, when the capture holds it. */
  responseStatus?: number;
  /** Payload bytes the server sent back on this connection. */
  responseBytes: number;
  /** The largest payload of one packet from the server that the capture saw (what got through to the LB). */
  largestSegment: number;
  /** The server's first answer packet carrying data (for timing and evidence). */
  response?: Packet;
  /** The proxied request as it left the LB. */
  request?: Packet;
  /** For the flow carrying the probe's request: passed on as it came, or rewritten (only an HTTP proxy can). */
  forwarded?: ForwardedRequest;
}

/** Full-size segments from the VIP that were sent again and again and never acknowledged. */
export interface StalledSegments {
  /** Distinct unacknowledged full-size segments. */
  segments: number;
  /** Times they were sent in all (first sends plus retransmissions). */
  sends: number;
  largest: number;
  spanMs: number;
  first: Packet;
}

export interface FlowAnalysis {
  clientSyn?: Packet;
  /** The client's address as the LB sees it (after any NAT on the way). */
  clientAddress?: string;
  /** First packet from the VIP back to the client: SYN-ACK or RST. */
  vipAnswer?: Packet;
  /**
   * The client's SYN leaving the LB as it came (still addressed to the VIP, same sequence number): passed on
   * without NAT, as direct server return forwards it (the servers hold the VIP and answer the client directly).
   */
  passedOn?: Packet;
  /** First packet of the client's request data as it reached the LB. */
  clientRequest?: Packet;
  /** The client's first bytes were a TLS record (the request itself is encrypted on the wire). */
  clientTls?: boolean;
  serverSide: ServerSideFlow[];
  stalled?: StalledSegments;
  /** The packets that decided, in capture order. */
  deciding: Packet[];
}

/** Payloads at least this large are "full-size": what an MTU black hole swallows. */
export const FULL_SIZE_PAYLOAD = 1000;

const isSyn = (p: Packet): boolean => !!p.tcp?.flags.syn && !p.tcp.flags.ack;

function inClientFlow(p: Packet, id: Pick<ProbeIdentity, 'vip' | 'port' | 'sourcePort'>, client: string): boolean {
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

/** The probe's own connection as the LB saw it, both directions. */
export function clientFlowPackets(
  packets: readonly Packet[],
  id: Pick<ProbeIdentity, 'vip' | 'port' | 'sourcePort'>,
): Packet[] {
  const client = findClientSyn(packets, id)?.ip?.src;
  if (client === undefined) return [];
  return packets.filter((p) => inClientFlow(p, id, client));
}

const HTTP_STATUS = /^HTTP\/\d(?:\.\d)? (\d{3})/;

function serverFlow(
  packets: readonly Packet[],
  syn: Packet,
  clientSyn: Packet,
  marked: Set<string>,
  clientSent?: Buffer,
): ServerSideFlow {
  const sip = syn.ip;
  const stcp = syn.tcp;
  if (!sip || !stcp) throw new Error('server-side SYN without IP/TCP');
  const replies = packets.filter(
    (p) =>
      p.ip?.src === sip.dst &&
      p.ip.dst === sip.src &&
      p.tcp?.srcPort === stcp.dstPort &&
      p.tcp.dstPort === stcp.srcPort,
  );
  const sent = packets.filter(
    (p) =>
      p.ip?.src === sip.src &&
      p.ip.dst === sip.dst &&
      p.tcp?.srcPort === stcp.srcPort &&
      p.tcp.dstPort === stcp.dstPort &&
      p.tcp.payloadLength > 0,
  );
  const request = sent[0];
  const response = replies.find((p) => (p.tcp?.payloadLength ?? 0) > 0);
  const status = response ? HTTP_STATUS.exec(response.tcp?.payload.toString('latin1') ?? '') : null;
  const flow: ServerSideFlow = {
    address: sip.dst,
    port: stcp.dstPort,
    src: sip.src,
    syn,
    sameIsn: stcp.seq === clientSyn.tcp?.seq,
    answered: replies.some((p) => p.tcp?.flags.syn && p.tcp.flags.ack),
    refused: replies.some((p) => p.tcp?.flags.rst),
    carriesMarker: marked.has(flowKey(syn)),
    tiedBy: stcp.seq === clientSyn.tcp?.seq ? 'isn' : marked.has(flowKey(syn)) ? 'marker' : 'timing',
    responseBytes: replies.reduce((n, p) => n + (p.tcp?.payloadLength ?? 0), 0),
    largestSegment: replies.reduce((n, p) => Math.max(n, p.tcp?.payloadLength ?? 0), 0),
  };
  if (status) flow.responseStatus = Number(status[1]);
  if (response) flow.response = response;
  if (request) flow.request = request;
  if (flow.carriesMarker)
    flow.forwarded = clientSent ? compareForwarded(clientSent, streamBytes(sent)) : { kind: 'unknown' };
  return flow;
}

function flowKey(p: Packet): string {
  return `${p.ip?.src}:${p.tcp?.srcPort}>${p.ip?.dst}:${p.tcp?.dstPort}`;
}

/**
 * Full-size segments from the VIP to the client that were retransmitted and
 * never acknowledged, while the client did acknowledge what came before: the
 * packet trace of an MTU black hole (a smaller-MTU hop whose ICMP
 * "fragmentation needed" never reaches the sender).
 */
export function findStalledSegments(clientFlow: readonly Packet[], vip: string): StalledSegments | undefined {
  let highestAck = -1;
  for (const p of clientFlow) if (p.ip?.dst === vip && p.tcp?.flags.ack) highestAck = Math.max(highestAck, p.tcp.ack);
  const sends = new Map<number, Packet[]>();
  for (const p of clientFlow) {
    const t = p.tcp;
    if (p.ip?.src !== vip || !t || t.payloadLength < FULL_SIZE_PAYLOAD) continue;
    // Acknowledged (in 32-bit sequence space) means it got through.
    const end = (t.seq + t.payloadLength) >>> 0;
    if (highestAck >= 0 && ((highestAck - end) | 0) >= 0) continue;
    sends.set(t.seq, [...(sends.get(t.seq) ?? []), p]);
  }
  const all = [...sends.values()];
  if (all.length === 0) return undefined;
  // Lost, not merely in flight: sent again, or the client went on acknowledging
  // only what came before it (duplicate ACKs) after it was sent.
  const firstSend = Math.min(...all.map((s) => s[0]?.index ?? Infinity));
  const dupAcks = clientFlow.some((p) => p.ip?.dst === vip && p.tcp?.flags.ack && p.index > firstSend);
  if (!all.some((s) => s.length >= 2) && !dupAcks) return undefined;
  const flat = all.flat().sort((a, b) => a.index - b.index);
  const first = flat[0];
  const last = flat[flat.length - 1];
  if (!first || !last) return undefined;
  return {
    segments: all.length,
    sends: flat.length,
    largest: Math.max(...flat.map((p) => p.tcp?.payloadLength ?? 0)),
    spanMs: Math.round((last.timeUs - first.timeUs) / 1000),
    first,
  };
}

/**
 * Connections the LB opened while it held this probe's request (after the
 * request arrived, before it answered the client) and that failed: refused, or
 * never answered. A failed connection carries no request, hence no marker, so
 * timing is all that ties it to the probe; successful ones need no such help.
 */
function failedDuringRequest(
  packets: readonly Packet[],
  clientFlow: readonly Packet[],
  request: Packet,
  clientSyn: Packet,
  id: ProbeIdentity,
  client: string,
  marked: Set<string>,
): ServerSideFlow[] {
  const answer = clientFlow.find((p) => p.ip?.src === id.vip && (p.tcp?.payloadLength ?? 0) > 0);
  const until = answer?.timeUs ?? Infinity;
  const out: ServerSideFlow[] = [];
  const seen = new Set<string>();
  for (const syn of packets) {
    if (!syn.ip || !syn.tcp || !isSyn(syn) || syn.timeUs < request.timeUs || syn.timeUs > until) continue;
    if (syn.ip.src === client || syn.ip.dst === id.vip || seen.has(flowKey(syn))) continue;
    seen.add(flowKey(syn));
    const flow = serverFlow(packets, syn, clientSyn, marked);
    if (flow.refused || !flow.answered) out.push(flow);
  }
  return out;
}

/** The probe's own connection as the LB saw it, and what the client sent on it. */
interface ClientSide {
  /** The client's address as the LB sees it. */
  client: string;
  flow: Packet[];
  vipAnswer: Packet | undefined;
  request: Packet | undefined;
  tls: boolean;
  /** What the proxy received in the clear: the wire bytes, or for TLS the plaintext the probe wrote. */
  sent: Buffer | undefined;
}

function clientSide(packets: readonly Packet[], id: ProbeIdentity, client: string): ClientSide {
  const flow = packets.filter((p) => inClientFlow(p, id, client));
  const data = flow.filter((p) => p.ip?.src === client && (p.tcp?.payloadLength ?? 0) > 0);
  const bytes = streamBytes(data);
  const tls = isTlsRecord(bytes);
  return {
    client,
    flow,
    vipAnswer: flow.find((p) => p.ip?.src === id.vip && (p.tcp?.flags.syn || p.tcp?.flags.rst)),
    request: data[0],
    tls,
    sent: tls ? (id.sent !== undefined ? Buffer.from(id.sent, 'latin1') : undefined) : bytes,
  };
}

/** Flows other than the client's that carry the probe's marker (the proxied request). */
function markedFlows(packets: readonly Packet[], id: ProbeIdentity, client: string): Set<string> {
  const marked = new Set<string>();
  for (const p of packets) {
    if (!p.ip || !p.tcp || inClientFlow(p, id, client)) continue;
    if (p.tcp.payload.includes(id.marker)) marked.add(flowKey(p));
  }
  return marked;
}

/** Connections the LB opened for the probe: its SYN passed on (same ISN), or a flow carrying the marker. */
function tiedServerFlows(
  packets: readonly Packet[],
  id: ProbeIdentity,
  clientSyn: Packet,
  c: ClientSide,
  marked: Set<string>,
): ServerSideFlow[] {
  const flows: ServerSideFlow[] = [];
  const seen = new Set<string>();
  for (const syn of packets) {
    if (!syn.ip || !syn.tcp || !isSyn(syn) || syn.timeUs < clientSyn.timeUs || inClientFlow(syn, id, c.client))
      continue;
    // The client SYN itself, seen again on another interface before DNAT, is not a server-side flow.
    if (syn.ip.dst === id.vip && syn.tcp.dstPort === id.port) continue;
    const key = flowKey(syn);
    if (seen.has(key) || (syn.tcp.seq !== clientSyn.tcp?.seq && !marked.has(key))) continue;
    seen.add(key);
    flows.push(serverFlow(packets, syn, clientSyn, marked, c.sent));
  }
  return flows;
}

export function analyzeFlows(packets: readonly Packet[], id: ProbeIdentity): FlowAnalysis {
  const clientSyn = findClientSyn(packets, id);
  if (!clientSyn?.ip || !clientSyn.tcp) return { serverSide: [], deciding: [] };
  const c = clientSide(packets, id, clientSyn.ip.src);
  const marked = markedFlows(packets, id, c.client);
  const serverSide = tiedServerFlows(packets, id, clientSyn, c, marked);
  if (!serverSide.some((s) => s.carriesMarker || s.sameIsn) && c.request) {
    serverSide.push(...failedDuringRequest(packets, c.flow, c.request, clientSyn, id, c.client, marked));
  }
  const stalled = findStalledSegments(c.flow, id.vip);
  const passedOn = c.flow.find((p) => p.direction === 'out' && isSyn(p) && p.tcp?.seq === clientSyn.tcp?.seq);
  const deciding = [
    clientSyn,
    passedOn,
    c.vipAnswer,
    c.request,
    stalled?.first,
    ...serverSide.flatMap((s) => [s.syn, s.request, s.response]),
  ]
    .filter((p): p is Packet => p !== undefined)
    .sort((a, b) => a.index - b.index);
  const result: FlowAnalysis = { clientSyn, clientAddress: c.client, serverSide, deciding };
  if (c.vipAnswer) result.vipAnswer = c.vipAnswer;
  if (passedOn) result.passedOn = passedOn;
  if (c.request) result.clientRequest = c.request;
  if (c.request) result.clientTls = c.tls;
  if (stalled) result.stalled = stalled;
  return result;
}

export type ModeDecision =
  | { mode: 'L4'; reason: string }
  | { mode: 'L7'; proxyKind: 'tcp' | 'http' | null; reason: string }
  | { mode: 'unknown'; reason: string };

const ANSWERED = "the LB answered the client's SYN itself and";

/**
 * Which kind of proxy, from the flow that carried the probe's request. Connecting before the request arrived
 * proves a TCP proxy; rewriting the request proves an HTTP proxy. Connecting after it and passing it on unchanged
 * proves neither (an HTTP proxy that forwards requests as they are, or a TCP proxy slower to connect than the
 * client was to send), and the report says so rather than guess.
 */
function proxyKindOf(a: FlowAnalysis, proxied: ServerSideFlow): Extract<ModeDecision, { mode: 'L7' }> {
  const server = hostPort(proxied.address, proxied.port);
  if (a.clientRequest !== undefined && proxied.syn.index < a.clientRequest.index) {
    return {
      mode: 'L7',
      proxyKind: 'tcp',
      reason: `${ANSWERED} opened its own connection to ${server} before the request arrived (a TCP proxy)`,
    };
  }
  const forwarded = proxied.forwarded;
  if (forwarded?.kind === 'rewritten') {
    return {
      mode: 'L7',
      proxyKind: 'http',
      reason:
        `${ANSWERED} connected to ${server} only after reading the request, which it passed on rewritten ` +
        `(${forwarded.changes.join('; ')}): an HTTP proxy`,
    };
  }
  const arrived = a.clientTls ? "the client's TLS handshake began" : 'the request arrived';
  const held =
    a.clientRequest && a.vipAnswer
      ? `, ${Math.round((a.clientRequest.timeUs - a.vipAnswer.timeUs) / 1000)} ms after its SYN-ACK`
      : '';
  const passed =
    forwarded?.kind === 'verbatim'
      ? 'and passed the request on unchanged'
      : 'and the capture does not show whether it changed the request';
  return {
    mode: 'L7',
    proxyKind: null,
    reason:
      `${ANSWERED} connected to ${server} only after ${arrived}${held}, ${passed}: an HTTP proxy, or a TCP ` +
      'proxy slower to connect than that (the capture cannot tell which)',
  };
}

export function decideMode(a: FlowAnalysis): ModeDecision {
  if (!a.clientSyn) return { mode: 'unknown', reason: 'the probe SYN is not in the capture' };
  const forwarded = a.serverSide.find((s) => s.sameIsn);
  const answerBeforeForward = a.vipAnswer && (!forwarded || a.vipAnswer.index < forwarded.syn.index);
  if (forwarded && !answerBeforeForward) {
    return {
      mode: 'L4',
      reason:
        `the LB passed the client's SYN on to ${hostPort(forwarded.address, forwarded.port)} ` +
        'with the same sequence number before answering the client',
    };
  }
  if (a.passedOn && !a.vipAnswer) {
    return {
      mode: 'L4',
      reason:
        "the LB passed the client's SYN on unchanged (still addressed to the VIP, no NAT) and did not answer it: " +
        'a packet forwarder whose servers hold the VIP and answer clients directly (direct server return)',
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
    return proxyKindOf(a, proxied);
  }
  return {
    mode: 'unknown',
    reason: a.vipAnswer?.tcp?.flags.rst
      ? 'the LB reset the connection without trying a server'
      : 'no answer and no server-side connection in the capture',
  };
}
