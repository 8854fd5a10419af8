// Runs the checklist end to end: one LB capture shared by steps 1 and 2, a
// probe connection from this machine, then the members. Each step is handed to
// onStep the moment it is decided, so chat can post it before the next runs.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { LocalCapture } from '../capture/local-capture.js';
import type { Packet } from '../capture/packet.js';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture, type CaptureResult } from '../capture/remote-capture.js';
import { LbcheckError } from '../errors.js';
import { httpExchange, httpRequest, type HttpExchange } from '../probe/http-exchange.js';
import { tcpConnect, type ConnectResult } from '../probe/tcp-connect.js';
import { upgradeToTls } from '../probe/tls-upgrade.js';
import { SshSession } from '../remote/ssh-session.js';
import { lbCaptureFilter, localCaptureFilter } from './capture-filter.js';
import type { CheckOptions, CheckTarget, LbAccess } from './check-target.js';
import { diagnose } from './diagnose.js';
import { refOf, type Evidence } from './evidence.js';
import { analyzeFlows, findClientSyn, type FlowAnalysis } from './flow-analysis.js';
import { SCHEMA_VERSION, type ModeStep, type Report, type ServersStep, type Step } from './report.js';
import { stepEvidence } from './step-evidence.js';
import { decideModeStep } from './step-mode.js';
import { decideReach } from './step-reach.js';
import { probeMembers } from './step-servers.js';

export class CheckCancelledError extends LbcheckError {
  override name = 'CheckCancelledError';
  constructor() {
    super('input', 'the check was cancelled');
  }
}

export interface CheckDeps {
  /** A ready session to the LB; workers pass a pooled, warm one. */
  session?: (lb: LbAccess) => Promise<SshSession>;
  onStep?: (step: Step, evidence: Evidence[]) => void | Promise<void>;
  signal?: AbortSignal;
  /** Capture at the vantage point too (tells RST from ICMP); default on. */
  localCapture?: boolean;
}

export interface CheckOutcome {
  report: Report;
  evidence: Evidence[];
}

/** How long after the client's outcome the LB capture may still deliver the SYN. */
const SYN_GRACE_MS = 300;
/** How long a TCP proxy gets to open its server connection before we send the request. */
const PROXY_CONNECT_WAIT_MS = 150;
/** How long after the response the proxied request may still show up in the capture. */
const SERVER_SIDE_GRACE_MS = 300;

const elapsed = (since: number): number => Math.round(performance.now() - since);

