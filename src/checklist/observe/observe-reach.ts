// The I/O of step 1: captures on the LB (over SSH) and at the vantage point,
// filtered on the probe's own flow, then the probe's TCP connect. Observes
// only; step-reach.ts decides.
import type { Socket } from 'node:net';
import { nowUs, type CaptureFacts } from '../../capture/capture-facts.js';
import { LocalCapture } from '../../capture/local-capture.js';
import { localInterfaceNames } from '../../capture/local-interfaces.js';
import type { Packet } from '../../capture/packet.js';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture } from '../../capture/remote-capture.js';
import type { CaptureEnd, CheckCapture } from '../../capture/shared-capture.js';
import { tcpConnect, type ConnectResult } from '../../probe/tcp-connect.js';
import type { SshSession } from '../../remote/ssh-session.js';
import type { CaptureHubs } from '../../capture/capture-hubs.js';
import { lbFlowFilter, localCaptureFilter } from '../../capture/capture-filter.js';
import type { CheckTarget } from '../../target/check-target.js';
import type { LbAccess } from '../../remote/lb-access.js';
import { findClientSyn } from '../decide/flow-analysis.js';
import type { CaptureView, ReachObservation } from '../observation.js';
import { isProbeSynLeaving } from '../decide/blocked-here.js';

/** How long after the client's outcome the LB capture may still deliver the SYN. */
const SYN_GRACE_MS = 300;

export interface Captures {
  lb: CheckCapture | undefined;
  local: CheckCapture | undefined;
  localUnavailable?: string;
}

/** The capture's facts as of now: its window ends here, with the counts when it has ended. */
export function factsNow(capture: CheckCapture, ended?: CaptureEnd): { facts?: CaptureFacts } {
  const facts = capture.facts;
  if (!facts) return {};
  return {
    facts: {
      ...facts,
      endedAtUs: nowUs(),
      ...(ended ? { droppedByKernel: ended.droppedByKernel, receivedByFilter: ended.receivedByFilter ?? null } : {}),
    },
  };
}

export function lbView(capture: CheckCapture, ended?: CaptureEnd): CaptureView {
  return {
    ...factsNow(capture, ended),
    packets: [...(ended?.packets ?? capture.packets)],
    maxPackets: capture.limits.maxPackets,
    maxBytes: capture.limits.maxBytes,
    ...(capture.endedBy ? { endedBy: capture.endedBy } : {}),
    ...(ended ? { droppedByKernel: ended.droppedByKernel } : {}),
  };
}

function localView(local: CheckCapture): CaptureView {
  return {
    packets: [...local.packets],
    maxPackets: local.limits.maxPackets,
    maxBytes: local.limits.maxBytes,
    ...factsNow(local),
  };
}

/** tcpdump on one LB node, filtered on the probe's own flow and the LB's connections to the pool. */
export function startLbCapture(
  session: SshSession,
  lb: LbAccess,
  target: CheckTarget,
  sourcePort: number,
  boundSeconds: number,
): Promise<RemoteCapture> {
  return RemoteCapture.start(session, {
    ...DEFAULT_CAPTURE_LIMITS,
    iface: lb.captureInterface,
    maxSeconds: boundSeconds,
    ...lbFlowFilter({ vip: target.vip, port: target.port, sourcePort, members: target.members, sshPort: lb.port }),
  });
}

export interface CaptureStartOptions {
  boundSeconds: number;
  localCapture: boolean;
  /** A long-lived process's shared captures; the source port then comes from their range (capture-hubs.ts). */
  hubs?: CaptureHubs | undefined;
}

/** The LB capture and the vantage one: leases on shared captures when there are some, else captures of their own. */
export function startCaptures(
  session: SshSession | undefined,
  target: CheckTarget,
  sourcePort: number,
  opts: CaptureStartOptions,
): [Promise<CheckCapture | undefined>, Promise<CheckCapture | { unavailable: string }>] {
  const lb = target.lb;
  const { hubs, boundSeconds } = opts;
  const own = (s: SshSession, a: LbAccess): Promise<CheckCapture> =>
    startLbCapture(s, a, target, sourcePort, boundSeconds);
  const remote =
    session && lb
      ? hubs
        ? hubs.lbLease(session, lb, target, sourcePort, boundSeconds).then((l) => l ?? own(session, lb))
        : own(session, lb)
      : Promise.resolve(undefined);
  const ownLocal = (): Promise<CheckCapture | { unavailable: string }> =>
    LocalCapture.start(localCaptureFilter(target.vip, target.port, sourcePort), boundSeconds);
  const local: Promise<CheckCapture | { unavailable: string }> = !opts.localCapture
    ? Promise.resolve({ unavailable: 'disabled' })
    : hubs
      ? hubs.localLease(target, sourcePort, boundSeconds).then((l) => (l ? l : ownLocal()))
      : ownLocal();
  return [remote, local];
}

