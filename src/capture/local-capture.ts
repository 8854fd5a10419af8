// An optional capture at the vantage point (this machine). It is what tells a
// TCP reset from an ICMP unreachable, and who sent it, when the LB never saw
// the SYN. Needs tcpdump and CAP_NET_RAW here; without them the check still
// runs and says what it could not tell.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Packet } from './packet.js';
import { PacketCollector } from './packet-collector.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class LocalCapture {
  readonly maxPackets = 200;
  readonly maxBytes = 1024 * 1024;
  private readonly collector = new PacketCollector(this.maxBytes, () => this.child.kill('SIGINT'));
  private readonly exited: Promise<void>;
  private readonly bound: NodeJS.Timeout;

  private constructor(
    private readonly child: ChildProcess,
    maxSeconds: number,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.collector.push(d));
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

  /** Starts tcpdump locally, or returns the reason it cannot. */
  static async start(filter: string, maxSeconds: number): Promise<LocalCapture | { unavailable: string }> {
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
      '200',
      '-w',
      '-',
      filter,
    ];
    const argv = existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...tcpdump]
      : tcpdump;
    const child = spawn(argv[0] ?? 'tcpdump', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const capture = new LocalCapture(child, maxSeconds);
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
    if (ready === true) return capture;
    child.kill('SIGKILL');
    return { unavailable: ready };
  }

  get packets(): Packet[] {
    return this.collector.packets;
  }

  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    return this.collector.waitFor(test, timeoutMs);
  }

  async stop(): Promise<{ packets: Packet[]; pcap: Buffer; linkType: number | undefined }> {
    this.child.kill('SIGINT');
    // Cleared when tcpdump exits first, so no timer outlives the check.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (bound = setTimeout(r, 2000)))]);
    clearTimeout(bound);
    this.child.kill('SIGKILL');
    return { packets: this.collector.packets, pcap: this.collector.pcap, linkType: this.collector.header?.linkType };
  }
}