/** Rejects as soon as the check is cancelled, so no wait outlives a cancel by more than a moment. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new CheckCancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CheckCancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function newCheckId(): string {
  return `chk-${randomBytes(5).toString('hex')}`;
}

function skipped(step: 2 | 3, why: string): ModeStep | ServersStep {
  const common = { verdict: 'skipped' as const, summary: why, evidence: [], ms: 0 };
  if (step === 2)
    return {
      ...common,
      step: 2,
      name: 'mode',
      mode: 'unknown',
      proxyKind: null,
      behaviour: 'not-connected',
      serverSide: [],
      timings: {},
    };
  return { ...common, step: 3, name: 'servers', members: [] };
}

export async function runCheck(
  target: CheckTarget,
  options: CheckOptions,
  deps: CheckDeps = {},
): Promise<CheckOutcome> {
  const startedAt = new Date();
  const steps: Step[] = [];
  const allEvidence: Evidence[] = [];
  const checkCancel = (): void => {
    if (deps.signal?.aborted) throw new CheckCancelledError();
  };
  const emit = async (step: Step, ev: Evidence[]): Promise<void> => {
    steps.push(step);
    allEvidence.push(...ev);
    await deps.onStep?.(step, ev);
  };

  const lb = target.lb;
  const cancellable = <T>(p: Promise<T>): Promise<T> => untilAborted(p, deps.signal);
  checkCancel();
  const session = lb ? await cancellable((deps.session ?? ((a: LbAccess) => SshSession.open(a)))(lb)) : undefined;
  const ownsSession = session !== undefined && deps.session === undefined;
  const bound = Math.ceil((options.connectTimeoutMs + options.silentMs) / 1000) + 10;
  let capture: RemoteCapture | undefined;
  let local: LocalCapture | undefined;
  let socket: Duplex | undefined;
  try {
    const starting = Promise.all([
      session && lb
        ? RemoteCapture.start(session, {
            ...DEFAULT_CAPTURE_LIMITS,
            iface: lb.captureInterface,
            maxSeconds: bound,
            filter: lbCaptureFilter(target.vip, target.port, lb.port),
          })
        : Promise.resolve(undefined),
      deps.localCapture === false
        ? Promise.resolve({ unavailable: 'disabled' })
        : LocalCapture.start(localCaptureFilter(target.vip, target.port), bound),
    ]);
    // Even when cancelled mid-start, the captures must be stopped: take them when they arrive.
    void starting.then(
      ([r, l]) => {
        if (deps.signal?.aborted) {
          void r?.stop();
          if (l instanceof LocalCapture) void l.stop();
        }
      },
      () => undefined,
    );
    const [remote, localOrWhy] = await cancellable(starting);
    capture = remote;
    local = localOrWhy instanceof LocalCapture ? localOrWhy : undefined;
    const localNote =
      localOrWhy instanceof LocalCapture ? [] : [`no capture at the vantage point: ${localOrWhy.unavailable}`];
    checkCancel();

    // Step 1: reach
    const t1 = performance.now();
    const connecting = tcpConnect(target.vip, target.port, options.connectTimeoutMs);
    void connecting.then(
      (c) => deps.signal?.aborted && c.socket?.destroy(),
      () => undefined,
    );
    const connect: ConnectResult = await cancellable(connecting);
    socket = connect.socket;
    const id = { vip: target.vip, port: target.port, sourcePort: connect.localPort };
    const fromVipToProbe = (p: Packet): boolean =>
      p.ip?.src === target.vip &&
      p.tcp?.srcPort === target.port &&
      p.tcp.dstPort === connect.localPort &&
      (p.tcp.flags.syn || p.tcp.flags.rst);
    if (capture) {
      // The LB's own answer follows the SYN, so waiting for it also waits for the SYN.
      if (connect.outcome === 'timeout') await capture.waitFor((p) => findClientSyn([p], id) !== undefined, 50);
      else await capture.waitFor(fromVipToProbe, SYN_GRACE_MS);
    }
    const lbSaw = capture ? findClientSyn(capture.packets, id) : undefined;
    if (capture && !lbSaw && local && connect.outcome !== 'timeout') {
      await local.waitFor(
        (p) =>
          (p.tcp?.dstPort === connect.localPort && p.ip?.src === target.vip) ||
          p.icmp?.unreachable?.original.srcPort === connect.localPort,
        100,
      );
    }
    const reach = decideReach({
      vip: target.vip,
      port: target.port,
      connect,
      probeFrom: connect.localAddress ?? 'this host',
      lbPackets: capture ? [...capture.packets] : null,
      localPackets: local ? [...local.packets] : null,
    });
    const reachMs = elapsed(t1);
    const reachEvidence = stepEvidence({
      step: 1,
      title: `Step 1: probe ${target.vip}:${target.port} from source port ${connect.localPort}; ${capture ? `capture on ${lb?.label}` : 'no LB capture'}`,
      pcap: capture?.header
        ? {
            linkType: capture.header.linkType,
            snaplen: capture.header.snaplen,
            label: 'lb',
            packets: clientFlow(capture.packets, id),
          }
        : undefined,
      deciding: reach.deciding,
      notes: [reach.summary, ...localNote],
      commands: session ? [...session.commands] : [],
      timings: { connectMs: connect.ms, stepMs: reachMs },
    });
    const { deciding: _d1, ...reachStep } = reach;
    await emit({ ...reachStep, ms: reachMs, evidence: reachEvidence.map(refOf) }, reachEvidence);
    checkCancel();
    const stopAfter = (n: 1 | 2): boolean => !options.all && steps[n - 1]?.verdict === 'fail';

    // Step 2: mode
    let analysis: FlowAnalysis | null = null;
    let captureResult: CaptureResult | undefined;
    if (stopAfter(1)) {
      steps.push(
        skipped(2, 'Not run: step 1 failed. lbcheck stops at the first failing step (use --all to run every step).'),
      );
    } else {
      const t2 = performance.now();
      const marker = `${options.id}-${connect.localPort}`;
      let exchange: HttpExchange | undefined;
      let tlsInfo: ModeStep['tls'];
      if (connect.socket) {
        if (capture)
          await capture.waitFor(
            (p) => !!p.tcp?.flags.syn && !p.tcp.flags.ack && p.ip?.dst !== target.vip && p.index > (lbSaw?.index ?? 0),
            PROXY_CONNECT_WAIT_MS,
          );
        let stream: Duplex = connect.socket;
        if (target.tls) {
          const up = await upgradeToTls(connect.socket, target.sni ?? target.vip, options.connectTimeoutMs);
          if ('tls' in up) {
            stream = up.tls;
            tlsInfo = up.info;
            socket = up.tls;
          }
        }
        exchange = await cancellable(
          httpExchange(stream, httpRequest(target.sni ?? target.vip, marker), options.silentMs),
        );
        if (capture)
          await capture.waitFor(
            (p) => p.tcp?.payload.includes(marker) === true && p.ip?.dst !== target.vip,
            SERVER_SIDE_GRACE_MS,
          );
      }
      socket?.destroy();
      socket = undefined;
      captureResult = capture ? await capture.stop() : undefined;
      capture = undefined;
      analysis = captureResult ? analyzeFlows(captureResult.packets, { ...id, marker }) : null;
      const mode = decideModeStep({
        vip: target.vip,
        port: target.port,
        connect,
        exchange,
        analysis,
        ...(tlsInfo ? { tls: tlsInfo } : {}),
      });
      const modeMs = elapsed(t2);
      const modeEvidence = stepEvidence({
        step: 2,
        title: `Step 2: how ${lb?.label ?? 'the LB'} handles ${target.vip}:${target.port} (capture on all LB interfaces)`,
        pcap: captureResult?.header
          ? {
              linkType: captureResult.header.linkType,
              snaplen: captureResult.header.snaplen,
              label: 'lb',
              packets: relatedPackets(captureResult.packets, analysis),
            }
          : undefined,
        deciding: mode.deciding,
        notes: [
          mode.summary,
          ...(exchange ? [`response head: ${exchange.statusLine ?? '(none)'}`] : []),
          ...(captureResult
            ? [
                `capture ended by ${captureResult.endedBy}; ${captureResult.packets.length} packets${captureResult.droppedByKernel ? `, ${captureResult.droppedByKernel} dropped by kernel` : ''}`,
              ]
            : []),
        ],
        commands: session ? [...session.commands] : [],
        timings: { ...mode.timings, stepMs: modeMs },
      });
      const { deciding: _d2, ...modeStep } = mode;
      await emit({ ...modeStep, ms: modeMs, evidence: modeEvidence.map(refOf) }, modeEvidence);
    }
    checkCancel();

    // Step 3: servers
    if (stopAfter(1) || stopAfter(2)) {
      steps.push(
        skipped(
          3,
          `Not run: step ${stopAfter(1) ? 1 : 2} failed. lbcheck stops at the first failing step (use --all to run every step).`,
        ),
      );
    } else {
      const t3 = performance.now();
      const before = session?.commands.length ?? 0;
      const members =
        target.members.length > 0
          ? target.members.map((m) => ({ ...m, source: 'configured' as const }))
          : discoveredMembers(analysis);
      const servers = await cancellable(
        probeMembers({ members, protocol: target.protocol, session, timeoutMs: options.connectTimeoutMs }),
      );
      const serversMs = elapsed(t3);
      const serversEvidence = stepEvidence({
        step: 3,
        title: 'Step 3: pool members from the LB and directly',
        deciding: [],
        notes: [servers.summary],
        commands: session ? session.commands.slice(before) : [],
        timings: { stepMs: serversMs },
        extra: [],
      });
      await emit({ ...servers, ms: serversMs, evidence: serversEvidence.map(refOf) }, serversEvidence);
    }

    const report: Report = {
      schemaVersion: SCHEMA_VERSION,
      id: options.id,
      target: {
        vip: target.vip,
        port: target.port,
        ...(lb ? { lb: lb.label } : {}),
        ...(target.name ? { name: target.name } : {}),
        ...(target.tls ? { tls: true } : {}),
      },
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      steps: steps.sort((a, b) => a.step - b.step),
      diagnosis: { ...diagnose(steps), ...stoppedAfter(steps) },
    };
    return { report, evidence: allEvidence };
  } finally {
    socket?.destroy();
    await capture?.stop().catch(() => undefined);
    await local?.stop().catch(() => undefined);
    if (ownsSession) session?.close();
  }
}

function stoppedAfter(steps: Step[]): { stoppedAfter?: 1 | 2 } {
  const failed = steps.find((s) => s.verdict === 'fail');
  const skippedLater = steps.some(
    (s) => s.verdict === 'skipped' && s.evidence.length === 0 && s.summary.startsWith('Not run'),
  );
  return failed && skippedLater && failed.step !== 3 ? { stoppedAfter: failed.step } : {};
}

function clientFlow(packets: readonly Packet[], id: { vip: string; port: number; sourcePort: number }): Packet[] {
  return packets.filter(
    (p) =>
      (p.ip?.dst === id.vip && p.tcp?.dstPort === id.port && p.tcp.srcPort === id.sourcePort) ||
      (p.ip?.src === id.vip && p.tcp?.srcPort === id.port && p.tcp.dstPort === id.sourcePort),
  );
}

/** The client flow plus every server-side flow the analysis tied to the probe. */
function relatedPackets(packets: readonly Packet[], a: FlowAnalysis | null): Packet[] {
  if (!a?.clientSyn?.tcp || !a.clientAddress) return [];
  const keys = new Set(a.serverSide.map((s) => `${s.src}:${s.syn.tcp?.srcPort}|${s.address}:${s.port}`));
  const vip = a.clientSyn.ip?.dst;
  const sport = a.clientSyn.tcp.srcPort;
  return packets.filter((p) => {
    if (!p.ip || !p.tcp) return false;
    if ((p.tcp.srcPort === sport || p.tcp.dstPort === sport) && (p.ip.src === vip || p.ip.dst === vip)) return true;
    return (
      keys.has(`${p.ip.src}:${p.tcp.srcPort}|${p.ip.dst}:${p.tcp.dstPort}`) ||
      keys.has(`${p.ip.dst}:${p.tcp.dstPort}|${p.ip.src}:${p.tcp.srcPort}`)
    );
  });
}

function discoveredMembers(a: FlowAnalysis | null): { host: string; port: number; source: 'discovered' }[] {
  const seen = new Map<string, { host: string; port: number; source: 'discovered' }>();
  for (const s of a?.serverSide ?? [])
    seen.set(`${s.address}:${s.port}`, { host: s.address, port: s.port, source: 'discovered' });
  return [...seen.values()];
}
