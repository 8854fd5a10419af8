// One check's run: the sessions to the LB (or every node of an HA group), the
// captures, the probe's socket, what a cancel has to stop, and the chain that
// hands each decided step to onStep in order. run-check.ts drives it step by
// step; this class holds the state those steps share.
import type { Duplex } from 'node:stream';
import { LbcheckError } from '../../errors.js';
import { reserveLocalPort, type ConnectResult } from '../../probe/tcp-connect.js';
import { readInterfaceNames } from '../../remote/interface-names.js';
import { SshSession } from '../../remote/ssh-session.js';
import { renderPngOffThread, warmPngPool } from '../../evidence/png-pool.js';
import { CaptureLease, type CheckCapture } from '../../capture/shared-capture.js';
import type { CaptureHubs } from '../../capture/capture-hubs.js';
import { stepEvidenceDraftFor } from '../../evidence/check-evidence.js';
import type { CheckOptions, ResolvedTarget } from '../../target/check-target.js';
import type { LbAccess } from '../../remote/lb-access.js';
import { decideCheck } from '../decide/decide-check.js';
import { stopForCancel, stopWithin, type CancelCleanup, type CancelStops } from './cancel-cleanup.js';
import {
  groupCaptures,
  nodeObservations,
  openGroup,
  startGroupCaptures,
  type GroupNode,
  type OpenedNode,
} from './lb-group.js';
import type { Evidence } from '../../model/evidence.js';
import { renderDraft } from '../../evidence/step-evidence.js';
import { OBSERVATION_VERSION, type CheckObservation, type ObservedTarget } from '../observation.js';
import { observeMode } from './observe-mode.js';
import { observeReach, probeEvidenceFacts, startCaptures, type Captures, type ReachProbe } from './observe-reach.js';
import { observeServers } from './observe-servers.js';
import type { ProxyKindMemory } from './proxy-kind-memory.js';
import type { ModeStep, Step } from '../../model/report.js';

export class CheckCancelledError extends LbcheckError {
  override name = 'CheckCancelledError';
  constructor(
    /** What the check had running when it was cancelled, and what of it is gone (undefined: nothing had started). */
    readonly cleanup?: CancelCleanup,
  ) {
    super('input', 'the check was cancelled');
  }
}

/** How long a cancelled check waits for its captures and probes to exit before it reports what is still stopping. */
export const CANCEL_STOP_BUDGET_MS = 600;

export interface CheckDeps {
  /** A ready session to the LB; workers pass a pooled, warm one. */
  session?: (lb: LbAccess) => Promise<SshSession>;
  onStep?: (step: Step, evidence: Evidence[]) => void | Promise<void>;
  signal?: AbortSignal;
  /** Capture at the vantage point too (tells RST from ICMP); default on. */
  localCapture?: boolean;
  /** A worker's shared captures (one tcpdump per LB and target, leased per check); else each check its own. */
  captureHubs?: CaptureHubs;
  /** A worker's memory of which targets proved HTTP proxies: step 2 skips a wait for those. */
  proxyKinds?: ProxyKindMemory;
}

const noop = (): void => undefined;

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

export function observedTarget(t: ResolvedTarget): ObservedTarget {
  return {
    vip: t.vip,
    port: t.port,
    protocol: t.protocol,
    tls: t.tls,
    members: t.members.map((m) => ({ host: m.host, port: m.port })),
    httpPath: t.httpPath,
    expectStatus: t.expectStatus,
    ...(t.name ? { name: t.name } : {}),
    ...(t.sni ? { sni: t.sni } : {}),
    ...(t.lb ? { lb: t.lb.label } : {}),
    ...(t.activeActive ? { activeActive: true } : {}),
  };
}

/** How long a check's captures may run at most (its tcpdump bound): the probes' own timeouts and a margin. */
export function captureBoundSeconds(options: Pick<CheckOptions, 'connectTimeoutMs' | 'silentMs'>): number {
  return Math.ceil((options.connectTimeoutMs + options.silentMs) / 1000) + 10;
}

type CaptureStarts = [CheckCapture | undefined, CheckCapture | { unavailable: string }, GroupNode[]];

