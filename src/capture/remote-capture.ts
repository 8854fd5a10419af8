// tcpdump on the LB, streamed back as pcap over an SSH channel and decoded as
// it arrives. Always bounded: packet count, snaplen, duration (a remote
// `timeout` wrapper, so it ends even if this process dies: closing an SSH
// channel does not stop a remote tcpdump) and bytes (enforced here). It also
// ends with its SSH connection: a heartbeat on the channel's stdin, which the
// remote side reads with a timeout (CAPTURE_HEARTBEAT).
import type { ClientChannel } from 'ssh2';
import { LbcheckError } from '../errors.js';
import type { SshSession } from '../remote/ssh-session.js';
import { commandLine } from '../remote/shell-quote.js';
import { CAPTURE_HEARTBEAT, CAPTURE_HELPER, CAPTURE_HELPER_PROTOCOL } from '../remote/lb-helpers.js';
import { helperRefusal, privileged, SUDO_REFUSAL, sudoRefusal } from '../remote/sudo.js';
import type { Packet } from './packet.js';
import { StatsReader, type CaptureStats } from './capture-stats.js';
import { exitCounts, nowUs, type CaptureFacts } from './capture-facts.js';
import { PacketCollector } from './packet-collector.js';
import { PcapFormatError, type PcapHeader } from './pcap-stream.js';
import type { CaptureEndReason, CheckCapture } from './shared-capture.js';

export interface CaptureLimits {
  /** Capture interface on the LB; "any" sees every interface (client and server side). */
  iface: string;
  filter: string;
  /**
   * The same filter as the capture helper's arguments (capture-filter.ts): an account without root captures only
   * through `lbcheck-capture`, which builds the expression itself. Without it such a capture cannot run.
   */
  helperFilter?: string[];
  snaplen: number;
  maxPackets: number;
  maxSeconds: number;
  maxBytes: number;
}

export const DEFAULT_CAPTURE_LIMITS: Omit<CaptureLimits, 'filter'> = {
  iface: 'any',
  snaplen: 262,
  // Generous: the filter already keeps unrelated traffic out, and a cap hit
  // before the deciding packet makes a step inconclusive, never a failure.
  maxPackets: 10000,
  maxSeconds: 30,
  maxBytes: 8 * 1024 * 1024,
};

export class CaptureUnavailableError extends LbcheckError {
  override name = 'CaptureUnavailableError';
  constructor(message: string, hint: string) {
    super('access', message, hint);
  }
}

export interface CaptureResult {
  packets: Packet[];
  header: PcapHeader | undefined;
  /** The raw pcap stream as received (capped at maxBytes). */
  pcap: Buffer;
  command: string;
  stderr: string;
  /** Why the capture ended: stopped by us, or a bound it hit. */
  /**
   * Why the capture ended: stopped by us, a bound it hit, or 'unfinished' when
   * the stream from the LB did not drain after the stop (the SSH path lost
   * packets, e.g. an MTU black hole): then packets may be missing.
   */
  endedBy: CaptureEndReason;
  droppedByKernel: number | null;
  receivedByFilter: number | null;
}

export function tcpdumpArgv(limits: CaptureLimits, sudo = false): string[] {
  if (sudo) return captureHelperArgv(limits);
  return [
    'timeout',
    '-s',
    'INT',
    '-k',
    '2',
    String(limits.maxSeconds),
    'tcpdump',
    '-i',
    limits.iface,
    '-nn',
    '-U',
    '--immediate-mode',
    '-s',
    String(limits.snaplen),
    '-c',
    String(limits.maxPackets),
    '-w',
    '-',
    limits.filter,
  ];
}

/**
 * Through sudo: the fixed helper, which runs the same `timeout … tcpdump …` as root after checking every
 * argument itself (lb-helpers.ts). Never tcpdump itself: sudo cannot keep a free-form argument in its place.
 */