/** Every node of an HA group: its capture (undefined when it could not start) and how to pick the handler. */
export interface GroupCaptures {
  captures: (RemoteCapture | undefined)[];
  /** Given which nodes saw the SYN, the index of the node that handled the probe (the VIP's holder first). */
  chooseHandler: (sawSyn: boolean[]) => Promise<number>;
}

export interface ReachProbe {
  observation: ReachObservation;
  /** For an HA group: the index of the node that handled the probe (its capture is observation.lb). */
  handledBy?: number;
  /** For an HA group: each node's capture as step 1 ended it (null where none ran). */
  nodeViews?: (CaptureView | null)[];
  /** The open connection when the client connected; the caller owns it. */
  socket: Socket | undefined;
}

function fromVipToProbe(target: CheckTarget, sport: number): (p: Packet) => boolean {
  return (p) =>
    p.ip?.src === target.vip &&
    p.tcp?.srcPort === target.port &&
    p.tcp.dstPort === sport &&
    (p.tcp.flags.syn || p.tcp.flags.rst);
}

/** Waits, bounded, until a capture shows the probe's SYN (or the LB's answer, which follows it). */
async function awaitSyn(lb: CheckCapture, target: CheckTarget, connect: ConnectResult): Promise<void> {
  const id = { vip: target.vip, port: target.port, sourcePort: connect.localPort };
  // The LB's own answer follows the SYN, so waiting for it also waits for the SYN.
  if (connect.outcome !== 'timeout') {
    await lb.waitFor(fromVipToProbe(target, connect.localPort), SYN_GRACE_MS);
    return;
  }
  const syn = await lb.waitFor((p) => findClientSyn([p], id) !== undefined, 50);
  // The LB saw a SYN the client gave up on: "the LB never answered" holds only once its answer had time to
  // reach us. A SYN retransmitted just before the client's timeout is answered within microseconds on the LB,
  // but that answer is still on its way here: read without waiting, it blamed the LB for a drop it never made.
  if (syn) await lb.waitFor(fromVipToProbe(target, connect.localPort), SYN_GRACE_MS);
}

/**
 * A SYN retransmission takes at least Linux's minimum RTO (200 ms; the first SYN's is 1 s): a quicker connection
 * sent one SYN, and step 1 need not count them.
 */
const RETRANSMIT_POSSIBLE_MS = 200;

/**
 * When the client may have had to send its SYN again, waits until both captures hold its handshake ACK, which
 * follows every SYN it sent: this machine's then shows how many it sent, and the LB's every one that arrived, so
 * step 1 can count which never did (step-reach.ts lostOnTheWay). Read sooner, a SYN still in a capture's stream
 * would look lost, or not sent.
 */
async function awaitHandshakeAck(
  lb: CheckCapture,
  local: CheckCapture | undefined,
  target: CheckTarget,
  connect: ConnectResult,
): Promise<void> {
  if (!local || connect.outcome !== 'connected' || connect.ms < RETRANSMIT_POSSIBLE_MS) return;
  const toVip = (p: Packet): boolean =>
    p.ip?.dst === target.vip && p.tcp?.dstPort === target.port && p.tcp.srcPort === connect.localPort;
  const ack = (p: Packet): boolean => toVip(p) && !!p.tcp?.flags.ack && !p.tcp.flags.syn;
  await local.waitFor(ack, SYN_GRACE_MS);
  const synsSent = local.packets.filter((p) => toVip(p) && p.tcp?.flags.syn && p.direction !== 'in').length;
  if (synsSent >= 2) await lb.waitFor(ack, SYN_GRACE_MS);
}

/**
 * The LB answered and the client still timed out: gives the answer the time it needs to reach this machine's
 * capture, so step 1 can tell one that never came (lost on the way back) from one that came and went no further.
 */
async function awaitAnswerHere(
  lb: CheckCapture,
  local: CheckCapture | undefined,
  target: CheckTarget,
  connect: ConnectResult,
): Promise<void> {
  const answer = fromVipToProbe(target, connect.localPort);
  if (!local || connect.outcome !== 'timeout' || !lb.packets.some((p) => answer(p) && p.tcp?.flags.syn)) return;
  await local.waitFor((p) => answer(p) && !!p.tcp?.flags.syn, SYN_GRACE_MS);
}

