// Each step's captures as evidence, one per vantage point: the LB's and the
// probing host's, kept also when empty (an empty LB capture is the proof that
// the SYN never arrived), each with the facts that make it proof, and how the
// two clocks were put side by side in the merged pcapng.
import { factLines, type CaptureFacts } from '../capture/capture-facts.js';
import { LINKTYPE, type Packet } from '../capture/packet.js';
import { DEFAULT_CAPTURE_LIMITS } from '../capture/remote-capture.js';
import { findClientSyn } from '../checklist/decide/flow-analysis.js';
import type { CaptureView, CheckObservation } from '../checklist/observation.js';
import type { VantageCapture } from './step-evidence.js';

/** The probing host's tcpdump snaplen (local-capture.ts). */
const PROBE_SNAPLEN = 200;

const asMap = (names: Record<string, string> | undefined): Map<number, string> | undefined =>
  names && Object.keys(names).length > 0 ? new Map(Object.entries(names).map(([i, n]) => [Number(i), n])) : undefined;

/** An empty capture has no pcap header here: `-i any` writes SLL2, a named interface (usually) Ethernet. */
function linkTypeOf(packets: readonly Packet[], iface: string): number {
  return packets[0]?.linkType ?? (iface === 'any' ? LINKTYPE.LINUX_SLL2 : LINKTYPE.ETHERNET);
}

function factsText(who: string, facts: CaptureFacts | undefined, view: CaptureView, kept: number): string[] {
  if (!facts)
    return [
      `${who}: ${kept} packet${kept === 1 ? '' : 's'} of this probe; its filter, window and counts were not recorded ` +
        'with this check',
    ];
  const ended = view.endedBy ? [`ended by ${view.endedBy}`] : [];
  return [`${who}:`, ...[...factLines(facts, kept, view.packets.length), ...ended].map((l) => `  ${l}`)];
}

export function lbVantage(obs: CheckObservation, view: CaptureView, packets: readonly Packet[]): VantageCapture {
  const iface = view.facts?.iface ?? 'any';
  const interfaces = asMap(obs.lbInterfaces);
  return {
    label: 'lb',
    linkType: linkTypeOf(packets, iface),
    snaplen: DEFAULT_CAPTURE_LIMITS.snaplen,
    packets,
    captureInterface: iface,
    ...(interfaces ? { interfaces } : {}),
    facts: factsText(`LB capture on ${obs.target.lb ?? 'the LB'}`, view.facts, view, packets.length),
  };
}

export function probeVantage(obs: CheckObservation, view: CaptureView): VantageCapture {
  const interfaces = asMap(obs.probeInterfaces);
  return {
    label: 'probe',
    linkType: linkTypeOf(view.packets, 'any'),
    snaplen: PROBE_SNAPLEN,
    packets: view.packets,
    captureInterface: view.facts?.iface ?? 'any',
    ...(interfaces ? { interfaces } : {}),
    facts: factsText(`probe capture on ${obs.reach.probeFrom}`, view.facts, view, view.packets.length),
  };
}

const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

/** Every SYN the probe sent on its connection (retransmissions carry the same sequence number). */
function probeSyns(packets: readonly Packet[], id: { vip: string; port: number; sourcePort: number }): Packet[] {
  return packets.filter((p) => findClientSyn([p], id) !== undefined);
}

/**
 * Step 1's clocks side by side. Both captures stamp packets with their own host's clock; the first SYN the LB
 * saw, when the probe's capture holds SYNs too, ties them: it cannot have arrived before the first SYN left. An
 * LB clock that says otherwise is behind the probe's, and the LB's packets are moved forward by the least amount
 * that makes the SYN arrive no earlier than it left (a lower bound). Otherwise nothing moves.
 */
export function alignVantages(
  obs: CheckObservation,
  lb: VantageCapture,
  probe: VantageCapture,
): { lb: VantageCapture; alignment: string } {
  const id = { vip: obs.target.vip, port: obs.target.port, sourcePort: obs.reach.connect.localPort };
  const sent = probeSyns(probe.packets, id);
  const arrived = findClientSyn(lb.packets, id);
  if (sent.length === 0 || !arrived)
    return {
      lb,
      alignment:
        "clocks: each side's timestamps are its own host's clock, not adjusted " +
        '(no packet was seen by both to tie them)',
    };
  const lags = sent.map((p) => arrived.timeUs - p.timeUs);
  const nearest = Math.min(...lags.filter((l) => l >= 0));
  if (Number.isFinite(nearest))
    return {
      lb,
      alignment:
        `clocks: the LB saw the probe's SYN ${ms(nearest)} after the nearest SYN left (one-way delay plus any ` +
        'clock difference); timestamps not adjusted',
    };
  const behind = -Math.max(...lags);
  return {
    lb: { ...lb, shiftUs: behind },
    alignment:
      `clocks: the LB's clock read ${ms(behind)} behind the probe's (its first SYN stamped before the probe's ` +
      `first SYN left): the LB's timestamps are moved forward by ${ms(behind)} in this file`,
  };
}
