// Step 1: does the connection reach the LB? Decided by matching the probe's
// source port in the LB's capture, then by who answered the client.
import type { Packet } from '../capture/packet.js';
import type { ConnectResult } from '../probe/tcp-connect.js';
import { findClientSyn } from './flow-analysis.js';
import type { ReachStep } from './report.js';

export interface ReachInput {
  vip: string;
  port: number;
  connect: ConnectResult;
  /** The LB capture, or null when there is no SSH access to the LB. */
  lbPackets: readonly Packet[] | null;
  /** The vantage point's own capture, or null when it could not run. */
  localPackets: readonly Packet[] | null;
  probeFrom: string;
}

export type ReachDecision = Omit<ReachStep, 'evidence' | 'ms'> & { deciding: Packet[] };

interface LocalAnswer {
  kind: 'tcp-reset' | 'syn-ack' | 'icmp';
  from: string;
  packet: Packet;
  detail: string;
}

function answerSeenLocally(input: ReachInput): LocalAnswer | undefined {
  const sport = input.connect.localPort;
  for (const p of input.localPackets ?? []) {
    const t = p.tcp;
    if (t && p.ip?.src === input.vip && t.srcPort === input.port && t.dstPort === sport) {
      if (t.flags.rst)
        return {
          kind: 'tcp-reset',
          from: p.ip.src,
          packet: p,
          detail: `a TCP reset claiming to come from ${input.vip}`,
        };
      if (t.flags.syn && t.flags.ack)
        return { kind: 'syn-ack', from: p.ip.src, packet: p, detail: `a SYN-ACK claiming to come from ${input.vip}` };
    }
    const u = p.icmp?.unreachable;
    if (
      u &&
      p.ip &&
      u.original.dst === input.vip &&
      u.original.dstPort === input.port &&
      u.original.srcPort === sport
    ) {
      return { kind: 'icmp', from: p.ip.src, packet: p, detail: `ICMP ${u.reason} from ${p.ip.src}` };
    }
  }
  return undefined;
}

export function decideReach(input: ReachInput): ReachDecision {
  const { connect, vip, port } = input;
  const target = `${vip}:${port}`;
  const base = {
    step: 1 as const,
    name: 'reach' as const,
    outcome: connect.outcome,
    probe: { from: input.probeFrom, sourcePort: connect.localPort },
    ...(connect.errno ? { errno: connect.errno } : {}),
  };
  const local = answerSeenLocally(input);
  const refusedBy: ReachStep['refusedBy'] | undefined =
    connect.outcome === 'refused' || connect.outcome === 'unreachable'
      ? local
        ? local.kind === 'icmp'
          ? 'icmp'
          : 'tcp-reset'
        : null
      : undefined;
  const withRefusal: Pick<ReachStep, 'refusedBy'> = refusedBy === undefined ? {} : { refusedBy };
  const outcomeText = `the client ${connect.outcome === 'connected' ? 'connected' : connect.outcome === 'timeout' ? 'timed out' : `was ${connect.outcome}${connect.errno ? ` (${connect.errno})` : ''}`} after ${connect.ms} ms`;

  if (input.lbPackets === null) {
    return {
      ...base,
      ...withRefusal,
      verdict: 'inconclusive',
      lbSawSyn: null,
      answeredBy: null,
      summary: `No capture on the LB (no SSH access), so it is unknown whether the SYN reached it; ${outcomeText}.`,
      deciding: local ? [local.packet] : [],
    };
  }
  const syn = findClientSyn(input.lbPackets, { vip, port, sourcePort: connect.localPort });
  if (syn) {
    const lbAnswer = input.lbPackets.find(
      (p) =>
        p.ip?.src === vip &&
        p.tcp?.srcPort === port &&
        p.tcp.dstPort === connect.localPort &&
        (p.tcp.flags.rst || p.tcp.flags.syn),
    );
    const lbRefused: Pick<ReachStep, 'refusedBy'> =
      connect.outcome === 'refused' && lbAnswer?.tcp?.flags.rst ? { refusedBy: 'tcp-reset' } : withRefusal;
    return {
      ...base,
      ...lbRefused,
      verdict: 'pass',
      lbSawSyn: true,
      answeredBy: lbAnswer ? 'lb' : 'none',
      summary: `The LB saw the probe's SYN to ${target} (source port ${connect.localPort}); ${outcomeText}.`,
      deciding: [syn, ...(lbAnswer ? [lbAnswer] : [])],
    };
  }
  if (connect.outcome === 'timeout') {
    return {
      ...base,
      ...withRefusal,
      verdict: 'fail',
      lbSawSyn: false,
      answeredBy: 'none',
      summary: `The SYN to ${target} never reached the LB and nothing answered: traffic is dropped or misrouted before the LB (routing or a firewall).`,
      deciding: [],
    };
  }
  if (local?.kind === 'icmp') {
    return {
      ...base,
      ...withRefusal,
      verdict: 'fail',
      lbSawSyn: false,
      answeredBy: 'other',
      answerFrom: local.from,
      summary: `The SYN to ${target} never reached the LB: ${local.from} rejected it with ${local.detail.replace(` from ${local.from}`, '')} on the way.`,
      deciding: [local.packet],
    };
  }
  const how = local
    ? local.detail
    : connect.outcome === 'connected'
      ? 'a completed handshake'
      : `an answer (${connect.errno ?? connect.outcome}) whose sender could not be seen here (no local capture)`;
  return {
    ...base,
    ...withRefusal,
    verdict: 'fail',
    lbSawSyn: false,
    answeredBy: 'other',
    ...(local ? { answerFrom: local.from } : {}),
    summary: `The LB never saw the SYN to ${target}, yet the client got ${how}: another device answered in the LB's place.`,
    deciding: local ? [local.packet] : [],
  };
}
