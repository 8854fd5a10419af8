// `lbcheck run`: one check from the command line, human or --json output
// (run-entry.ts parses the arguments and hands a --persist run to its kept
// process first). Only light modules are imported up front. The TCP connection to the LB's
// sshd opens first; then the SSH library loads and the handshake starts, and
// the check engine loads while the handshake and the LB's login shells (warm
// channels, ~0.3 s on real LBs) are under way: none of them waits for another.
import { isIP } from 'node:net';
import type { LbAccess } from '../remote/lb-access.js';
import type { SshSession as SshSessionType } from '../remote/ssh-session.js';
import { InputError } from '../errors.js';
import { newCheckId } from '../model/check-id.js';
import type { Inventory } from '../inventory/inventory-types.js';
import { preconnect, type Preconnected } from '../remote/preconnect.js';
import type { CheckTarget } from '../target/check-target.js';
import { resolveTarget, type TargetRequest } from '../target/resolve-target.js';
import { seconds, type ParsedArgs } from './run-args.js';
import { StepPrinter } from './step-printer.js';
import { PROCESS_OUTPUT, type RunOutput } from './run-output.js';
import type { CaptureHubs } from '../capture/capture-hubs.js';
import type { ProxyKindMemory } from '../checklist/observe/proxy-kind-memory.js';
import type { SessionPool } from '../remote/session-pool.js';

/** What the flags ask of the target; resolveTarget fills the rest from the inventory. */
function targetRequest(p: ParsedArgs): TargetRequest {
  const one = (name: string): string | undefined => p.flags.get(name)?.[0];
  const protocol = one('protocol');
  if (protocol !== undefined && protocol !== 'http' && protocol !== 'tcp')
    throw new InputError(`--protocol must be http or tcp, not ${JSON.stringify(protocol)}`);
  // Read once into names, so each spread's test narrows the value it spreads (an absent flag stays absent).
  const lbUrl = one('lb');
  const identity = one('identity');
  const knownHosts = one('known-hosts');
  const hostKey = one('host-key');
  const sni = one('sni');
  const caFile = one('ca-file');
  const captureInterface = one('capture-interface');
  return {
    target: p.positional[0] ?? '',
    members: p.flags.get('member') ?? [],
    ...(lbUrl ? { lbUrl } : {}),
    ...(identity ? { identity } : {}),
    ...(knownHosts ? { knownHosts } : {}),
    ...(hostKey ? { hostKey } : {}),
    ...(p.bools.has('tls') ? { tls: true } : {}),
    ...(sni ? { sni } : {}),
    ...(caFile ? { caFile } : {}),
    ...(protocol ? { protocol } : {}),
    ...(captureInterface ? { captureInterface } : {}),
    ...(p.bools.has('sudo') ? { sudo: true } : {}),
    ...(p.bools.has('no-warm-channels') ? { noWarmChannels: true } : {}),
  };
}

async function inventoryOf(configFile: string | undefined): Promise<Inventory | undefined> {
  return configFile ? (await import('../inventory/load-inventory.js')).loadInventory(configFile) : undefined;
}

function sourceAddress(source: string | undefined): string | undefined {
  if (source !== undefined && isIP(source) === 0)
    throw new InputError(`--source ${JSON.stringify(source)} is not an IP address`, 'give an address of this machine');
  return source;
}

interface CheckSessions {
  open: (lb: LbAccess) => Promise<SshSessionType>;
  /** Closes every session the check took, and the first one when the check never took it. */
  close: () => void;
}

/**
 * The check's SSH sessions; they are ours (the first on the early connection), so closing them is too. The
 * handshake on the early connection comes before the engine loads, and so does the opening of the session's warm
 * channels: loading blocks the event loop, and the channels' exec requests (which start the LB's slow login
 * shells) leave only as the LB's answers are read. The engine then loads while those shells start. A failure is
 * the check's, raised when the check asks for the session.
 */
async function checkSessions(target: CheckTarget, early: Preconnected | undefined): Promise<CheckSessions> {
  const { SshSession } = await import('../remote/ssh-session.js');
  const firstSession = target.lb
    ? SshSession.open({ ...target.lb, ...(early ? { preconnected: early } : {}) })
    : undefined;
  await firstSession?.then(
    (s) => s.warmed(),
    () => undefined,
  );
  const sessions: SshSessionType[] = [];
  // The first session is to the first LB; the other nodes of an HA group connect on their own.
  let firstUsed = false;
  return {
    open: async (lb) => {
      const useFirst = firstSession !== undefined && !firstUsed && lb === target.lb;
      firstUsed ||= useFirst;
      const session = await ((useFirst ? firstSession : undefined) ?? SshSession.open(lb));
      sessions.push(session);
      return session;
    },
    close: () => {
      for (const session of sessions) session.close();
      // The first session when the check never took it (it failed before asking for one).
      if (!firstUsed)
        void firstSession?.then(
          (s) => s.close(),
          () => undefined,
        );
      // Closed with its session when one took it; destroyed here otherwise (idempotent either way).
      early?.socket.destroy();
    },
  };
}