/** For an HA group: waits on every node, picks the one that handled the probe, and ends the others' captures. */
async function settleGroup(
  group: GroupCaptures,
  target: CheckTarget,
  connect: ConnectResult,
): Promise<{ handledBy: number; views: (CaptureView | null)[] }> {
  const id = { vip: target.vip, port: target.port, sourcePort: connect.localPort };
  await Promise.all(group.captures.map((c) => (c ? awaitSyn(c, target, connect) : Promise.resolve())));
  const sawSyn = group.captures.map((c) => (c ? findClientSyn(c.packets, id) !== undefined : false));
  const handledBy = await group.chooseHandler(sawSyn);
  // Steps 2 and 3 read only the handling node's capture: the others are done after step 1.
  const views = await Promise.all(
    group.captures.map(async (c, i) =>
      c === undefined ? null : i === handledBy ? lbView(c) : lbView(c, await c.stop()),
    ),
  );
  return { handledBy, views };
}

export async function observeReach(
  target: CheckTarget,
  captures: Captures,
  sourcePort: number,
  connectTimeoutMs: number,
  connecting: (c: Promise<ConnectResult>) => Promise<ConnectResult>,
  group?: GroupCaptures,
  sourceAddress?: string,
  signal?: AbortSignal,
): Promise<ReachProbe> {
  const started = performance.now();
  const connect = await connecting(
    tcpConnect(target.vip, target.port, connectTimeoutMs, sourcePort, sourceAddress, signal),
  );
  const id = { vip: target.vip, port: target.port, sourcePort: connect.localPort };
  const settled = group ? await settleGroup(group, target, connect) : undefined;
  const lb = settled ? group?.captures[settled.handledBy] : captures.lb;
  const { local } = captures;
  if (lb && !settled) await awaitSyn(lb, target, connect);
  if (lb && !settled) await awaitHandshakeAck(lb, local, target, connect);
  if (lb && !settled) await awaitAnswerHere(lb, local, target, connect);
  let lbCapture = lb ? lbView(lb) : null;
  if (lb && lbCapture && !findClientSyn(lbCapture.packets, id)) {
    // A missing SYN only proves something if the capture lost nothing: stop it
    // now (the LB never saw this connection, so step 2 has nothing to read in
    // it) and take tcpdump's own count of packets the kernel dropped.
    lbCapture = lbView(lb, await lb.stop());
    if (local && connect.outcome !== 'timeout') {
      const answered = await local.waitFor(
        (p) =>
          (p.tcp?.dstPort === connect.localPort && p.ip?.src === target.vip) ||
          p.icmp?.unreachable?.original.srcPort === connect.localPort,
        100,
      );
      // No answer arrived: did the SYN leave at all (blocked-here.ts)? A capture read too soon would say no.
      if (!answered)
        await local.waitFor((p) => isProbeSynLeaving(p, target.vip, target.port, connect.localPort), SYN_GRACE_MS);
    }
  }
  const { socket, ...rest } = connect;
  return {
    socket,
    ...(settled ? { handledBy: settled.handledBy, nodeViews: settled.views } : {}),
    observation: {
      connect: rest,
      probeFrom: connect.localAddress ?? sourceAddress ?? 'this host',
      lb: lbCapture,
      local: local ? localView(local) : null,
      ...(captures.localUnavailable ? { localUnavailable: captures.localUnavailable } : {}),
      ms: Math.round(performance.now() - started),
    },
  };
}

/**
 * Step 1's vantage view with the kernel's counts from the capture's stop, and the probing host's names for the
 * interfaces its packets were seen on (ifindex → name).
 */
export function probeEvidenceFacts(
  reach: ReachObservation,
  local: CheckCapture | undefined,
  ended: CaptureEnd | undefined,
): { reach: ReachObservation; interfaces: { probeInterfaces?: Record<string, string> } } {
  if (!local || !reach.local) return { reach, interfaces: {} };
  const names = localInterfaceNames(reach.local.packets.flatMap((p) => (p.ifIndex === undefined ? [] : [p.ifIndex])));
  return {
    reach: { ...reach, local: { ...reach.local, ...factsNow(local, ended) } },
    interfaces: Object.keys(names).length > 0 ? { probeInterfaces: names } : {},
  };
}
