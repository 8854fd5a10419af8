// A TCP proxy opens its server connection as soon as it accepts the client,
// before the client has sent a byte (it has nothing to read a destination
// from); an HTTP proxy must read a request first. When no server-side flow
// carries the probe's request (every member down: the LB's connections are
// refused or unanswered), that early connection is still in the LB's capture,
// and it alone shows the kind. Pure: packets in, the evidence out.
import type { Packet } from '../../capture/packet.js';
import type { FlowAnalysis } from './flow-analysis.js';

/**
 * How soon after accepting the client a connection counts as the proxy's own. A proxy connects within a
 * millisecond of the accept; a health check that happens to fall in this window could be mistaken for it, so the
 * window is kept short (the probe itself waits about as long before it sends its request).
 */
export const EARLY_CONNECT_WINDOW_MS = 10;

export interface EarlyConnect {
  /** The LB's SYN toward the server. */
  syn: Packet;
  address: string;
  port: number;
  /** Milliseconds from the client's handshake ACK (the LB's accept) to that SYN. */
  afterAcceptMs: number;
  fate: 'refused' | 'unanswered' | 'answered';
}

const isSyn = (p: Packet): boolean => !!p.tcp?.flags.syn && !p.tcp.flags.ack;

function fateOf(packets: readonly Packet[], syn: Packet): EarlyConnect['fate'] {
  const back = packets.filter(
    (p) =>
      p.index > syn.index &&
      p.ip?.src === syn.ip?.dst &&
      p.ip?.dst === syn.ip?.src &&
      p.tcp?.srcPort === syn.tcp?.dstPort &&
      p.tcp?.dstPort === syn.tcp?.srcPort,
  );
  if (back.some((p) => p.tcp?.flags.syn && p.tcp.flags.ack)) return 'answered';
  return back.some((p) => p.tcp?.flags.rst) ? 'refused' : 'unanswered';
}

/**
 * The LB's connection to a server opened after it accepted the probe's connection (the client's handshake ACK)
 * and before the client's first byte, within EARLY_CONNECT_WINDOW_MS of the accept. `members` (host:port as the
 * report prints them) narrows it to the pool when the pool is known. Undefined when the LB did not answer the SYN
 * itself, when a server-side flow already carries the request (its timing decides), or when no such SYN exists.
 */
export function connectedBeforeRequest(
  packets: readonly Packet[],
  a: FlowAnalysis,
  members: readonly { address: string; port: number }[],
): EarlyConnect | undefined {
  const syn = a.clientSyn;
  const answer = a.vipAnswer;
  if (!syn?.ip || !syn.tcp || !answer?.tcp?.flags.syn || a.serverSide.some((s) => s.carriesMarker)) return undefined;
  const client = { address: syn.ip.src, port: syn.tcp.srcPort, vip: syn.ip.dst, vipPort: syn.tcp.dstPort };
  const accept = packets.find(
    (p) =>
      p.index > answer.index &&
      p.ip?.src === client.address &&
      p.ip.dst === client.vip &&
      p.tcp?.srcPort === client.port &&
      p.tcp.dstPort === client.vipPort &&
      p.tcp.flags.ack &&
      !p.tcp.flags.syn,
  );
  if (!accept) return undefined;
  const before = a.clientRequest?.index ?? Infinity;
  const inPool = (address: string, port: number): boolean =>
    members.length === 0 || members.some((m) => m.address === address && m.port === port);
  const early = packets.find(
    (p) =>
      isSyn(p) &&
      p.index > answer.index &&
      p.index < before &&
      p.timeUs >= accept.timeUs &&
      p.timeUs - accept.timeUs <= EARLY_CONNECT_WINDOW_MS * 1000 &&
      p.ip !== undefined &&
      p.tcp !== undefined &&
      p.ip.src !== client.address &&
      p.ip.dst !== client.vip &&
      inPool(p.ip.dst, p.tcp.dstPort),
  );
  if (!early?.ip || !early.tcp) return undefined;
  return {
    syn: early,
    address: early.ip.dst,
    port: early.tcp.dstPort,
    afterAcceptMs: Math.round((early.timeUs - accept.timeUs) / 100) / 10,
    fate: fateOf(packets, early),
  };
}
