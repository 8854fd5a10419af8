// Runs the checklist end to end in two phases per step: observe (captures,
// probes, SSH: observe-*.ts) then decide (pure: decide-check.ts). Each step is
// handed to onStep the moment it is decided, so chat can post it before the
// next one runs; the final report is decided from the whole observation.
import type { Duplex } from 'node:stream';
import { LocalCapture } from '../capture/local-capture.js';
import { LbcheckError } from '../errors.js';
import { reserveLocalPort, type ConnectResult } from '../probe/tcp-connect.js';
import { readInterfaceNames } from '../remote/interface-names.js';
import { SshSession } from '../remote/ssh-session.js';
import { stepEvidenceFor } from './check-evidence.js';
import {
  withDefaults,
  type CheckOptions,
  type CheckTarget,
  type LbAccess,
  type ResolvedTarget,
} from './check-target.js';
import { decideCheck, stopsTheCheck } from './decide-check.js';
import type { Evidence } from './evidence.js';
import { OBSERVATION_VERSION, type CheckObservation, type ObservedTarget } from './observation.js';
import { observeMode } from './observe-mode.js';
import { observeReach, startCaptures, type Captures } from './observe-reach.js';
import { observeServers } from './observe-servers.js';
import { SCHEMA_VERSION, type ModeStep, type Report, type Step } from '../model/report.js';

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
  /** Everything the I/O phase saw: re-deciding it gives the same report (fixtures are recorded from this). */
  observation: CheckObservation;
}

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
  return {
    schemaVersion: SCHEMA_VERSION,
    id: obs.id,
    target: {
      vip: t.vip,
      port: t.port,
      ...(t.lb ? { lb: t.lb } : {}),
      ...(t.name ? { name: t.name } : {}),
      ...(t.tls ? { tls: true } : {}),
    },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    steps: withEvidence,
    diagnosis: { ...decided.diagnosis, evidence: withEvidence.flatMap((s) => s.evidence.map((e) => e.name)) },
  };
}

export async function runCheck(input: CheckTarget, options: CheckOptions, deps: CheckDeps = {}): Promise<CheckOutcome> {
  const target = withDefaults(input);
  const startedAt = new Date();
  const allEvidence: Evidence[] = [];
  const cancellable = <T>(p: Promise<T>): Promise<T> => untilAborted(p, deps.signal);
  const checkCancel = (): void => {
    if (deps.signal?.aborted) throw new CheckCancelledError();
  };
  const lb = target.lb;
  checkCancel();
  const session = lb ? await cancellable((deps.session ?? ((a: LbAccess) => SshSession.open(a)))(lb)) : undefined;
  const ownsSession = session !== undefined && deps.session === undefined;
  const boundSeconds = Math.ceil((options.connectTimeoutMs + options.silentMs) / 1000) + 10;
  const partial = {
    version: OBSERVATION_VERSION as typeof OBSERVATION_VERSION,
    id: options.id,
    observedAt: startedAt.toISOString(),
    target: observedTarget(target),
    options: { all: options.all, connectTimeoutMs: options.connectTimeoutMs, silentMs: options.silentMs },
  };
  let captures: Captures = { lb: undefined, local: undefined };
  let socket: Duplex | undefined;
  const commandsBefore = (): number => session?.commands.length ?? 0;

  /** Decides the observation so far and hands the newest step, with its evidence, to onStep. */
  const emit = async (obs: CheckObservation, n: 1 | 2 | 3, commandsFrom: number): Promise<Step> => {
    const decided = decideCheck(obs);
    const step = decided.steps.find((s) => s.step === n);
    if (!step) throw new Error(`step ${n} was observed but not decided`);
    const ev = stepEvidenceFor(
      step,
      obs,
      decided.deciding[n] ?? [],
      session?.commands.slice(commandsFrom) ?? [],
      options.ladderPng !== false,
    );
    allEvidence.push(...ev);
    const refs = ev.map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType }));
    await deps.onStep?.({ ...step, evidence: refs }, ev);
    return step;
  };

  const from1 = commandsBefore();
  // Read alongside the capture start (one more channel on the same session), not after it.
  const interfaces = session ? readInterfaceNames(session).catch(() => new Map<number, string>()) : undefined;
  try {
    const sourcePort = await reserveLocalPort();
    const [remoteStart, localStart] = startCaptures(session, target, sourcePort, {
      boundSeconds,
      localCapture: deps.localCapture !== false,
    });
    // Even when cancelled mid-start, the captures must be stopped: take them when they arrive.
    void Promise.all([remoteStart, localStart]).then(
      ([r, l]) => {
        if (deps.signal?.aborted) {
          void r?.stop();
          if (l instanceof LocalCapture) void l.stop();
        }
      },
      () => undefined,
    );
    const [remote, localOrWhy] = await cancellable(Promise.all([remoteStart, localStart]));
    captures = {
      lb: remote,
      local: localOrWhy instanceof LocalCapture ? localOrWhy : undefined,
      ...(localOrWhy instanceof LocalCapture ? {} : { localUnavailable: localOrWhy.unavailable }),
    };
    checkCancel();

    // Step 1: reach
    const connecting = (c: Promise<ConnectResult>): Promise<ConnectResult> => {
      void c.then(
        (r) => deps.signal?.aborted && r.socket?.destroy(),
        () => undefined,
      );
      return cancellable(c);
    };
    const reach = await observeReach(target, captures, sourcePort, options.connectTimeoutMs, connecting);
    socket = reach.socket;
    const names = interfaces ? await interfaces : new Map<number, string>();
    let obs: CheckObservation = {
      ...partial,
      ...(names.size > 0 ? { lbInterfaces: Object.fromEntries(names) } : {}),
      reach: reach.observation,
    };
    const reachStep = await emit(obs, 1, from1);
    checkCancel();

    // Step 2: mode
    let modeStep: ModeStep | undefined;
    if (!stopsTheCheck(reachStep, options.all)) {
      const mode = await observeMode(
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
      );
      obs = { ...obs, mode };
      modeStep = (await emit(obs, 2, from1)) as ModeStep;
      checkCancel();
    }

    // Step 3: servers
    if (!stopsTheCheck(reachStep, options.all) && !(modeStep && stopsTheCheck(modeStep, options.all))) {
      const from3 = commandsBefore();
      const servers = await cancellable(observeServers(target, modeStep, session, options.connectTimeoutMs));
      obs = { ...obs, servers };
      await emit(obs, 3, from3);
    }
    return { report: reportOf(obs, startedAt, allEvidence), evidence: allEvidence, observation: obs };
  } finally {
    socket?.destroy();
    await captures.lb?.stop().catch(() => undefined);
    await captures.local?.stop().catch(() => undefined);
    if (ownsSession) session?.close();
  }
}