function captureHelperArgv(limits: CaptureLimits): string[] {
  if (!limits.helperFilter)
    throw new CaptureUnavailableError(
      'this capture has no form the LB capture helper accepts, so it cannot run through sudo',
      'this is a bug in lbcheck: please report which step asked for it',
    );
  const numbers = [limits.maxSeconds, limits.maxPackets, limits.snaplen].map(String);
  return privileged([CAPTURE_HELPER, CAPTURE_HELPER_PROTOCOL, limits.iface, ...numbers, ...limits.helperFilter], true);
}

/** What tcpdump (or the shell, or `timeout`) prints when the capture cannot start. */
const STARTUP_FAILURE =
  /failed to run command|lbcheck-capture: refused|not found|No such file|permission|not permitted|syntax error|can't parse|tcpdump: [^\n]*(?:error|No such device|doesn't exist)/i;

/** Control characters shown as \\xNN, so server-supplied text never reaches chat as markup or escapes. */
function printable(b: Buffer): string {
  return b.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class RemoteCapture implements CheckCapture {
  private readonly collector: PacketCollector;
  private stderrText = '';
  private ended: CaptureResult['endedBy'] | undefined;
  private finished: Promise<{ code: number | null; signal: string | null }> | undefined;
  private channel: ClientChannel | undefined;
  private command = '';
  /** The capture's own command line (tcpdump, or the helper through sudo), whole: said when it is refused. */
  private captureCommand = '';
  /** What the LB wrote instead of pcap (a banner?), once the stream proved not to be pcap. */
  private nonPcap: string | undefined;
  private readonly statsListeners: ((s: CaptureStats) => void)[] = [];
  private readonly stats = new StatsReader((s) => {
    for (const l of this.statsListeners) l(s);
  });
  private listeningSince: number | undefined;
  /** Writes the heartbeat the remote side waits for (CAPTURE_HEARTBEAT) until the capture is stopped or ends. */
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly session: SshSession,
    readonly limits: CaptureLimits,
    /** One capture serving many checks (shared-capture.ts): packets are handed on, not kept. */
    private readonly shared: boolean,
  ) {
    this.collector = new PacketCollector(
      limits.maxBytes,
      () => {
        this.ended ??= 'byte-limit';
        this.kill();
      },
      !shared,
    );
  }

  /** Why the capture ended, once it has: stopped by us, or a bound it hit first. */
  get endedBy(): CaptureResult['endedBy'] | undefined {
    return this.ended;
  }

  get packets(): Packet[] {
    return this.collector.packets;
  }

  /** Starts tcpdump and resolves once it reports it is listening (never a fixed sleep). */
  static async start(session: SshSession, limits: CaptureLimits, startTimeoutMs = 5000): Promise<RemoteCapture> {
    const capture = new RemoteCapture(session, limits, false);
    await capture.begin(startTimeoutMs);
    return capture;
  }

  /**
   * A capture for many checks (shared-capture.ts): keeps no packets, and each line written to its stdin asks
   * tcpdump for its counts (SIGUSR1). Not through sudo: the account cannot signal root's tcpdump.
   */
  static async startShared(session: SshSession, limits: CaptureLimits, startTimeoutMs = 5000): Promise<RemoteCapture> {
    if (session.sudo) throw new Error('a shared capture cannot run through sudo');
    const capture = new RemoteCapture(session, limits, true);
    await capture.begin(startTimeoutMs);
    return capture;
  }

  /**
   * The wrapper's shell: ends tcpdump when our end of the channel closes or our heartbeat stops (the connection
   * was lost); when shared, relays count requests. Through sudo the capture helper reads the heartbeat itself
   * (it runs as root: the account could not signal root's tcpdump), so the line is only the helper's command.
   */
  private wrapperLine(): string {
    this.captureCommand = commandLine(tcpdumpArgv(this.limits, this.session.sudo));
    if (this.session.sudo) return this.captureCommand;
    const tcpdump = `${this.captureCommand} & pid=$!`;
    // `read -t` where the login shell has it (bash, ksh, zsh, busybox); a shell without it (dash) says so with
    // status 2 at once, and then the wrapper waits for the end of stdin only, as before the heartbeat.
    const beat = `t='-t ${CAPTURE_HEARTBEAT.missedAfterS}'; read -t 1 _ </dev/null 2>/dev/null || [ $? != 2 ] || t=`;
    if (!this.shared)
      return [tcpdump, beat, 'while read $t -r _; do :; done', 'kill -INT $pid 2>/dev/null', 'wait $pid'].join('; ');
    // Shared: a background reader relays each non-empty line on stdin as SIGUSR1 to tcpdump (`timeout`'s child:
    // the signal would end `timeout` itself) and stops it at end of input or when the heartbeat (empty lines)
    // stops; the shell waits for tcpdump, so the channel closes when tcpdump ends for any reason (killed, its
    // bound) and a dead capture is noticed.
    // An asynchronous list reads /dev/null unless told otherwise: stdin is handed over as fd 3.
    // The child's pid is read with the shell's own `read` (a `$(cat …)` forked twice per sync, on the check's
    // path); pgrep only where the kernel has no /proc/…/children (CONFIG_PROC_CHILDREN).
    const relay =
      '(while read $t -r l <&3; do [ -n "$l" ] || continue; kids=; read -r kids </proc/$pid/task/$pid/children; ' +
      '[ -n "$kids" ] || kids=$(pgrep -P $pid); kill -USR1 $kids; done; kill -INT $pid) >/dev/null 2>&1 &';
    return `exec 3<&0; ${tcpdump}; ${beat}; ${relay} wait $pid`;
  }

  private async begin(startTimeoutMs: number): Promise<void> {
    // tcpdump runs in the background while the shell waits on the channel's
    // stdin: closing our end (or losing the SSH connection) makes `read` return
    // and the shell interrupts tcpdump, which flushes and exits. Stopping thus
    // costs no extra remote command, and a dead worker leaves nothing behind.
    // `timeout` bounds it even if the SSH connection hangs open.
    const line = this.wrapperLine();
    const handle = await this.session.execLine(line);
    this.command = line;
    this.channel = handle.channel;
    this.finished = handle.exit;
    this.beat(handle.channel);
    void handle.exit.then(() => clearInterval(this.heartbeat));
    let refuseStart: ((err: CaptureUnavailableError) => void) | undefined;
    handle.channel.on('data', (d: Buffer) => {
      if (this.nonPcap !== undefined) return;
      try {
        this.collector.push(d);
      } catch (err) {
        // Thrown out of ssh2's data event, this would tear down the whole (pooled) connection: fail this capture only.
        if (!(err instanceof PcapFormatError)) throw err;
        this.nonPcap = printable(this.collector.pcap.subarray(0, 120));
        this.ended ??= 'exited';
        // Also in the result's stderr, for a capture that had already started.
        this.stderrText += `\nlbcheck: the LB printed non-pcap output on tcpdump's stdout: ${this.nonPcap}\n`;
        handle.channel.end();
        this.collector.end();
        refuseStart?.(this.nonPcapError());
      }
    });
    await new Promise<void>((resolve, reject) => {
      refuseStart = reject;
      const timer = setTimeout(() => {
        // Ending the channel makes the remote shell stop tcpdump now, not at its `timeout` bound.
        handle.channel.end();
        reject(this.startError(`tcpdump did not report listening within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      handle.channel.stderr.on('data', (d: Buffer) => {
        this.stats.push(d.toString('utf8'));
        this.stderrText = (this.stderrText + d.toString('utf8')).slice(-8000);
        if (/listening on /.test(this.stderrText) && this.nonPcap === undefined) {
          this.listeningSince ??= nowUs();
          clearTimeout(timer);
          resolve();
        } else if (STARTUP_FAILURE.test(this.stderrText) || SUDO_REFUSAL.test(this.stderrText)) {
          // tcpdump failed in the background while the shell still waits on
          // stdin: end it now rather than at the start timeout, and let the
          // rest of the message arrive (it comes in pieces) before judging it.
          clearTimeout(timer);
          handle.channel.end();
          void Promise.race([handle.exit, new Promise((r) => setTimeout(r, 1000))]).then(() =>
            reject(this.startError('tcpdump failed to start')),
          );
        }
      });
      void handle.exit.then(() => {
        clearTimeout(timer);
        reject(
          this.nonPcap !== undefined
            ? this.nonPcapError()
            : this.startError('tcpdump exited before it started listening'),
        );
      });
    });
    void handle.exit.then(({ code }) => {
      this.ended ??=
        code === 124 ? 'time-limit' : this.collector.count >= this.limits.maxPackets ? 'packet-limit' : 'exited';
      this.collector.end();
    });
  }

  /** Packets decoded so far (kept or not). */
  get count(): number {
    return this.collector.count;
  }

  onPacket(listener: (p: Packet) => void): void {
    this.collector.onPacket(listener);
  }

  onStats(listener: (s: CaptureStats) => void): void {
    this.statsListeners.push(listener);
  }

  /** Asks a shared capture's tcpdump for its counts; they arrive through onStats. */
  requestStats(): void {
    if (!this.shared) throw new Error('only a shared capture relays count requests');
    if (this.channel?.writable) this.channel.write('s\n');
  }

  /** Settles when tcpdump on the LB has exited (or the channel is gone). */
  get done(): Promise<void> {
    return (this.finished ?? Promise.resolve()).then(() => undefined);
  }

  get commandLine(): string {
    return this.command;
  }

  private nonPcapError(): CaptureUnavailableError {
    return new CaptureUnavailableError(
      `the LB printed non-pcap output on tcpdump's stdout (${this.session.target}): ` +
        `${JSON.stringify(this.nonPcap ?? '')}`,
      'a login banner or a forced command in authorized_keys writes to stdout before tcpdump; make the capture ' +
        'account print nothing (no banner, no forced command) and try again',
    );
  }

  /** sudo, or the capture helper, refused: the whole command it refused is said, so it can be run by hand. */
  private sudoStartError(err: string): CaptureUnavailableError | undefined {
    const refused = sudoRefusal(err);
    const fix =
      'on the LB, run as root the install script `lbcheck sudoers` prints for your inventory (docs/lb-access.md)';
    if (refused && /not found/.test(refused))
      return new CaptureUnavailableError(
        `sudo is not installed on the LB ${this.session.target} (the entry says sudo: true)`,
        `install sudo, then ${fix}; or log in as an account that may capture`,
      );
    if (refused)
      return new CaptureUnavailableError(
        `sudo on ${this.session.target} refused the capture (${refused}); the command was: \`${this.captureCommand}\``,
        `sudo refuses the capture helper when its rule is missing or the helper is missing or changed (the rule ` +
          `pins its sha256): ${fix}; or use an account that may capture`,
      );
    const helper = helperRefusal(err);
    if (helper && /speaks another protocol/.test(helper))
      return new CaptureUnavailableError(
        `the capture helper on ${this.session.target} is from another lbcheck version and refused this one's ` +
          `protocol ${CAPTURE_HELPER_PROTOCOL} (${helper}); the command was: \`${this.captureCommand}\``,
        `reinstall the helper: ${fix} (this version's helper also stops tcpdump when lbcheck's connection is lost)`,
      );
    if (helper)
      return new CaptureUnavailableError(
        `the capture helper on ${this.session.target} refused the capture (${helper}); the command was: ` +
          `\`${this.captureCommand}\``,
        `the helper on the LB is from another lbcheck version, or lbcheck asked for something it does not ` +
          `allow: ${fix}`,
      );
    return undefined;
  }

  private startError(what: string): CaptureUnavailableError {
    const err = this.stderrText.trim();
    const viaSudo = this.session.sudo ? this.sudoStartError(err) : undefined;
    if (viaSudo) return viaSudo;
    if (
      /not found|No such file/i.test(err) ||
      (/failed to run command/.test(err) && !/permission|not permitted/i.test(err))
    ) {
      return new CaptureUnavailableError(
        `tcpdump is not installed on the LB ${this.session.target}`,
        'install tcpdump on the load balancer, or give lbcheck a host that can capture the VIP traffic',
      );
    }
    if (/permission|not permitted|Operation not permitted/i.test(err)) {
      return new CaptureUnavailableError(
        `the SSH user on ${this.session.target} may not capture packets (${err.split('\n')[0]})`,
        'the account needs CAP_NET_RAW and CAP_NET_ADMIN to capture: give them to tcpdump (setcap ' +
          "cap_net_raw,cap_net_admin=eip on the LB's tcpdump), or set sudo: true on the LB entry and run on the " +
          'LB the install script `lbcheck sudoers` prints',
      );
    }
    if (/syntax error|can't parse filter/i.test(err)) {
      return new CaptureUnavailableError(
        `tcpdump on ${this.session.target} rejected the capture filter: ${err}`,
        'this is a bug in lbcheck: please report the filter',
      );
    }
    if (/data link type|listening/i.test(err)) {
      // tcpdump began to talk, then its output stopped arriving: the SSH path, not tcpdump.
      return new CaptureUnavailableError(
        `capture on ${this.session.target} failed: ${what}; tcpdump had started (${err.split('\n')[0]}) but its ` +
          `output stopped arriving over SSH`,
        'the path between lbcheck and the LB loses packets (often full-size ones: an MTU black hole); check that ' +
          'path, or run lbcheck from a vantage point with a clean path to the LB',
      );
    }
    return new CaptureUnavailableError(
      `capture on ${this.session.target} failed: ${what}${err ? `: ${err}` : ''}`,
      'check that tcpdump runs on the LB for this SSH user',
    );
  }

  get header(): PcapHeader | undefined {
    return this.collector.header;
  }

  /** Where and how it captures, once tcpdump reported listening (the time is this process's clock). */
  get facts(): CaptureFacts | undefined {
    if (this.listeningSince === undefined) return undefined;
    return {
      host: this.session.target,
      iface: this.limits.iface,
      filter: this.limits.filter,
      startedAtUs: this.listeningSince,
    };
  }

  /** The first packet (already seen or yet to come) that passes test, or undefined at the deadline. */
  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    return this.collector.waitFor(test, timeoutMs);
  }

  /** An empty line every CAPTURE_HEARTBEAT.everyMs: the remote side ends tcpdump when they stop coming. */
  private beat(channel: ClientChannel): void {
    this.heartbeat = setInterval(() => {
      if (channel.writable) channel.write('\n');
    }, CAPTURE_HEARTBEAT.everyMs);
    // Never what keeps a process alive: the channel (its socket) does that while the capture runs.
    this.heartbeat.unref();
  }

  private kill(): void {
    clearInterval(this.heartbeat);
    this.channel?.end();
  }

  /** Stops tcpdump on the LB and returns everything captured. Idempotent. */
  async stop(): Promise<CaptureResult> {
    this.ended ??= 'stop';
    this.kill();
    if (this.finished) {
      // The bound's timer is cleared once tcpdump is gone: a pending 3 s timer
      // kept every one-shot `lbcheck run` alive 3 s after its report.
      let bound: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        this.finished.then(() => true),
        new Promise<boolean>((r) => (bound = setTimeout(() => r(false), 3000))),
      ]);
      clearTimeout(bound);
      // Still open: the remote `timeout` ends tcpdump at its bound in any case.
      if (!closed) {
        this.ended = 'unfinished';
        this.channel?.close();
      }
    }
    const counts = exitCounts(this.stderrText);
    return {
      packets: this.packets,
      header: this.collector.header,
      pcap: this.collector.pcap,
      command: this.command,
      stderr: this.stderrText.trim(),
      endedBy: this.ended,
      droppedByKernel: counts.droppedByKernel,
      receivedByFilter: counts.receivedByFilter,
    };
  }
}
