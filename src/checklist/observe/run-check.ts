// Runs the checklist end to end in two phases per step: observe (captures,
// probes, SSH: observe-*.ts) then decide (pure: decide-check.ts). Each step is
// handed to onStep the moment it is decided, so chat can post it before the
// next one runs; the final report is decided from the whole observation.
import type { Duplex } from 'node:stream';
import { LbcheckError } from '../../errors.js';
import { reserveLocalPort, type ConnectResult } from '../../probe/tcp-connect.js';
import { readInterfaceNames } from '../../remote/interface-names.js';
import { SshSession } from '../../remote/ssh-session.js';
import { renderPngOffThread, warmPngPool } from '../../evidence/png-pool.js';
import { CaptureLease, type CheckCapture } from '../../capture/shared-capture.js';
import type { CaptureHubs } from '../../capture/capture-hubs.js';
import { stepEvidenceDraftFor } from '../../evidence/check-evidence.js';
import { withDefaults, type CheckOptions, type CheckTarget, type ResolvedTarget } from '../../target/check-target.js';
import type { LbAccess } from '../../remote/lb-access.js';
import { decideCheck, stopsTheCheck } from '../decide/decide-check.js';
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
import { observeReach, probeEvidenceFacts, startCaptures, type Captures } from './observe-reach.js';
import { observeServers } from './observe-servers.js';
import { SCHEMA_VERSION, type ModeStep, type Report, type Step } from '../../model/report.js';

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
}

export interface CheckOutcome {
  report: Report;
  evidence: Evidence[];
  /** Everything the I/O phase saw: re-deciding it gives the same report (fixtures are recorded from this). */
  observation: CheckObservation;
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

function reportOf(obs: CheckObservation, startedAt: Date, evidence: Evidence[]): Report {
  const decided = decideCheck(obs);
  const byName = new Map(evidence.map((e) => [e.name, e]));
  const withEvidence = decided.steps.map((s) => ({
    ...s,
    evidence: [...byName.values()]
      .filter((e) => e.name.startsWith(`step${s.step}-`))
      .map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType })),
  })) as Step[];
  const t = obs.target;
  const nodes = obs.reach.nodes;
  const handler = nodes?.[obs.reach.handledBy ?? 0]?.label;
  return {
    schemaVersion: SCHEMA_VERSION,
    id: obs.id,
    target: {
      vip: t.vip,
      port: t.port,
      ...(handler ? { lb: handler } : t.lb ? { lb: t.lb } : {}),
      ...(nodes ? { lbGroup: nodes.map((n) => n.label) } : {}),
      ...(t.name ? { name: t.name } : {}),
      ...(t.tls ? { tls: true } : {}),
    },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    steps: withEvidence,
    diagnosis: { ...decided.diagnosis, evidence: withEvidence.flatMap((s) => s.evidence.map((e) => e.name)) },
  };
}

/** How long a check's captures may run at most (its tcpdump bound): the probes' own timeouts and a margin. */
export function captureBoundSeconds(options: Pick<CheckOptions, 'connectTimeoutMs' | 'silentMs'>): number {
  return Math.ceil((options.connectTimeoutMs + options.silentMs) / 1000) + 10;
}

