// Issue 16's warm-check figure: command to diagnosis in-process on a warm
// (pooled) SSH session, healthy HAProxy http VIP, as a worker runs it: with
// its shared captures (one tcpdump per LB and target kept running, leased per
// check: the default), and, beside it, with a capture of its own per check.
// Where the time goes is read from the checks themselves (their observations)
// and from timing the shared captures' sync points as the checks use them.
import { CaptureHubs } from '../../src/capture/capture-hubs.js';
import type { CheckTarget } from '../../src/target/check-target.js';
import type { LbAccess } from '../../src/remote/lb-access.js';
import type { Report } from '../../src/model/report.js';
import { runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import type { CaptureLease } from '../../src/capture/shared-capture.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { ProxyKindMemory } from '../../src/checklist/observe/proxy-kind-memory.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import type { Lab, VipKind } from '../lab/lab.js';
import { line, median } from './stats.js';

const RUNS = 10;
/** Issue 28's target for a warm check (issue 16 had set 60 ms). */
const TARGET_MS = 30;
const targetText = `≤ ${TARGET_MS} ms`;

/** Shared captures whose LB leases are timed: the sync with tcpdump at a check's start and at its end. */
class TimedHubs extends CaptureHubs {
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  override async lbLease(
    session: SshSession,
    access: LbAccess,
    target: CheckTarget,
    sourcePort: number,
    boundSeconds: number,
  ): Promise<CaptureLease | undefined> {
    const t = performance.now();
    const lease = await super.lbLease(session, access, target, sourcePort, boundSeconds);
    this.starts.push(performance.now() - t);
    if (!lease) throw new Error('the bench expected a shared capture on the lab LB');
    const stop = lease.stop.bind(lease);
    lease.stop = async () => {
      const s = performance.now();
      const end = await stop();
      this.ends.push(performance.now() - s);
      return end;
    };
    return lease;
  }
}

async function timedChecks(
  target: CheckTarget,
  session: SshSession,
  hubs: CaptureHubs | undefined,
  ladderPng = true,
): Promise<{ ms: number; outcome: CheckOutcome }[]> {
  const out: { ms: number; outcome: CheckOutcome }[] = [];
  // A worker's shared captures come with its memory of which targets proved HTTP proxies.
  const kinds = hubs ? { captureHubs: hubs, proxyKinds: new ProxyKindMemory() } : {};
  for (let i = 0; i <= RUNS; i++) {
    const t = performance.now();
    const outcome = await runCheck(
      target,
      { ...checkOptions(), ladderPng },
      { session: () => Promise.resolve(session), ...kinds },
    );
    const ms = performance.now() - t;
    const d = outcome.report.diagnosis;
    if (d.culprit !== 'none') throw new Error(`healthy VIP diagnosed as ${d.culprit}: ${d.summary}`);
    if (i > 0) out.push({ ms, outcome }); // the first run starts the shared captures and warms caches
  }
  return out;
}

const stepMs = (r: Report, n: number): number => r.steps.find((s) => s.step === n)?.ms ?? Number.NaN;

/** The same figure on the other LB kinds: an L4 forwarder and a TCP proxy end step 2's wait when they connect. */
async function otherKinds(lab: Lab, session: SshSession, hubs: CaptureHubs): Promise<string[]> {
  const kinds: [VipKind, string][] = [
    ['dnat', 'L4 DNAT'],
    ['haproxy-tcp', 'HAProxy TCP proxy'],
    ['nginx', 'nginx HTTP proxy'],
  ];
  const out: string[] = [];
  for (const [kind, label] of kinds) {
    const t = labTarget(lab, kind);
    const checks = await timedChecks({ ...t, members: t.members.slice(0, 2) }, session, hubs);
    const ms = median(checks.map((c) => c.ms));
    out.push(
      line(
        `command → diagnosis, shared captures, healthy ${label} VIP`,
        `${Math.round(ms)} ms`,
        targetText,
        ms <= TARGET_MS,
      ),
    );
  }
  return out;
}

const medianMs = (xs: number[]): number => Math.round(median(xs));

/** The shared-capture checks' time, step by step, and what the pictures add (the same checks drawing none). */
function whereTimeGoes(
  shared: { ms: number; outcome: CheckOutcome }[],
  plain: { ms: number }[],
  starts: number[],
  ends: number[],
): string[] {
  const reports = shared.map((c) => c.outcome.report);
  const modes = shared.map((c) => c.outcome.observation.mode);
  const exchange = medianMs(modes.map((x) => x?.exchange?.endMs ?? Number.NaN));
  const leaseEnd = medianMs(ends);
  const s2 = medianMs(reports.map((r) => stepMs(r, 2)));
  const skipped = modes.filter((x) => x?.tcpProxyWait === 'skipped').length;
  return [
    '  where the time goes (shared captures; medians):',
    line('  lease on the LB capture (sync with tcpdump), before step 1', `${medianMs(starts)} ms`),
    line('  step 1 (reach)', `${medianMs(reports.map((r) => stepMs(r, 1)))} ms`),
    line('  step 2 (mode)', `${s2} ms`),
    line('    of which GET / exchange', `${exchange} ms`),
    line('    of which lease end (sync with tcpdump)', `${leaseEnd} ms`),
    line(
      "    rest: the wait for a TCP proxy's connection (≤ 10 ms) and for the capture to show the handshake and the proxied request",
      `${Math.max(0, s2 - exchange - leaseEnd)} ms`,
    ),
    line(
      "    checks that skipped the TCP-proxy wait (this worker's last check of the VIP proved an HTTP proxy)",
      `${skipped} of ${modes.length}`,
    ),
    line('  step 3 (servers: 2 members, from the LB and directly)', `${medianMs(reports.map((r) => stepMs(r, 3)))} ms`),
    line(
      '  ladder PNGs still waited for (difference to the same checks without them)',
      `${Math.round(median(shared.map((c) => c.ms)) - median(plain.map((c) => c.ms)))} ms`,
    ),
  ];
}

export async function benchWarm(lab: Lab): Promise<string[]> {
  const labVip = labTarget(lab, 'haproxy-http');
  const target = { ...labVip, members: labVip.members.slice(0, 2) };
  if (!target.lb) throw new Error('lab target without LB access');
  const session = await SshSession.open(target.lb);
  const hubs = new TimedHubs();
  const out = ['Warm check (issues 16, 28): in-process, pooled SSH session, healthy HAProxy http VIP, 2 members'];
  try {
    const shared = await timedChecks(target, session, hubs);
    // The first check started the captures: the figures are the leases of the checks that followed.
    const starts = hubs.starts.slice(1, RUNS + 1);
    const ends = hubs.ends.slice(1, RUNS + 1);
    const own = await timedChecks(target, session, undefined);
    const plain = await timedChecks(target, session, hubs, false);
    const total = median(shared.map((c) => c.ms));
    const decided = median(plain.map((c) => c.ms));
    out.push(
      line(
        `command → diagnosis with its pictures, shared captures (a worker's default) (median of ${RUNS})`,
        `${Math.round(total)} ms`,
        targetText,
        total <= TARGET_MS,
      ),
      line(
        'command → diagnosis decided (the same checks, drawing no pictures)',
        `${Math.round(decided)} ms`,
        targetText,
        decided <= TARGET_MS,
      ),
      line(
        'command → diagnosis with its pictures, a capture of its own per check',
        `${medianMs(own.map((c) => c.ms))} ms`,
      ),
    );
    out.push(...(await otherKinds(lab, session, hubs)));
    out.push(...whereTimeGoes(shared, plain, starts, ends));
  } finally {
    await hubs.closeAll();
    session.close();
  }
  return out;
}
