// Step 1: does the connection reach the LB? Decided by matching the probe's
// source port in the LB's capture, then by who answered the client.
import { hostPort } from '../../model/endpoint-text.js';
import type { Packet } from '../../capture/packet.js';
import { blockedHere, blockedHereText } from './blocked-here.js';
import { findClientSyn } from './flow-analysis.js';
import type { CaptureView, ConnectObservation, ReachObservation } from '../observation.js';
import type { ReachStep } from '../../model/report.js';

export type ReachDecision = Omit<ReachStep, 'evidence'> & { deciding: Packet[] };

interface LocalAnswer {
  kind: 'tcp-reset' | 'syn-ack' | 'icmp';
  from: string;
  packet: Packet;
  detail: string;
}

interface Probe {
  vip: string;
  port: number;
  connect: ConnectObservation;
}

function answerSeenLocally(probe: Probe, local: CaptureView | null): LocalAnswer | undefined {
  const sport = probe.connect.localPort;
  for (const p of local?.packets ?? []) {
    const t = p.tcp;
    if (t && p.ip?.src === probe.vip && t.srcPort === probe.port && t.dstPort === sport) {
      if (t.flags.rst)
        return {
          kind: 'tcp-reset',
          from: p.ip.src,
          packet: p,
          detail: `a TCP reset claiming to come from ${probe.vip}`,
        };
      if (t.flags.syn && t.flags.ack)
        return { kind: 'syn-ack', from: p.ip.src, packet: p, detail: `a SYN-ACK claiming to come from ${probe.vip}` };
    }
    const u = p.icmp?.unreachable;
    if (
      u &&
      p.ip &&
      u.original.dst === probe.vip &&
      u.original.dstPort === probe.port &&
      u.original.srcPort === sport
    ) {
      return { kind: 'icmp', from: p.ip.src, packet: p, detail: `ICMP ${u.reason}` };
    }
  }
  return undefined;
}

function outcomeText(c: ConnectObservation): string {
  const what =
    c.outcome === 'connected'
      ? 'connected'
      : c.outcome === 'timeout'
        ? 'timed out'
        : `was ${c.outcome}${c.errno ? ` (${c.errno})` : ''}`;
  return `the client ${what} after ${c.ms} ms`;
}

/**
 * Why the LB capture cannot be trusted to have every packet, or undefined
 * when it can. A missing SYN only proves something when nothing was lost.
 */
export function captureShortfall(lb: CaptureView): string | undefined {
  switch (lb.endedBy) {
    case 'packet-limit':
      return `the LB capture hit its packet cap (${lb.maxPackets} packets)`;
    case 'byte-limit':
      return `the LB capture hit its byte cap (${lb.maxBytes} bytes)`;
    case 'time-limit':
      return 'the LB capture hit its time limit';
    case 'exited':
      return 'tcpdump on the LB exited early';
    case 'unfinished':
      return 'the capture stream from the LB stalled and never drained (the SSH path to the LB loses packets)';
    default:
      break;
  }
  if (lb.droppedByKernel) return `the LB's kernel dropped ${lb.droppedByKernel} captured packets (tcpdump buffer full)`;
  return undefined;
}

const ANSWERED_IN_LB_PLACE = "another device answered in the LB's place.";

/** The LB capture missed the SYN because it lost packets or ended early: no verdict on the path. */
function captureGapSummary(target: string, shortfall: string, happened: string): string {
  const missing = `The probe's SYN to ${target} is not in the LB capture, but ${shortfall} before it could show up`;
  const retry = 'Run the check again, or capture on a quieter interface (captureInterface).';
  return `${missing}, so this proves nothing about the path; ${happened}. ${retry}`;
}

/** The probe's SYNs (its own ISN, to the VIP) in one capture, travelling one way. */
function probeSyns(packets: readonly Packet[], first: Packet, notDirection: 'in' | 'out'): Packet[] {
  const { ip, tcp } = first;
  return packets.filter(
    (p) =>
      p.direction !== notDirection &&
      p.tcp?.flags.syn === true &&
      !p.tcp.flags.ack &&
      p.tcp.seq === tcp?.seq &&
      p.tcp.srcPort === tcp.srcPort &&
      p.tcp.dstPort === tcp.dstPort &&
      p.ip?.dst === ip?.dst,
  );
}

/**
 * SYNs this machine sent (its capture) that the LB's capture, complete, never saw. Only when the connection
 * completed and the LB's view holds the client's handshake ACK: every SYN that reached the LB is then in it (the
 * ACK followed them all), so a SYN missing there was lost on the way, not still in the capture's stream. A
 * SYN-ACK lost on the way back looks different: the LB saw every SYN.
 */
