// Step 1's question about this machine itself: did the probe's SYN ever leave it? A firewall rule on the host
// running lbcheck (its OUTPUT chain: DROP, or REJECT answering in the VIP's name), a missing route or a kernel
// policy stops the SYN before any interface, and the client sees a timeout, a refusal or an unreachable error as
// if the network or something in the LB's place had answered. Calling that "dropped before the LB" or an
// "impostor" sends the network team after a rule on lbcheck's own host. This machine's capture (on every
// interface, after the host's own firewall) settles it: complete, and without the probe's SYN leaving, the SYN
// never left. Without it, only errnos that no packet from the network can cause say so.
import type { Packet } from '../../capture/packet.js';
import type { CaptureView, ConnectObservation } from '../observation.js';
import type { ReachStep } from '../../model/report.js';

export type BlockedHere = NonNullable<ReachStep['blockedHere']>;

/** connect() errors only this host's own kernel gives: a firewall's or security policy's refusal, a prohibit route. */
const LOCAL_ONLY_ERRNOS = new Set(['EPERM', 'EACCES']);

/** One of the probe's SYNs, leaving this machine (in its capture). */
export function isProbeSynLeaving(p: Packet, vip: string, port: number, sourcePort: number): boolean {
  return (
    p.direction !== 'in' &&
    p.ip?.dst === vip &&
    p.tcp?.dstPort === port &&
    p.tcp.srcPort === sourcePort &&
    p.tcp.flags.syn &&
    !p.tcp.flags.ack
  );
}

/**
 * Whether the probe's SYN never left this machine, and what proves it. Asked only when the LB's capture does not
 * hold the SYN (or there is none). `completeLocal`: this machine's capture when it lost nothing, else null.
 */
export function blockedHere(
  vip: string,
  port: number,
  connect: ConnectObservation,
  completeLocal: CaptureView | null,
): BlockedHere | undefined {
  if (connect.outcome === 'connected') return undefined;
  const errno = connect.errno ? { errno: connect.errno } : {};
  if (completeLocal) {
    const left = completeLocal.packets.some((p) => isProbeSynLeaving(p, vip, port, connect.localPort));
    return left ? undefined : { proof: 'capture', ...errno };
  }
  return connect.errno && LOCAL_ONLY_ERRNOS.has(connect.errno) ? { proof: 'errno', ...errno } : undefined;
}

/** What on this host stops a SYN that way, from how the connect failed. */
function likelyCause(blocked: BlockedHere, vip: string): string {
  switch (blocked.errno) {
    case undefined:
      return (
        'Something on this host dropped it before any interface: a firewall rule in its OUTPUT or POSTROUTING ' +
        'chain (`iptables -S OUTPUT`, `nft list ruleset`), or a traffic-control drop (`tc`).'
      );
    case 'ECONNREFUSED':
      return (
        'The refusal came from this host itself: a firewall REJECT rule in its OUTPUT chain ' +
        '(`iptables -S OUTPUT`).'
      );
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return (
        `This host has no usable route to ${vip} (\`ip route get ${vip}\`), or its next hop on the link did not ` +
        'answer ARP/neighbour discovery (`ip neigh`).'
      );
    case 'EPERM':
    case 'EACCES':
      return (
        'The kernel refused to send it: a firewall rule in its OUTPUT chain (`iptables -S OUTPUT`, ' +
        '`nft list ruleset`), a `prohibit` route or a security policy on this host.'
      );
    default:
      return `connect() failed with ${blocked.errno} before a packet left.`;
  }
}

/** Step 1's words when the SYN never left this machine. */
export function blockedHereText(target: string, vip: string, blocked: BlockedHere, happened: string): string {
  const proof =
    blocked.proof === 'capture'
      ? "its own capture (complete: nothing lost) shows no SYN leaving for the probe's source port"
      : `connect() failed with ${blocked.errno ?? 'an error'}, which only this host's own kernel returns`;
  return (
    `This machine never sent the SYN to ${target}: ${proof}, and ${happened}. ${likelyCause(blocked, vip)} ` +
    'The LB was never asked, so this says nothing about the LB or the path to it: fix this host, or run the ' +
    'check from another vantage point.'
  );
}