/** What a kept process (persist-server.ts) lends each run: warm sessions and captures, and its client's cancel. */
export interface KeptResources {
  sessions: SessionPool;
  hubs: CaptureHubs;
  proxyKinds: ProxyKindMemory;
  /** Aborted when the run's client goes away (Ctrl-C): the check is cancelled, its captures stopped. */
  signal: AbortSignal;
}

/** One-shot sessions, or the kept process's pool (which it closes itself when it ends). */
function sessionsFor(
  target: CheckTarget,
  kept: KeptResources | undefined,
  early: Preconnected | undefined,
): Promise<CheckSessions> {
  if (kept) return Promise.resolve({ open: (lb) => kept.sessions.get(lb), close: () => undefined });
  return checkSessions(target, early);
}

/** The check `lbcheck run` asked for (its arguments parsed: run-entry.ts), here or in a kept process. */
export async function runParsed(p: ParsedArgs, out: RunOutput = PROCESS_OUTPUT, kept?: KeptResources): Promise<number> {
  const one = (name: string): string | undefined => p.flags.get(name)?.[0];
  const request = targetRequest(p);
  const target = await resolveTarget(request, await inventoryOf(one('config') ?? process.env.LBCHECK_CONFIG));
  const timeout = seconds(one('timeout'), 'timeout', 3);
  const source = sourceAddress(one('source'));
  const silent = seconds(one('silent'), 'silent', 5);
  // The TCP connection to the LB's sshd opens first (a kept process has its session already).
  const early = target.lb && !kept ? preconnect(target.lb.host, target.lb.port) : undefined;
  const id = newCheckId();
  const dir = one('evidence-dir');
  // Human output streams each step as it is decided; --json is one document at the end.
  const printer = p.bools.has('json') ? undefined : new StepPrinter(id, (text) => out.stdout(text), dir);
  printer?.header(target);
  const sessions = await sessionsFor(target, kept, early);
  const [{ runCheck, captureBoundSeconds }, { writeEvidence }, { hubsForOneCheck }] = await Promise.all([
    import('../checklist/observe/run-check.js'),
    import('../evidence/write-evidence.js'),
    import('../capture/capture-hubs.js'),
  ]);
  const connectTimeoutMs = Math.round(timeout * 1000);
  const silentMs = Math.round(silent * 1000);
  // Leased captures: step 2 ends its lease with a sync instead of waiting for tcpdump to exit; the captures
  // stop as the process ends (its SSH connection closes, the vantage tcpdump dies with it). A kept process's
  // captures stay for its next run.
  const hubs = kept?.hubs ?? hubsForOneCheck(captureBoundSeconds({ connectTimeoutMs, silentMs }));
  try {
    const { report, evidence } = await runCheck(
      target,
      {
        id,
        all: p.bools.has('all'),
        connectTimeoutMs,
        silentMs,
        ...(source ? { sourceAddress: source } : {}),
        // Nothing is saved without --evidence-dir: no picture to render.
        ladderPng: dir !== undefined,
      },
      {
        session: sessions.open,
        captureHubs: hubs,
        localCapture: !p.bools.has('no-local-capture'),
        ...(kept ? { proxyKinds: kept.proxyKinds, signal: kept.signal } : {}),
        ...(printer ? { onStep: (step, ev) => printer.step(step, ev) } : {}),
      },
    );
    if (printer) {
      printer.finish(report);
      return 0;
    }
    if (dir) writeEvidence(dir, report, evidence);
    out.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    if (!kept) await closeOneShot(hubs, sessions);
  }
}

/**
 * The vantage point's tcpdump (stopping since step 1) is a child of this process: it is waited for. The LB's is
 * not: its exit is the ~30 ms the lease saved, and it ends with the SSH connection closed here.
 */
async function closeOneShot(hubs: CaptureHubs, sessions: CheckSessions): Promise<void> {
  await hubs.closeHere();
  void hubs.closeAll();
  sessions.close();
}