function lostOnTheWay(obs: ReachObservation, lbSyn: Packet): ReachStep['lostBeforeLb'] {
  const { lb, local, connect } = obs;
  if (!lb || !local || connect.outcome !== 'connected' || captureShortfall(lb)) return undefined;
  const t = lbSyn.tcp;
  const handshakeDone = lb.packets.some(
    (p) =>
      p.tcp !== undefined &&
      p.ip?.dst === lbSyn.ip?.dst &&
      p.tcp.srcPort === t?.srcPort &&
      p.tcp.dstPort === t.dstPort &&
      p.tcp.flags.ack &&
      !p.tcp.flags.syn,
  );
  if (!handshakeDone) return undefined;
  const sent = probeSyns(local.packets, lbSyn, 'in').length;
  const seen = probeSyns(lb.packets, lbSyn, 'out').length;
  return sent > seen ? { sent, seen } : undefined;
}

function lossText(loss: NonNullable<ReachStep['lostBeforeLb']>): string {
  const lost = loss.sent - loss.seen;
  return (
    ` But the client sent its SYN ${loss.sent} times and the LB's capture (complete: no cap hit, no kernel drops) ` +
    `shows ${loss.seen}: ${lost} ${lost === 1 ? 'was' : 'were'} lost on the way to the LB, on the network path or ` +
    "in the LB's NIC before its kernel (the LB's interface drop counters, `ip -s link`, tell which). Each lost SYN " +
    'costs a client a retransmission timeout (1 s, then 2 s, ...).'
  );
}

/** SYN-ACKs from the VIP to the probe's port in one capture, travelling one way. */
function synAcks(packets: readonly Packet[], probe: Probe, notDirection: 'in' | 'out'): number {
  return packets.filter(
    (p) =>
      p.direction !== notDirection &&
      p.ip?.src === probe.vip &&
      p.tcp?.srcPort === probe.port &&
      p.tcp.dstPort === probe.connect.localPort &&
      p.tcp.flags.syn &&
      p.tcp.flags.ack,
  ).length;
}

/** How many SYNs a Linux client sends before giving up after `ms` (retransmitted 1, 3, 7, 15 ... s after the first). */
function synsWithin(ms: number): number {
  let n = 1;
  for (let at = 1000; at < ms; at = at * 2 + 1000) n++;
  return n;
}

/**
 * The LB answered (a SYN-ACK left it toward the client) and the client never connected. This machine's capture
 * says what became of the answer: it never arrived (lost on the way back), it arrived in time and went no further
 * (this host dropped it), or it arrived after the client had given up (late). Without that capture (or with one
 * that lost packets itself) only "lost" is said, and only when the LB saw every SYN the client sent (so its first
 * was the client's first) and answered it well before the client gave up.
 */
function answerFate(obs: ReachObservation, probe: Probe, syn: Packet, answer: Packet): ReachStep['answerLost'] {
  const sentByLb = synAcks(obs.lb?.packets ?? [], probe, 'in');
  const deadlineMs = probe.connect.ms;
  // A capture here that lost packets itself cannot say nothing arrived: then it is as if there were none.
  if (obs.local && !captureShortfall(obs.local)) {
    const arrivals = obs.local.packets.filter((p) => synAcks([p], probe, 'out') === 1);
    const firstSent = probeSyns(obs.local.packets, syn, 'in')[0];
    const first = arrivals[0];
    if (!first) return { sentByLb, seenHere: 0, fate: 'lost' };
    if (!firstSent) return undefined;
    const inTime = first.timeUs - firstSent.timeUs < deadlineMs * 1000;
    return { sentByLb, seenHere: arrivals.length, fate: inTime ? 'dropped-here' : 'late' };
  }
  const sawEvery = probeSyns(obs.lb?.packets ?? [], syn, 'out').length === synsWithin(deadlineMs);
  const prompt = answer.timeUs - syn.timeUs < (deadlineMs - 100) * 1000;
  return sawEvery && prompt ? { sentByLb, seenHere: null, fate: 'lost' } : undefined;
}

const WAY_BACK =
  "a router or stateful firewall between the LB and the clients drops the VIP's replies, or the LB routes them " +
  'out another way (asymmetric routing; `ip route get <client>` on the LB shows its way back)';