export class CheckRun {
  readonly startedAt = new Date();
  /** Every evidence file of the steps handed to onStep so far, in order. */
  readonly evidence: Evidence[] = [];
  private readonly target: ResolvedTarget;
  private readonly options: CheckOptions;
  private readonly deps: CheckDeps;
  /** An HA group's nodes (captured on all at once); undefined for a single LB. */
  private readonly group: LbAccess[] | undefined;
  /** Sessions this check opened itself are closed by it; a worker's pooled ones are not. */
  private readonly ownsSessions: boolean;
  private readonly boundSeconds: number;
  private opened: OpenedNode[] = [];
  /** The session steps 2 and 3 run on: the LB's, or the node's that handled the probe. */
  private session: SshSession | undefined;
  private interfaces: (Promise<Map<number, string>> | undefined)[] = [];
  private sourcePort = 0;
  private captures: Captures = { lb: undefined, local: undefined };
  private nodes: GroupNode[] = [];
  private socket: Duplex | undefined;
  private localStopping: Promise<unknown> | undefined;
  /** The step whose probes are running: a cancel waits for them to end too (their sockets are destroyed). */
  private probing: { what: string; work: Promise<unknown> } | undefined;
  /** Set while the captures are starting: a cancel then stops them as they arrive (their exits, once stopped). */
  private starting: Promise<CaptureStarts> | undefined;
  private cancelStopped = false;
  /** Where each node's command list stood when step 1 began. */
  private from1: number[] = [];
  /** A lease on a capture another check started: its command line is not among this check's, so say what runs. */
  private sharedNote: string[] = [];
  /**
   * Steps reach onStep in order through this chain; each waits for its own PNG (rendered off-thread while the
   * next step's I/O runs) and for the step before it. Caught where it is extended so a failure waiting its turn
   * is not an unhandled rejection; it is rethrown where the chain is awaited.
   */
  private delivered: Promise<void> = Promise.resolve();
  private obs!: CheckObservation;
  private reach!: ReachProbe;

  constructor(target: ResolvedTarget, options: CheckOptions, deps: CheckDeps) {
    this.target = target;
    this.options = options;
    this.deps = deps;
    this.group = target.lbNodes && target.lbNodes.length > 1 ? target.lbNodes : undefined;
    this.ownsSessions = deps.session === undefined;
    this.boundSeconds = captureBoundSeconds(options);
  }

  /** Wraps a wait so a cancel interrupts it. */
  readonly cancellable = <T>(p: Promise<T>): Promise<T> => untilAborted(p, this.deps.signal);

  checkCancel(): void {
    if (this.deps.signal?.aborted) throw new CheckCancelledError();
  }

  private track<T>(what: string, work: Promise<T>): Promise<T> {
    this.probing = { what, work };
    return work;
  }

  /** The observation so far (complete once step 3 ran or the check stopped early). */
  get observation(): CheckObservation {
    return this.obs;
  }

  /** The sessions: one to the LB, or one per node of an HA group, all at once; none without SSH access. */
  async openSessions(): Promise<void> {
    this.checkCancel();
    const { deps, group } = this;
    const lb = this.target.lb;
    const open = deps.session ?? ((a: LbAccess) => SshSession.open(a));
    const opening: Promise<OpenedNode[]> = group
      ? openGroup(group, open)
      : lb
        ? open(lb).then((s) => [{ access: lb, session: s }])
        : Promise.resolve([]);
    // Cancelled while connecting: the sessions this check opened itself are closed when they arrive.
    void opening.then(
      (nodes) => this.ownsSessions && deps.signal?.aborted && nodes.forEach((o) => o.session?.close()),
      () => undefined,
    );
    this.opened = await this.cancellable(opening);
    this.session = this.opened.find((o) => o.session)?.session;
    this.from1 = this.mark();
    if (this.options.ladderPng !== false) warmPngPool();
    // Read alongside the capture start (one more channel on the same session), not after it.
    this.interfaces = this.opened.map((o) =>
      o.session ? readInterfaceNames(o.session).catch(() => new Map<number, string>()) : undefined,
    );
  }

  /** The exact remote commands per step, from every node (labelled when there are several). */
  private mark(): number[] {
    return this.opened.map((o) => o.session?.commands.length ?? 0);
  }

  private commandsSince(from: number[]): string[] {
    return [
      ...(from === this.from1 ? this.sharedNote : []),
      ...this.opened.flatMap((o, i) =>
        (o.session?.commands.slice(from[i] ?? 0) ?? []).map((c) => (this.group ? `# on ${o.access.label}\n${c}` : c)),
      ),
    ];
  }

