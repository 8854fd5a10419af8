// The I/O of step 2: the request on the probe's connection (after TLS when the
// VIP terminates it), the rest of the LB capture, and follow-up probes when
// the first answer raises a suspicion worth testing (a PROXY protocol
// frontend, an MTU black hole), plus read-only facts from the LB. Observes
// only; step-mode.ts decides.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CheckCapture } from '../../capture/shared-capture.js';
import {
  httpExchange,
  httpRequest,
  proxyV1Header,
  type HttpExchange,
  type RequestShape,
} from '../../probe/http-exchange.js';
import { bodyCutShort } from '../../probe/http-body.js';
import { tcpConnect } from '../../probe/tcp-connect.js';
import { upgradeToTls } from '../../probe/tls-upgrade.js';
import { trustStore } from '../../probe/trust-store.js';
import type { SshSession } from '../../remote/ssh-session.js';
import type { CheckOptions, ResolvedTarget } from '../../target/check-target.js';
import { analyzeFlows, findClientSyn, type FlowAnalysis } from '../decide/flow-analysis.js';
import type { ModeObservation, ReachObservation } from '../observation.js';
import { lbView } from './observe-reach.js';

/**
 * How long a TCP proxy gets to open its server connection before we send the request. A healthy one connects
 * within a millisecond of accepting. One slower than this is not misread: the kind is then taken from the request
 * (an HTTP proxy rewrites it; a TCP proxy cannot), and left open when the request passed unchanged (decideMode).
 * So the wait only buys the label "TCP proxy" for slow ones, and every HTTP-proxy check pays all of it.
 */
const PROXY_CONNECT_WAIT_MS = 10;
/**
 * After a server-side SYN shows up, a moment more (within the wait): the first may be a health check, ours
 * follows within a millisecond of the accept.
 */
const PROXY_CONNECT_SETTLE_MS = 3;
/** How long the LB capture may lag behind the probe (the stream over SSH) before the handshake shows in it. */
const CAPTURE_CATCH_UP_MS = 60;
/** How long after the response the proxied request may still show up in the capture. */
const SERVER_SIDE_GRACE_MS = 300;

export interface ModeIo {
  target: ResolvedTarget;
  options: CheckOptions;
  reach: ReachObservation;
  socket: Socket | undefined;
  capture: CheckCapture | undefined;
  session: SshSession | undefined;
  /** Wraps every wait so a cancel interrupts it. */
  cancellable: <T>(p: Promise<T>) => Promise<T>;
  /** The socket currently open to the VIP, for the caller to destroy on cancel. */
  onSocket: (s: Duplex | undefined) => void;
  /** The last check of this VIP proved an HTTP proxy: no wait for a TCP proxy's connection (proxy-kind-memory.ts). */
  skipProxyWait?: boolean;
}

const hostHeader = (t: ResolvedTarget): string => t.sni ?? t.vip;

/**
 * A TCP proxy connects to a server as soon as it accepts the client, before any
 * request; an HTTP proxy only after reading one. Wait until a server-side SYN
 * follows the client's handshake (or a short bound), so the capture shows
 * which came first. Health checks also send SYNs; ours comes within a
 * millisecond of the handshake, hence the short settle after the first one.
 * A health check cutting the wait short costs nothing but the label: see
 * PROXY_CONNECT_WAIT_MS.
 */
async function waitForTcpProxy(capture: CheckCapture, target: ResolvedTarget, sourcePort: number): Promise<void> {
  // An L4 forwarder already passed the client's own SYN on (same initial sequence number): it has no accept
  // step, so there is no server connection of its own to wait for.
  const clientSyn = findClientSyn(capture.packets, { vip: target.vip, port: target.port, sourcePort });
  const forwarded = capture.packets.some(
    (p) =>
      p !== clientSyn &&
      p.ip?.dst !== target.vip &&
      p.tcp?.flags.syn === true &&
      !p.tcp.flags.ack &&
      p.tcp.seq === clientSyn?.tcp?.seq,
  );
  if (forwarded) return;
  const handshakeDone = await capture.waitFor(
    (p) =>
      p.ip?.dst === target.vip &&
      p.tcp?.dstPort === target.port &&
      p.tcp.srcPort === sourcePort &&
      p.tcp.flags.ack &&
      !p.tcp.flags.syn,
    CAPTURE_CATCH_UP_MS,
  );
  const after = handshakeDone?.index ?? -1;
  const deadline = performance.now() + PROXY_CONNECT_WAIT_MS;
  const syn = await capture.waitFor(
    (p) => p.index > after && !!p.tcp?.flags.syn && !p.tcp.flags.ack && p.ip?.dst !== target.vip,
    PROXY_CONNECT_WAIT_MS,
  );
  const settle = Math.min(PROXY_CONNECT_SETTLE_MS, deadline - performance.now());
  if (syn && settle > 0) await new Promise((r) => setTimeout(r, settle));
}