/** Step 1's words for an answer that left the LB and never made a connection. */
function answerLostText(target: string, lost: NonNullable<ReachStep['answerLost']>, happened: string): string {
  const left =
    `The LB saw the probe's SYN to ${target} and answered it: ${lost.sentByLb} SYN-ACK` +
    `${lost.sentByLb === 1 ? '' : 's'} left the LB toward the client, yet ${happened}.`;
  switch (lost.fate) {
    case 'lost':
      return lost.seenHere === null
        ? `${left} The answer was lost on the way back: ${WAY_BACK}. (Without a complete capture on this ` +
            "machine, this host's own firewall is not ruled out.)"
        : `${left} None reached this machine (its capture shows no SYN-ACK): the answer was lost on the way back: ` +
            `${WAY_BACK}.`;
    case 'dropped-here':
      return (
        `${left} It reached this machine's interface in time (its capture shows it) but not the client's socket: ` +
        "this host's own firewall dropped it. Nothing on the path is proven faulty; fix this host and run again."
      );
    default:
      return (
        `${left} It reached this machine only after the client had given up: the LB (or the way back) is that ` +
        'slow to answer a SYN (an overloaded LB, a full SYN backlog). Run again with a longer --timeout to measure it.'
      );
  }
}

/** What every step-1 result shares, and the facts its branches are decided from. */
interface ReachContext {
  obs: ReachObservation;
  probe: Probe;
  /** "vip:port", as the summaries name it. */
  target: string;
  /** "the client connected after 12 ms", and so on. */
  happened: string;
  base: Pick<ReachStep, 'step' | 'name' | 'outcome' | 'probe' | 'ms' | 'errno'>;
  /** How the refusal arrived, as this machine's capture shows it (absent when the connection was not refused). */
  withRefusal: Pick<ReachStep, 'refusedBy'>;
  /** The answer this machine's capture shows from the VIP (or an ICMP error about it). */
  local: LocalAnswer | undefined;
  /** This machine's capture when it lost nothing (null otherwise). */
  completeLocal: CaptureView | null;
}

/** What differs between step 1's results; the result builder adds the rest, in the report's field order. */
interface Conclusion extends Pick<ReachStep, 'verdict' | 'lbSawSyn' | 'answeredBy' | 'summary'> {
  /** Default: the context's refusal. */
  refusal?: Pick<ReachStep, 'refusedBy'>;
  /** The finding's own fields, between answeredBy and summary. */
  detail?: Pick<ReachStep, 'blockedHere' | 'answerLost' | 'lostBeforeLb' | 'captureGap' | 'answerFrom'>;
  /** Default: the local answer's packet, when there is one. */
  deciding?: Packet[];
}

function reachResult(ctx: ReachContext, c: Conclusion): ReachDecision {
  return {
    ...ctx.base,
    ...(c.refusal ?? ctx.withRefusal),
    verdict: c.verdict,
    lbSawSyn: c.lbSawSyn,
    answeredBy: c.answeredBy,
    ...c.detail,
    summary: c.summary,
    deciding: c.deciding ?? (ctx.local ? [ctx.local.packet] : []),
  };
}

function refusalSeen(connect: ConnectObservation, local: LocalAnswer | undefined): Pick<ReachStep, 'refusedBy'> {
  if (connect.outcome !== 'refused' && connect.outcome !== 'unreachable') return {};
  return { refusedBy: local ? (local.kind === 'icmp' ? 'icmp' : 'tcp-reset') : null };
}

function reachContext(vip: string, port: number, obs: ReachObservation): ReachContext {
  const { connect } = obs;
  const probe: Probe = { vip, port, connect };
  const local = answerSeenLocally(probe, obs.local);
  return {
    obs,
    probe,
    target: `${hostPort(vip, port)}`,
    happened: outcomeText(connect),
    base: {
      step: 1 as const,
      name: 'reach' as const,
      outcome: connect.outcome,
      probe: { from: obs.probeFrom, sourcePort: connect.localPort },
      ms: obs.ms,
      ...(connect.errno ? { errno: connect.errno } : {}),
    },
    withRefusal: refusalSeen(connect, local),
    local,
    completeLocal: obs.local && !captureShortfall(obs.local) ? obs.local : null,
  };
}

