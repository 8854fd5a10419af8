// Step 3's second look at a member the LB's own connection timed out on: a capture on the LB of that connection's
// SYNs and the member's SYN-ACKs. A SYN-ACK that answers one of the LB's SYNs (its ack is the SYN's sequence + 1)
// and is followed by the same SYN sent again reached the LB and was ignored: the LB's kernel dropped it before
// its TCP stack saw it (host firewall, conntrack, rp_filter). A SYN-ACK without such a retransmission after it
// proves nothing (the handshake may have completed: its ACK is not captured), nor does one answering another
// connection (a health check from another address).
import type { Packet } from '../../capture/packet.js';

const SEQ_SPACE = 2 ** 32;

function isSynFrom(p: Packet, host: string, port: number, out: boolean): boolean {
  const t = p.tcp;
  if (!t || !p.ip || !t.flags.syn) return false;
  return out
    ? p.direction === 'out' && !t.flags.ack && p.ip.dst === host && t.dstPort === port
    : p.direction === 'in' && t.flags.ack && p.ip.src === host && t.srcPort === port;
}

/** SYN-ACKs from host:port that answered a SYN of the LB's which it then sent again (the answer was dropped). */
export function ignoredSynAcks(packets: readonly Packet[], host: string, port: number): number {
  const syns = packets.filter((p) => isSynFrom(p, host, port, true));
  return packets.filter((answer) => {
    if (!isSynFrom(answer, host, port, false)) return false;
    const a = answer.tcp;
    const answered = syns.find(
      (s) =>
        s.tcp?.srcPort === a?.dstPort && ((s.tcp?.seq ?? 0) + 1) % SEQ_SPACE === a?.ack && s.timeUs <= answer.timeUs,
    );
    return syns.some(
      (s) => s.tcp?.srcPort === a?.dstPort && s.tcp?.seq === answered?.tcp?.seq && s.timeUs > answer.timeUs,
    );
  }).length;
}
