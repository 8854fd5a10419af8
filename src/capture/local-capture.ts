// An optional capture at the vantage point (this machine). It is what tells a
// TCP reset from an ICMP unreachable, and who sent it, when the LB never saw
// the SYN. Needs tcpdump and CAP_NET_RAW here; without them the check still
// runs and says what it could not tell.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StatsReader, type CaptureStats } from './capture-stats.js';
import { exitCounts, nowUs, type CaptureFacts } from './capture-facts.js';
import type { CaptureEnd, CheckCapture } from './shared-capture.js';
import type { Packet } from './packet.js';
import { PacketCollector } from './packet-collector.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A shared capture streams for minutes: its bound is time, not bytes (it keeps no packets). */
const SHARED_MAX_BYTES = Number.MAX_SAFE_INTEGER;
const SHARED_MAX_PACKETS = 100_000_000;

export class LocalCapture implements CheckCapture {
  readonly maxPackets = 200;
  readonly maxBytes = 1024 * 1024;
  /** Its bounds are not part of the vantage's verdict: the LB capture's are. */
  readonly endedBy = undefined;
  private readonly collector: PacketCollector;
  private readonly exited: Promise<void>;
  private readonly bound: NodeJS.Timeout;
  private readonly statsListeners: ((s: CaptureStats) => void)[] = [];
  private readonly stats = new StatsReader((s) => {
    for (const l of this.statsListeners) l(s);
  });
  /** tcpdump's stderr, its tail only: the counts it prints at exit are read from it. */
  private stderrTail = '';
  private startFacts: CaptureFacts | undefined;

  private constructor(
    private readonly child: ChildProcess,
    maxSeconds: number,
    private readonly shared: boolean,
  ) {
    this.collector = new PacketCollector(
      shared ? SHARED_MAX_BYTES : this.maxBytes,
      () => this.child.kill('SIGINT'),
      !shared,
    );
    child.stdout?.on('data', (d: Buffer) => this.collector.push(d));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      this.stats.push(text);
      this.stderrTail = (this.stderrTail + text).slice(-2000);
    });
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    void this.exited.then(() => this.collector.end());
    // tcpdump is our direct child (no `timeout` in between, whose death would orphan it):
    // bounded here, and by the kernel through pdeathsig if this process dies.
    this.bound = setTimeout(() => child.kill('SIGINT'), maxSeconds * 1000);
    this.bound.unref();
    live.add(child);
    void this.exited.then(() => {
      clearTimeout(this.bound);
      live.delete(child);
    });
  }

  /**
   * Starts tcpdump locally, or returns the reason it cannot. Shared (shared-capture.ts): no packet count bound,
   * packets handed on rather than kept, counts on request.
   */
  static async start(
    filter: string,
    maxSeconds: number,
    shared = false,
  ): Promise<LocalCapture | { unavailable: string }> {
    const tcpdump = [
      'tcpdump',
      // Started as root, tcpdump switches to user "tcpdump" after opening the device, and that switch clears the
      // parent-death signal below: it would outlive a killed worker until a packet hit the dead pipe. -Z root
      // keeps the user (it already holds the device); without root there is no switch and nothing to keep.
      ...(process.getuid?.() === 0 ? ['-Z', 'root'] : []),
      '-i',
      'any',
      '-nn',
      '-U',
      '--immediate-mode',
      '-s',
      '200',
      '-c',
      String(shared ? SHARED_MAX_PACKETS : 200),
      '-w',
      '-',
      filter,
    ];
    const argv = existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...tcpdump]
      : tcpdump;
    const child = spawn(argv[0] ?? 'tcpdump', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const capture = new LocalCapture(child, maxSeconds, shared);
    let stderr = '';
    const ready = await new Promise<true | string>((resolve) => {
      const timer = setTimeout(() => resolve('tcpdump did not start listening within 3 s'), 3000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve(err.message);
      });
      void capture.exited.then(() => {
        clearTimeout(timer);
        resolve(stderr.trim().split('\n')[0] || 'tcpdump exited');
      });
    });
    if (ready === true) {
      capture.startFacts = { host: 'the probing host', iface: 'any', filter, startedAtUs: nowUs() };
      return capture;
    }
    child.kill('SIGKILL');
    return { unavailable: ready };
  }

  /** Where and how it captures (the time is when tcpdump reported listening). */
  get facts(): CaptureFacts | undefined {
    return this.startFacts;
  }

  get packets(): Packet[] {
    return this.collector.packets;
  }

  get count(): number {
    return this.collector.count;
  }

  get limits(): { maxPackets: number; maxBytes: number } {
    return { maxPackets: this.maxPackets, maxBytes: this.maxBytes };
  }

  onPacket(listener: (p: Packet) => void): void {
    this.collector.onPacket(listener);
  }

  onStats(listener: (s: CaptureStats) => void): void {
    this.statsListeners.push(listener);
  }

  /** tcpdump is our direct child (setpriv execs it): SIGUSR1 makes it print its counts and go on. */
  requestStats(): void {
    if (!this.shared) throw new Error('only a shared capture answers count requests');
    this.child.kill('SIGUSR1');
  }

  get done(): Promise<void> {
    return this.exited;
  }

  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    return this.collector.waitFor(test, timeoutMs);
  }

  async stop(): Promise<CaptureEnd & { pcap: Buffer; linkType: number | undefined }> {
    this.child.kill('SIGINT');
    // Cleared when tcpdump exits first, so no timer outlives the check.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (bound = setTimeout(r, 2000)))]);
    clearTimeout(bound);
    this.child.kill('SIGKILL');
    // Printed at exit on SIGINT; absent when tcpdump had to be killed.
    const counts = exitCounts(this.stderrTail);
    return {
      packets: this.collector.packets,
      pcap: this.collector.pcap,
      linkType: this.collector.header?.linkType,
      endedBy: 'stop',
      droppedByKernel: counts.droppedByKernel,
      receivedByFilter: counts.receivedByFilter,
    };
  }
}