  /** Decides the observation so far and queues the newest step, with its evidence, for onStep. */
  private emit(n: 1 | 2 | 3, commandsFrom: number[]): Step {
    const obs = this.obs;
    const decided = decideCheck(obs);
    const step = decided.steps.find((s) => s.step === n);
    if (!step) throw new Error(`step ${n} was observed but not decided`);
    const draft = stepEvidenceDraftFor(
      step,
      obs,
      decided.deciding[n] ?? [],
      this.commandsSince(commandsFrom),
      this.options.ladderPng !== false,
    );
    const rendered = renderDraft(draft, renderPngOffThread);
    this.delivered = Promise.all([this.delivered, rendered]).then(async ([, ev]) => {
      this.evidence.push(...ev);
      const refs = ev.map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType }));
      await this.deps.onStep?.({ ...step, evidence: refs }, ev);
    });
    this.delivered.catch(() => undefined);
    return step;
  }

  /** The LB's capture (every node's for an HA group) and the vantage point's, on a reserved source port. */
  async startCaptures(): Promise<void> {
    const { group, options, target } = this;
    // HA groups capture on every node for one check: no shared captures there.
    const hubs = group ? undefined : this.deps.captureHubs;
    const sourcePort = await (hubs ? hubs.reservePort(options.sourceAddress) : reserveLocalPort(options.sourceAddress));
    this.sourcePort = sourcePort;
    const [remoteStart, localStart] = startCaptures(group ? undefined : this.session, target, sourcePort, {
      boundSeconds: this.boundSeconds,
      localCapture: this.deps.localCapture !== false,
      hubs,
    });
    const groupStart = group
      ? startGroupCaptures(this.opened, target, sourcePort, this.boundSeconds)
      : Promise.resolve([]);
    // Even when cancelled mid-start, the captures must be stopped: the cancel takes them when they arrive.
    const startingAll = Promise.all([remoteStart, localStart, groupStart]);
    this.starting = startingAll;
    startingAll.catch(noop);
    const [remote, localOrWhy, started] = await this.cancellable(startingAll);
    this.starting = undefined;
    this.nodes = started;
    if (group && !this.nodes.some((n) => n.capture))
      throw this.nodes.find((n) => n.failure)?.failure ?? new Error('no LB node could capture');
    this.captures = {
      lb: remote,
      local: 'unavailable' in localOrWhy ? undefined : localOrWhy,
      ...('unavailable' in localOrWhy ? { localUnavailable: localOrWhy.unavailable } : {}),
    };
    if (remote instanceof CaptureLease && !this.commandsSince(this.from1).includes(remote.command))
      this.sharedNote = [`# capture shared by this target's checks, already running on the LB:\n${remote.command}`];
    this.checkCancel();
  }

  /** Step 1: the probe's connection, as the captures saw it; for an HA group, which node handled it. */
  async observeReach(): Promise<Step> {
    const { group, options, deps } = this;
    const connecting = (c: Promise<ConnectResult>): Promise<ConnectResult> => {
      void c.then(
        (r) => deps.signal?.aborted && r.socket?.destroy(),
        () => undefined,
      );
      return this.cancellable(this.track("step 1's probe connection", c));
    };
    const reach = await observeReach(
      this.target,
      this.captures,
      this.sourcePort,
      options.connectTimeoutMs,
      connecting,
      group ? groupCaptures(this.nodes) : undefined,
      options.sourceAddress,
      deps.signal,
    );
    this.reach = reach;
    this.socket = reach.socket;
    // The vantage capture's part ends with step 1: stopped now, its counts (received, dropped) are step 1's proof.
    const localEnd = this.captures.local?.stop().catch(() => undefined);
    this.localStopping = localEnd;
    const probeSide = probeEvidenceFacts(reach.observation, this.captures.local, await localEnd);
    const handler = reach.handledBy ?? 0;
    if (group) {
      this.session = this.nodes[handler]?.session;
      this.captures = { ...this.captures, lb: this.nodes[handler]?.capture };
    }
    const names = (await this.interfaces[group ? handler : 0]) ?? new Map<number, string>();
    const views = (reach.nodeViews ?? []).map((v, i) => (i === handler ? reach.observation.lb : v));
    this.obs = {
      ...this.observationHead(),
      ...(names.size > 0 ? { lbInterfaces: Object.fromEntries(names) } : {}),
      ...probeSide.interfaces,
      reach: group
        ? { ...probeSide.reach, nodes: await nodeObservations(this.nodes, views), handledBy: handler }
        : probeSide.reach,
    };
    const step = this.emit(1, this.from1);
    this.checkCancel();
    return step;
  }

  private observationHead(): Pick<CheckObservation, 'version' | 'id' | 'observedAt' | 'target' | 'options'> {
    const { options } = this;
    return {
      version: OBSERVATION_VERSION,
      id: options.id,
      observedAt: this.startedAt.toISOString(),
      target: observedTarget(this.target),
      options: { all: options.all, connectTimeoutMs: options.connectTimeoutMs, silentMs: options.silentMs },
    };
  }

  /** Step 2: the request on the probe's connection, the rest of the LB capture, follow-up probes. */
  async observeMode(): Promise<ModeStep> {
    const { reach, options } = this;
    const mode = await this.track(
      "step 2's probe of the VIP",
      observeMode(
        {
          target: this.target,
          options,
          reach: reach.observation,
          socket: reach.socket,
          capture: this.captures.lb,
          session: this.session,
          cancellable: this.cancellable,
          onSocket: (s) => (this.socket = s),
          skipProxyWait: this.deps.proxyKinds?.knownHttpProxy(this.target) === true,
        },
        `${options.id}-${reach.observation.connect.localPort}`,
      ),
    );
    this.obs = { ...this.obs, mode };
    const step = this.emit(2, this.from1) as ModeStep;
    this.deps.proxyKinds?.learn(this.target, step);
    this.checkCancel();
    return step;
  }

  /** Step 3: every member probed from here and from the LB. */
  async observeServers(modeStep: ModeStep | undefined): Promise<void> {
    const { options } = this;
    const from3 = this.mark();
    const servers = await this.cancellable(
      this.track(
        "step 3's probes of the members",
        observeServers(this.target, modeStep, this.session, options.connectTimeoutMs, options.sourceAddress),
      ),
    );
    this.obs = { ...this.obs, servers };
    this.emit(3, from3);
  }

  /**
   * A cancel: everything running is stopped now, and said only once gone (or said to be still stopping): see
   * cancel-cleanup.ts. The error to throw says which.
   */
  async cancelled(): Promise<CheckCancelledError> {
    this.cancelStopped = true;
    this.socket?.destroy();
    const stops: CancelStops = { items: [], kept: [] };
    const lbName = (label: string | undefined): string => `the capture on the LB${label ? ` (${label})` : ''}`;
    if (this.nodes.length === 0) stopForCancel(this.captures.lb, lbName(this.target.lb?.label), stops);
    for (const n of this.nodes) stopForCancel(n.capture, lbName(n.access.label), stops);
    stopForCancel(this.captures.local, 'the capture on the probing host (this worker)', stops);
    if (this.starting) {
      const exits = this.starting.then(([r, l, g]) => {
        const s: CancelStops = { items: [], kept: [] };
        stopForCancel(r, '', s);
        for (const n of g) stopForCancel(n.capture, '', s);
        if (!('unavailable' in l)) stopForCancel(l, '', s);
        return Promise.all(s.items.map((i) => i.exited));
      });
      stops.items.push({ what: 'the captures, which were starting', exited: exits.then(noop, noop) });
    }
    if (this.probing) stops.items.push({ what: this.probing.what, exited: this.probing.work.then(noop, noop) });
    return new CheckCancelledError(await stopWithin(stops.items, stops.kept, CANCEL_STOP_BUDGET_MS));
  }

  /** However the check ended: the socket and captures stopped, own sessions closed, decided steps handed on. */
  async close(): Promise<void> {
    this.socket?.destroy();
    // A cancelled check's captures were stopped above, and their ends are not waited for here (the bound).
    if (!this.cancelStopped) {
      await this.captures.lb?.stop().catch(() => undefined);
      for (const n of this.nodes) await n.capture?.stop().catch(() => undefined);
      await (this.localStopping ?? this.captures.local?.stop().catch(() => undefined));
    }
    if (this.ownsSessions) for (const o of this.opened) o.session?.close();
    // A check that failed after a step was decided still hands that step to onStep, as before pipelining.
    await this.delivered.catch(() => undefined);
  }

  /** Every step handed to onStep (rejects as the first failing onStep or render did). */
  allDelivered(): Promise<void> {
    return this.delivered;
  }
}