// eslint-disable-next-line max-lines-per-function, complexity -- to split (issue 30, docs/architecture.md)
export async function runCheck(input: CheckTarget, options: CheckOptions, deps: CheckDeps = {}): Promise<CheckOutcome> {
  const target = withDefaults(input);
  const startedAt = new Date();
  const allEvidence: Evidence[] = [];
  const cancellable = <T>(p: Promise<T>): Promise<T> => untilAborted(p, deps.signal);
  const checkCancel = (): void => {
    if (deps.signal?.aborted) throw new CheckCancelledError();
  };
  const lb = target.lb;
  const group = target.lbNodes && target.lbNodes.length > 1 ? target.lbNodes : undefined;
  checkCancel();
  const open = deps.session ?? ((a: LbAccess) => SshSession.open(a));
  // An HA group: a session per node, all at once; steps 2 and 3 then use the node that handled the probe.
  const ownsSessions = deps.session === undefined;
  const opening: Promise<OpenedNode[]> = group
    ? openGroup(group, open)
    : lb
      ? open(lb).then((s) => [{ access: lb, session: s }])
      : Promise.resolve([]);
  // Cancelled while connecting: the sessions this check opened itself are closed when they arrive.
  void opening.then(
    (nodes) => ownsSessions && deps.signal?.aborted && nodes.forEach((o) => o.session?.close()),
    () => undefined,
  );
  const opened = await cancellable(opening);
  let session = opened.find((o) => o.session)?.session;
  const boundSeconds = captureBoundSeconds(options);
  const partial = {
    version: OBSERVATION_VERSION as typeof OBSERVATION_VERSION,
    id: options.id,
    observedAt: startedAt.toISOString(),
    target: observedTarget(target),
    options: { all: options.all, connectTimeoutMs: options.connectTimeoutMs, silentMs: options.silentMs },
  };
  let captures: Captures = { lb: undefined, local: undefined };
  let nodes: GroupNode[] = [];
  let socket: Duplex | undefined;
  let localStopping: Promise<unknown> | undefined;
  // The step whose probes are running: a cancel waits for them to end too (their sockets are destroyed).
  let probing: { what: string; work: Promise<unknown> } | undefined;
  // Set while the captures are starting: a cancel then stops them as they arrive (their exits, once stopped).
  let cancelStopped = false;
  let starting: Promise<[CheckCapture | undefined, CheckCapture | { unavailable: string }, GroupNode[]]> | undefined;
  const track = <T>(what: string, work: Promise<T>): Promise<T> => {
    probing = { what, work };
    return work;
  };
  // The exact remote commands per step, from every node (labelled when there are several).
  const mark = (): number[] => opened.map((o) => o.session?.commands.length ?? 0);
  const from1 = mark();
  // A lease on a capture another check started: its command line is not among this check's, so say what runs.
  let sharedNote: string[] = [];
  const commandsSince = (from: number[]): string[] => [
    ...(from === from1 ? sharedNote : []),
    ...opened.flatMap((o, i) =>
      (o.session?.commands.slice(from[i] ?? 0) ?? []).map((c) => (group ? `# on ${o.access.label}\n${c}` : c)),
    ),
  ];

  // Steps reach onStep in order through this chain; each waits for its own PNG (rendered off-thread while
  // the next step's I/O runs) and for the step before it. Caught here so a failure waiting its turn is
  // not an unhandled rejection; it is rethrown where the chain is awaited.
  let delivered: Promise<void> = Promise.resolve();
  if (options.ladderPng !== false) warmPngPool();

  /** Decides the observation so far and queues the newest step, with its evidence, for onStep. */
  const emit = (obs: CheckObservation, n: 1 | 2 | 3, commandsFrom: number[]): Step => {
    const decided = decideCheck(obs);
    const step = decided.steps.find((s) => s.step === n);
    if (!step) throw new Error(`step ${n} was observed but not decided`);
    const draft = stepEvidenceDraftFor(
      step,
      obs,
      decided.deciding[n] ?? [],
      commandsSince(commandsFrom),
      options.ladderPng !== false,
    );
    const rendered = renderDraft(draft, renderPngOffThread);
    delivered = Promise.all([delivered, rendered]).then(async ([, ev]) => {
      allEvidence.push(...ev);
      const refs = ev.map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType }));
      await deps.onStep?.({ ...step, evidence: refs }, ev);
    });
    delivered.catch(() => undefined);
    return step;
  };

  // Set when every step is observed; the report is made once the captures are stopped.
  let observed!: CheckObservation;
  // Read alongside the capture start (one more channel on the same session), not after it.
  const interfaces = opened.map((o) =>
    o.session ? readInterfaceNames(o.session).catch(() => new Map<number, string>()) : undefined,
  );
  try {
    // HA groups capture on every node for one check: no shared captures there.
    const hubs = group ? undefined : deps.captureHubs;
    const sourcePort = await (hubs ? hubs.reservePort(options.sourceAddress) : reserveLocalPort(options.sourceAddress));
    const [remoteStart, localStart] = startCaptures(group ? undefined : session, target, sourcePort, {
      boundSeconds,
      localCapture: deps.localCapture !== false,
      hubs,
    });
    const groupStart = group ? startGroupCaptures(opened, target, sourcePort, boundSeconds) : Promise.resolve([]);
    // Even when cancelled mid-start, the captures must be stopped: the cancel takes them when they arrive.
    const startingAll = Promise.all([remoteStart, localStart, groupStart]);
    starting = startingAll;
    startingAll.catch(noop);
    const [remote, localOrWhy, started] = await cancellable(startingAll);
    starting = undefined;
    nodes = started;
    if (group && !nodes.some((n) => n.capture))
      throw nodes.find((n) => n.failure)?.failure ?? new Error('no LB node could capture');
    captures = {
      lb: remote,
      local: 'unavailable' in localOrWhy ? undefined : localOrWhy,
      ...('unavailable' in localOrWhy ? { localUnavailable: localOrWhy.unavailable } : {}),
    };
    if (remote instanceof CaptureLease && !commandsSince(from1).includes(remote.command))
      sharedNote = [`# capture shared by this target's checks, already running on the LB:\n${remote.command}`];
    checkCancel();

    // Step 1: reach
    const connecting = (c: Promise<ConnectResult>): Promise<ConnectResult> => {
      void c.then(
        (r) => deps.signal?.aborted && r.socket?.destroy(),
        () => undefined,
      );
      return cancellable(track("step 1's probe connection", c));
    };
    const reach = await observeReach(
      target,
      captures,
      sourcePort,
      options.connectTimeoutMs,
      connecting,
      group ? groupCaptures(nodes) : undefined,
      options.sourceAddress,
      deps.signal,
    );
    socket = reach.socket;
    // The vantage capture's part ends with step 1: stopped now, its counts (received, dropped) are step 1's proof.
    const localEnd = captures.local?.stop().catch(() => undefined);
    localStopping = localEnd;
    const probeSide = probeEvidenceFacts(reach.observation, captures.local, await localEnd);
    const handler = reach.handledBy ?? 0;
    if (group) {
      session = nodes[handler]?.session;
      captures = { ...captures, lb: nodes[handler]?.capture };
    }
    const names = (await interfaces[group ? handler : 0]) ?? new Map<number, string>();
    const views = (reach.nodeViews ?? []).map((v, i) => (i === handler ? reach.observation.lb : v));
    let obs: CheckObservation = {
      ...partial,
      ...(names.size > 0 ? { lbInterfaces: Object.fromEntries(names) } : {}),
      ...probeSide.interfaces,
      reach: group
        ? { ...probeSide.reach, nodes: await nodeObservations(nodes, views), handledBy: handler }
        : probeSide.reach,
    };
    const reachStep = emit(obs, 1, from1);
    checkCancel();

    // Step 2: mode
    let modeStep: ModeStep | undefined;
    if (!stopsTheCheck(reachStep, options.all)) {
      const mode = await track(
        "step 2's probe of the VIP",
        observeMode(
          {
            target,
            options,
            reach: reach.observation,
            socket: reach.socket,
            capture: captures.lb,
            session,
            cancellable,
            onSocket: (s) => (socket = s),
          },
          `${options.id}-${reach.observation.connect.localPort}`,
        ),
      );
      obs = { ...obs, mode };
      modeStep = emit(obs, 2, from1) as ModeStep;
      checkCancel();
    }

    // Step 3: servers
    if (!stopsTheCheck(reachStep, options.all) && !(modeStep && stopsTheCheck(modeStep, options.all))) {
      const from3 = mark();
      const servers = await cancellable(
        track(
          "step 3's probes of the members",
          observeServers(target, modeStep, session, options.connectTimeoutMs, options.sourceAddress),
        ),
      );
      obs = { ...obs, servers };
      emit(obs, 3, from3);
    }
    observed = obs;
  } catch (err) {
    if (!(err instanceof CheckCancelledError)) throw err;
    cancelStopped = true;
    socket?.destroy();
    // Stopped now, and said only once gone (or said to be still stopping): see cancel-cleanup.ts.
    const stops: CancelStops = { items: [], kept: [] };
    const lbName = (label: string | undefined): string => `the capture on the LB${label ? ` (${label})` : ''}`;
    if (nodes.length === 0) stopForCancel(captures.lb, lbName(lb?.label), stops);
    for (const n of nodes) stopForCancel(n.capture, lbName(n.access.label), stops);
    stopForCancel(captures.local, 'the capture on the probing host (this worker)', stops);
    if (starting) {
      const exits = starting.then(([r, l, g]) => {
        const s: CancelStops = { items: [], kept: [] };
        stopForCancel(r, '', s);
        for (const n of g) stopForCancel(n.capture, '', s);
        if (!('unavailable' in l)) stopForCancel(l, '', s);
        return Promise.all(s.items.map((i) => i.exited));
      });
      stops.items.push({ what: 'the captures, which were starting', exited: exits.then(noop, noop) });
    }
    if (probing) stops.items.push({ what: probing.what, exited: probing.work.then(noop, noop) });
    throw new CheckCancelledError(await stopWithin(stops.items, stops.kept, CANCEL_STOP_BUDGET_MS));
  } finally {
    socket?.destroy();
    // A cancelled check's captures were stopped above, and their ends are not waited for here (the bound).
    if (!cancelStopped) {
      await captures.lb?.stop().catch(() => undefined);
      for (const n of nodes) await n.capture?.stop().catch(() => undefined);
      await (localStopping ?? captures.local?.stop().catch(() => undefined));
    }
    if (ownsSessions) for (const o of opened) o.session?.close();
    // A check that failed after a step was decided still hands that step to onStep, as before pipelining.
    await delivered.catch(() => undefined);
  }
  // Waited for after the captures are stopped, so the last PNG renders meanwhile: the report lists every
  // file with its sha256, that PNG's included.
  await delivered;
  return { report: reportOf(observed, startedAt, allEvidence), evidence: allEvidence, observation: observed };
}
