// The shared captures of a long-lived process (a worker): per pooled LB
// session and target one tcpdump on the LB, per target one at the vantage
// point, each leased by every check of that target (shared-capture.ts). The
// one-shot CLI leases too, for its one check (hubsForOneCheck): a lease ends
// with a sync (a round trip), a capture of its own with tcpdump's exit (the
// kernel's packet-socket teardown, ~30 ms), and the CLI never waits for that.
//
// A shared capture's filter cannot name each check's source port, so the
// probes of checks that use it come from a fixed range, outside Linux's
// ephemeral ports (32768-60999) so that no other connection of this machine
// uses them; each lease keeps only its own port's flow.
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { LocalCapture } from './local-capture.js';
import type { Packet } from './packet.js';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture } from './remote-capture.js';
import { LIFETIME_MARGIN_S, SharedCapture, type CaptureLease, type SharedCaptureOptions } from './shared-capture.js';
import type { SshSession } from '../remote/ssh-session.js';
import { lbCaptureFilter, localCaptureFilter, type PortRange } from './capture-filter.js';
import type { CheckTarget } from '../target/check-target.js';
import type { LbAccess } from '../remote/lb-access.js';

export const PROBE_PORTS: PortRange = { first: 61000, last: 64999 };

/**
 * The next probe port to try, process-wide. A port is reused only after every other one in the range: a
 * 4-tuple used again too soon meets the last connection's TIME_WAIT on the server or conntrack on an L4 LB
 * (seen in the lab: the reused SYN is never answered). A random start, so a restarted worker does not begin
 * with the ports its previous run just used.
 */
let nextProbePort = randomInt(PROBE_PORTS.last - PROBE_PORTS.first + 1);

export const DEFAULT_SHARED_OPTIONS: SharedCaptureOptions = {
  // Each capture is restarted at most every few minutes: a bound on anything left running on the LB.
  maxSeconds: 600,
  // Checks of one incident come in bursts: keep the capture for the next one, not for ever.
  idleMs: 15_000,
  // Within the 3 s an own capture's stop may take before its stream is judged unfinished.
  syncTimeoutMs: 2_000,
};

/** A shared capture keeps no packets; its bounds are time and this. */
const SHARED_LIMITS = { maxPackets: 100_000_000, maxBytes: Number.MAX_SAFE_INTEGER, snaplen: 262 };

/** Whether a packet is part of some check's probe flow to this VIP but not this check's (another lease's). */
export function ownFlowOnly(target: CheckTarget, sourcePort: number): (p: Packet) => boolean {
  return (p) => {
    const t = p.tcp;
    if (!t || !p.ip) return true;
    const toVip = p.ip.dst === target.vip && t.dstPort === target.port;
    const fromVip = p.ip.src === target.vip && t.srcPort === target.port;
    if (!toVip && !fromVip) return true;
    const peer = toVip ? t.srcPort : t.dstPort;
    return peer === sourcePort || peer < PROBE_PORTS.first || peer > PROBE_PORTS.last;
  };
}

