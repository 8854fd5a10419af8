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
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import type { Lab, VipKind } from '../lab/lab.js';
import { line, median } from './stats.js';

const RUNS = 10;

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
  for (let i = 0; i <= RUNS; i++) {
    const t = performance.now();
    const outcome = await runCheck(
      target,
      { ...checkOptions(), ladderPng },
      { session: () => Promise.resolve(session), ...(hubs ? { captureHubs: hubs } : {}) },
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
      line(`command → diagnosis, shared captures, healthy ${label} VIP`, `${Math.round(ms)} ms`, '≤ 60 ms', ms <= 60),
    );
  }
  return out;
}

export async function benchWarm(lab: Lab): Promise<string[]> {
  const labVip = labTarget(lab, 'haproxy-http');
  const target = { ...labVip, members: labVip.members.slice(0, 2) };
  if (!target.lb) throw new Error('lab target without LB access');
  const session = await SshSession.open(target.lb);
  const hubs = new TimedHubs();
  const out = ['Warm check (issue 16): in-process, pooled SSH session, healthy HAProxy http VIP, 2 members'];
  try {
    const shared = await timedChecks(target, session, hubs);
    // The first check started the captures: the figures are the leases of the checks that followed.
    const starts = hubs.starts.slice(1, RUNS + 1);
    const ends = hubs.ends.slice(1, RUNS + 1);
    const own = await timedChecks(target, session, undefined);
    const plain = await timedChecks(target, session, hubs, false);
    const m = (xs: number[]): number => Math.round(median(xs));
    const total = median(shared.map((c) => c.ms));
    out.push(
      line(
        `command → diagnosis, shared captures (a worker's default) (median of ${RUNS})`,
        `${Math.round(total)} ms`,
        '≤ 60 ms',
        total <= 60,
      ),
    );
    out.push(line('command → diagnosis, a capture of its own per check', `${m(own.map((c) => c.ms))} ms`));
    out.push(...(await otherKinds(lab, session, hubs)));
    const reports = shared.map((c) => c.outcome.report);
    const modes = shared.map((c) => c.outcome.observation.mode);
    const exchange = m(modes.map((x) => x?.exchange?.endMs ?? Number.NaN));
    const leaseEnd = m(ends);
    const s2 = m(reports.map((r) => stepMs(r, 2)));
    out.push('  where the time goes (shared captures; medians):');
    out.push(line('  lease on the LB capture (sync with tcpdump), before step 1', `${m(starts)} ms`));
    out.push(line('  step 1 (reach)', `${m(reports.map((r) => stepMs(r, 1)))} ms`));
    out.push(line('  step 2 (mode)', `${s2} ms`));
    out.push(line('    of which GET / exchange', `${exchange} ms`));
    out.push(line('    of which lease end (sync with tcpdump)', `${leaseEnd} ms`));
    out.push(
      line(
        "    rest: the wait for a TCP proxy's connection (≤ 10 ms) and for the capture to show the handshake and the proxied request",
        `${Math.max(0, s2 - exchange - leaseEnd)} ms`,
      ),
    );
    out.push(
      line('  step 3 (servers: 2 members, from the LB and directly)', `${m(reports.map((r) => stepMs(r, 3)))} ms`),
    );
    out.push(
      line(
        '  ladder PNGs still waited for (difference to the same checks without them)',
        `${Math.round(total - median(plain.map((c) => c.ms)))} ms`,
      ),
    );
  } finally {
    await hubs.closeAll();
    session.close();
  }
  return out;
}