async function exchangeOnProbe(
  io: ModeIo,
  marker: string,
): Promise<Pick<ModeObservation, 'exchange' | 'tls' | 'tlsError'>> {
  const { target, options, capture, socket } = io;
  if (!socket) return {};
  if (capture && !io.skipProxyWait) await waitForTcpProxy(capture, target, io.reach.connect.localPort);
  let stream: Duplex = socket;
  const out: Pick<ModeObservation, 'exchange' | 'tls' | 'tlsError'> = {};
  if (target.tls) {
    const up = await upgradeToTls(
      socket,
      target.sni ?? target.vip,
      options.connectTimeoutMs,
      trustStore(target.caFile),
    );
    if ('error' in up) return { tlsError: up.error };
    stream = up.tls;
    out.tls = up.info;
    io.onSocket(up.tls);
  }
  const request = httpRequest(hostHeader(target), { path: target.httpPath, marker });
  out.exchange = await io.cancellable(httpExchange(stream, request, options.silentMs));
  await capture?.waitFor(
    (p) => p.tcp?.payload.includes(marker) === true && p.ip?.dst !== target.vip,
    SERVER_SIDE_GRACE_MS,
  );
  return out;
}

/** One more request on a fresh connection (no capture: it only tests a suspicion). */
async function reprobe(io: ModeIo, shape: RequestShape): Promise<HttpExchange | undefined> {
  const { target, options } = io;
  const c = await tcpConnect(target.vip, target.port, options.connectTimeoutMs, undefined, options.sourceAddress);
  if (!c.socket) return undefined;
  try {
    const preface =
      shape.preface === 'proxy-v1'
        ? proxyV1Header(c.localAddress ?? '0.0.0.0', c.localPort, target.vip, target.port)
        : shape.preface;
    const request = httpRequest(hostHeader(target), { ...shape, ...(preface ? { preface } : {}) });
    return await io.cancellable(httpExchange(c.socket, request, options.silentMs));
  } finally {
    c.socket.destroy();
  }
}

async function readIpForward(session: SshSession): Promise<string | undefined> {
  const r = await session.run(['cat', '/proc/sys/net/ipv4/ip_forward'], 5000).catch(() => undefined);
  const value = r?.stdout.trim();
  return r?.code === 0 && value !== undefined && /^\d$/.test(value) ? value : undefined;
}

/** A closed or reset connection that sent nothing may be a PROXY protocol frontend: resend with a v1 header. */
async function proxyV1Reprobe(io: ModeIo, x: HttpExchange | undefined): Promise<ModeObservation['reprobes']> {
  const { target } = io;
  if (x && !target.tls && (x.behaviour === 'closed' || x.behaviour === 'reset') && x.bytes === 0) {
    const v1 = await reprobe(io, { path: target.httpPath, preface: 'proxy-v1' });
    if (v1) return { proxyV1: v1 };
  }
  return {};
}

/** A stalled or cut-short reply may be an MTU black hole: does a reply that fits in one small packet pass? */
async function headReprobe(
  io: ModeIo,
  x: HttpExchange | undefined,
  lb: ModeObservation['lb'],
  analysis: FlowAnalysis | null,
): Promise<ModeObservation['reprobes']> {
  const suspectMtu = analysis?.stalled !== undefined || lb?.endedBy === 'unfinished';
  // A body that stopped is the same suspicion, capture or not: does a reply that fits in one small packet pass?
  const cut = x !== undefined && bodyCutShort(x.body);
  if ((suspectMtu && x !== undefined && x.behaviour !== 'http-response') || cut) {
    const head = await reprobe(io, { path: io.target.httpPath, method: 'HEAD' });
    if (head) return { head };
  }
  return {};
}

/** Read-only facts from the LB, when nothing in the capture left it for the probe (is it forwarding at all?). */
async function lbFacts(io: ModeIo, analysis: FlowAnalysis | null): Promise<ModeObservation['lbFacts']> {
  const facts: ModeObservation['lbFacts'] = {};
  const nothingLeft =
    analysis?.clientSyn &&
    !analysis.vipAnswer &&
    analysis.serverSide.length === 0 &&
    io.reach.connect.outcome !== 'connected';
  if (nothingLeft && io.session) {
    const ipForward = await readIpForward(io.session);
    if (ipForward !== undefined) facts.ipForward = ipForward;
  }
  return facts;
}

export async function observeMode(io: ModeIo, marker: string): Promise<ModeObservation> {
  const started = performance.now();
  const { target, capture, reach } = io;
  const request = io.socket ? { path: target.httpPath, host: hostHeader(target), marker } : undefined;
  const got = await exchangeOnProbe(io, marker);
  io.socket?.destroy();
  io.onSocket(undefined);
  const ended = capture ? await capture.stop() : undefined;
  const lb = capture && ended ? lbView(capture, ended) : null;
  // Before the analysis, as before the split: engine-lab's TCP proxy case failed when the analysis ran first.
  const proxyV1 = await proxyV1Reprobe(io, got.exchange);
  const analysis = lb
    ? analyzeFlows(lb.packets, { vip: target.vip, port: target.port, sourcePort: reach.connect.localPort, marker })
    : null;
  const reprobes = { ...proxyV1, ...(await headReprobe(io, got.exchange, lb, analysis)) };
  const facts = await lbFacts(io, analysis);
  return {
    ...(request ? { request } : {}),
    ...got,
    lb,
    reprobes,
    lbFacts: facts,
    ...(capture && io.skipProxyWait ? { tcpProxyWait: 'skipped' as const } : {}),
    ms: Math.round(performance.now() - started),
  };
}