/** The LB's capture shows the probe's SYN: the path to the LB works; what came back decides the rest. */
function lbSawTheSyn(ctx: ReachContext, lb: CaptureView, syn: Packet): ReachDecision {
  const { probe, target, happened, obs } = ctx;
  const { vip, port, connect } = probe;
  const lbAnswer = lb.packets.find(
    (p) =>
      p.ip?.src === vip &&
      p.tcp?.srcPort === port &&
      p.tcp.dstPort === connect.localPort &&
      (p.tcp.flags.rst || p.tcp.flags.syn),
  );
  const answerLost =
    connect.outcome === 'timeout' && lbAnswer?.tcp?.flags.syn ? answerFate(obs, probe, syn, lbAnswer) : undefined;
  if (answerLost && lbAnswer) {
    return reachResult(ctx, {
      verdict: answerLost.fate === 'lost' ? 'fail' : 'inconclusive',
      lbSawSyn: true,
      answeredBy: 'lb',
      detail: { answerLost },
      summary: answerLostText(target, answerLost, happened),
      deciding: [syn, lbAnswer],
    });
  }
  const refusal =
    connect.outcome === 'refused' ? ' The connection reached the LB; step 2 says why it was refused.' : '';
  const loss = lostOnTheWay(obs, syn);
  return reachResult(ctx, {
    refusal: connect.outcome === 'refused' && lbAnswer?.tcp?.flags.rst ? { refusedBy: 'tcp-reset' } : ctx.withRefusal,
    verdict: loss ? 'warn' : 'pass',
    lbSawSyn: true,
    answeredBy: lbAnswer ? 'lb' : 'none',
    ...(loss ? { detail: { lostBeforeLb: loss } } : {}),
    summary:
      `The LB saw the probe's SYN to ${target} (source port ${connect.localPort}); ${happened}.${refusal}` +
      (loss ? lossText(loss) : ''),
    deciding: [syn, ...(lbAnswer ? [lbAnswer] : [])],
  });
}

/** What answered the client in the LB's place, in words. */
function answererText(ctx: ReachContext): string {
  const { local, obs } = ctx;
  const { connect } = obs;
  if (local) return local.detail;
  if (connect.outcome === 'connected') return 'a completed handshake';
  return obs.local
    ? `an answer (${connect.errno ?? connect.outcome}) that this machine's capture does not show`
    : `an answer (${connect.errno ?? connect.outcome}) whose sender could not be seen here (no local capture)`;
}

/** The LB's capture, complete or not, has no SYN from the probe. */
function lbMissedTheSyn(ctx: ReachContext, lb: CaptureView): ReachDecision {
  const { target, happened, local, obs } = ctx;
  const shortfall = captureShortfall(lb);
  if (shortfall) {
    return reachResult(ctx, {
      verdict: 'inconclusive',
      lbSawSyn: null,
      answeredBy: null,
      detail: { captureGap: shortfall },
      summary: captureGapSummary(target, shortfall, happened),
    });
  }
  if (obs.connect.outcome === 'timeout') {
    return reachResult(ctx, {
      verdict: 'fail',
      lbSawSyn: false,
      answeredBy: 'none',
      summary:
        `The SYN to ${target} never reached the LB and nothing answered: ` +
        'traffic is dropped or misrouted before the LB (routing or a firewall).' +
        (ctx.completeLocal ? '' : ' (Without a complete capture on this machine, its own firewall is not ruled out.)'),
      deciding: [],
    });
  }
  if (local?.kind === 'icmp') {
    return reachResult(ctx, {
      verdict: 'fail',
      lbSawSyn: false,
      answeredBy: 'other',
      detail: { answerFrom: local.from },
      summary: `The SYN to ${target} never reached the LB: ${local.from} rejected it with ${local.detail} on the way.`,
    });
  }
  return reachResult(ctx, {
    verdict: 'fail',
    lbSawSyn: false,
    answeredBy: 'other',
    ...(local ? { detail: { answerFrom: local.from } } : {}),
    summary: `The LB never saw the SYN to ${target}, yet the client got ${answererText(ctx)}: ${ANSWERED_IN_LB_PLACE}`,
  });
}

export function decideReach(vip: string, port: number, obs: ReachObservation): ReachDecision {
  const ctx = reachContext(vip, port, obs);
  const lbSyn = obs.lb ? findClientSyn(obs.lb.packets, { vip, port, sourcePort: obs.connect.localPort }) : undefined;
  const blocked = lbSyn ? undefined : blockedHere(vip, port, obs.connect, ctx.completeLocal);
  if (blocked) {
    return reachResult(ctx, {
      verdict: 'inconclusive',
      lbSawSyn: obs.lb ? false : null,
      answeredBy: 'none',
      detail: { blockedHere: blocked },
      summary: blockedHereText(ctx.target, vip, blocked, ctx.happened),
    });
  }
  if (obs.lb === null) {
    return reachResult(ctx, {
      verdict: 'inconclusive',
      lbSawSyn: null,
      answeredBy: null,
      summary: `No capture on the LB (no SSH access), so it is unknown whether the SYN reached it; ${ctx.happened}.`,
    });
  }
  return lbSyn ? lbSawTheSyn(ctx, obs.lb, lbSyn) : lbMissedTheSyn(ctx, obs.lb);
}