function portFree(port: number, address: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

type Hub = Promise<SharedCapture | undefined>;

export interface CaptureHubsOptions extends SharedCaptureOptions {
  /**
   * At most this many shared captures per LB connection (and at the vantage point): every capture socket costs
   * the LB a filter run per packet, so targets beyond it take turns (an idle capture makes room) or, when every
   * one is in use, the check captures on its own under the per-LB capture slots (LBCHECK_CAPTURES_PER_LB).
   */
  perHost: number;
}

export const DEFAULT_HUBS_OPTIONS: CaptureHubsOptions = { ...DEFAULT_SHARED_OPTIONS, perHost: 2 };

/**
 * Shared captures for a process that runs one check (the CLI): bounded by that check (a capture left behind by a
 * lost connection ends with it), one per host.
 */
export function hubsForOneCheck(boundSeconds: number): CaptureHubs {
  return new CaptureHubs({
    ...DEFAULT_HUBS_OPTIONS,
    maxSeconds: boundSeconds + LIFETIME_MARGIN_S + 5,
    // No next check: each capture stops as its lease ends (tcpdump's exit overlaps the steps that follow).
    idleMs: 0,
    perHost: 1,
  });
}

export class CaptureHubs {
  private readonly lb = new WeakMap<SshSession, Map<string, Hub>>();
  private readonly local = new Map<string, Hub>();
  private readonly all = new Set<Hub>();
  private readonly turns = new WeakMap<Map<string, Hub>, Promise<unknown>>();

  constructor(private readonly options: CaptureHubsOptions = DEFAULT_HUBS_OPTIONS) {}

  /** A free source port in the shared range (round robin: see nextProbePort). */
  async reservePort(sourceAddress?: string): Promise<number> {
    const size = PROBE_PORTS.last - PROBE_PORTS.first + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = PROBE_PORTS.first + (nextProbePort++ % size);
      if (await portFree(port, sourceAddress)) return port;
    }
    throw new Error(`no free source port in ${PROBE_PORTS.first}-${PROBE_PORTS.last} for the probe`);
  }

  /** A lease on this target's shared capture on the LB, or undefined: then the check captures on its own. */
  async lbLease(
    session: SshSession,
    access: LbAccess,
    target: CheckTarget,
    sourcePort: number,
    boundSeconds: number,
  ): Promise<CaptureLease | undefined> {
    // Through sudo the account cannot signal root's tcpdump, so there is no sync point: captures of its own.
    if (session.sudo) return undefined;
    const filter = lbCaptureFilter({
      vip: target.vip,
      port: target.port,
      sourcePort: PROBE_PORTS,
      members: target.members,
      sshPort: access.port,
    });
    const hubs = this.lb.get(session) ?? new Map<string, Hub>();
    this.lb.set(session, hubs);
    const start = (): Promise<SharedCapture> =>
      RemoteCapture.startShared(session, {
        ...SHARED_LIMITS,
        iface: access.captureInterface,
        filter,
        maxSeconds: this.options.maxSeconds,
      }).then((c) => new SharedCapture(c, c.commandLine, this.options));
    return this.leaseFrom(hubs, `${access.captureInterface} ${filter}`, start, target, sourcePort, boundSeconds);
  }

  /** The same at the vantage point. */
  async localLease(target: CheckTarget, sourcePort: number, boundSeconds: number): Promise<CaptureLease | undefined> {
    const filter = localCaptureFilter(target.vip, target.port, PROBE_PORTS);
    const start = async (): Promise<SharedCapture> => {
      const c = await LocalCapture.start(filter, this.options.maxSeconds, true);
      if ('unavailable' in c) throw new Error(c.unavailable);
      return new SharedCapture(c, `tcpdump (here) ${filter}`, this.options);
    };
    return this.leaseFrom(this.local, filter, start, target, sourcePort, boundSeconds);
  }

  private async leaseFrom(
    hubs: Map<string, Hub>,
    key: string,
    start: () => Promise<SharedCapture>,
    target: CheckTarget,
    sourcePort: number,
    boundSeconds: number,
  ): Promise<CaptureLease | undefined> {
    const keep = ownFlowOnly(target, sourcePort);
    const limits = { maxPackets: DEFAULT_CAPTURE_LIMITS.maxPackets, maxBytes: DEFAULT_CAPTURE_LIMITS.maxBytes };
    const seen = hubs.get(key);
    const running = seen ? await seen : undefined;
    if (running?.accepts(boundSeconds)) {
      const lease = await running.lease(keep, limits);
      if (lease) return lease;
      // Its sync failed (it had just died, or its stream stalled): it is retired; a new one below.
    }
    // The turn ends once the new capture has started (or failed to): the next check counts it.
    const shared = await this.oneAtATime(hubs, async () =>
      (await this.makeRoom(hubs, key)) ? this.hubFor(hubs, key, seen, start) : undefined,
    );
    return shared?.lease(keep, limits);
  }

  /**
   * Making room and starting a capture, one check at a time per host: two checks of new targets at once would
   * both stop the same idle capture and both start theirs, one capture over the bound.
   */
  private oneAtATime<T>(hubs: Map<string, Hub>, work: () => Promise<T>): Promise<T> {
    const next = (this.turns.get(hubs) ?? Promise.resolve()).then(work);
    this.turns.set(
      hubs,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Room for this key's capture among a host's: an idle other one is stopped to make it; false when all are busy. */
  private async makeRoom(hubs: Map<string, Hub>, key: string): Promise<boolean> {
    const others: [string, SharedCapture][] = [];
    for (const [k, h] of [...hubs]) {
      if (k === key) continue;
      const c = await h;
      if (c?.running) others.push([k, c]);
      else if (hubs.get(k) === h) hubs.delete(k);
    }
    if (others.length < this.options.perHost) return true;
    const idle = others.find(([, c]) => !c.busy);
    if (!idle) return false;
    hubs.delete(idle[0]);
    await idle[1].retire();
    return true;
  }

  /** A new capture in place of `replacing`, unless another check has already put one there (then that one). */
  private hubFor(hubs: Map<string, Hub>, key: string, replacing: Hub | undefined, start: () => Promise<SharedCapture>) {
    const now = hubs.get(key);
    return now !== replacing && now !== undefined ? now : this.startHub(hubs, key, start);
  }

  private startHub(hubs: Map<string, Hub>, key: string, start: () => Promise<SharedCapture>): Hub {
    // A failed start is not remembered: the check's own capture then reports why, and the next check retries.
    const hub = start().catch(() => undefined);
    hubs.set(key, hub);
    for (const h of this.all) void h.then((c) => (c?.running ? undefined : this.all.delete(h)));
    this.all.add(hub);
    return hub;
  }

  /** Stops the captures at the vantage point (this machine's tcpdump processes), settling when they have ended. */
  async closeHere(): Promise<void> {
    const here = [...this.local.values()];
    this.local.clear();
    await Promise.all(here.map(async (h) => (await h)?.retire()));
  }

  /** Stops every shared capture (a worker shutting down). */
  async closeAll(): Promise<void> {
    const hubs = [...this.all];
    this.all.clear();
    this.local.clear();
    await Promise.all(hubs.map(async (h) => (await h)?.retire()));
  }
}
