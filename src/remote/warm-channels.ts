// Exec channels opened before they are needed. sshd runs every exec request
// through the account's login shell, and the login shells of real LBs (vendor
// profiles) take about 0.3 s to start: paid once per command, one after the
// other, that cost dominates a check. A warm channel runs a constant loader
// instead of a command: its shell starts at once, in parallel with whatever
// else the check is doing, then waits for one command line on stdin. Handing
// it the line later costs a round trip instead of a shell start-up.
//
// Security: the line handed over is exactly the command line exec would have
// sent (built by shell-quote.ts, recorded in SshSession.commands), sent over
// the same authenticated connection; the loader itself is a constant. The
// loader's `eval "$line"` parses the line once, as `sh -c line` does, so
// quoting means what it meant before. A line with a newline is never handed
// over (`read` would take only its first line); such a line is exec'd as before.
//
// Stdin: `read` reads a pipe one byte at a time (POSIX shells must not read
// past the newline of input they cannot seek), so everything after the line
// stays for the command itself (the capture still reads its heartbeat and EOF).
import type { ClientChannel } from 'ssh2';

/** The command every warm channel runs; fixed, no input in it. */
export const LOADER = 'IFS= read -r lbcheck_line && eval "$lbcheck_line"';

/** An idle warm channel is closed after this long, well below any shell's idle TMOUT (which would end `read`). */
export const WARM_IDLE_MS = 30_000;

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** An exec channel that is open on the server, with how it ends. */
export interface OpenedExec {
  channel: ClientChannel;
  /** Resolves when the channel closes (its output read to the end), with the command's exit status. */
  exit: Promise<ExitStatus>;
}

interface Warm {
  opened: Promise<OpenedExec | undefined>;
  /** The loader ended before it was handed a line (a shell that exits at once, an idle timeout). */
  gone: boolean;
  expiry: NodeJS.Timeout;
}

export class WarmChannels {
  private idle: Warm[] = [];
  /** Set when the server refused a channel (MaxSessions): no more warming until one of ours closes. */
  private paused = false;
  private closed = false;

  constructor(
    /** Opens an exec channel running the given command (the session's own exec). */
    private readonly openExec: (command: string) => Promise<OpenedExec>,
    /** How many channels are kept idle; each counts against the server's MaxSessions (OpenSSH: 10). */
    readonly keep: number,
    private readonly idleMs = WARM_IDLE_MS,
  ) {}

  /** Idle warm channels (opened or opening). */
  get size(): number {
    return this.idle.length;
  }

  /** Resolves once every idle channel has opened (its shell is starting) or failed to. */
  async opened(): Promise<void> {
    await Promise.all(this.idle.map((w) => w.opened));
  }

  /** Opens channels until `keep` are idle. */
  topUp(): void {
    while (!this.closed && !this.paused && this.idle.length < this.keep) this.idle.push(this.start());
  }

  /** A channel of the session closed: a slot the server refused may be free again. */
  resume(): void {
    this.paused = false;
  }

  /**
   * Hands line to a warm channel and returns it, or undefined when there is none to hand it to (then the
   * caller execs the line itself). Takes an idle channel even while it is still opening: its shell started
   * earlier than a new one would, and the line waits in its stdin.
   */
  async take(line: string): Promise<OpenedExec | undefined> {
    if (line.includes('\n')) return undefined;
    this.topUp();
    // One the server refused is skipped for the next: the caller's own exec is tried only when no warm channel
    // is left, so idle warm channels never hold the slots an exec then finds taken. Bounded, in case every new
    // one fails too.
    for (let tries = 0; tries <= this.keep && !this.closed; tries++) {
      const warm = this.idle.shift();
      if (warm === undefined) break;
      clearTimeout(warm.expiry);
      this.topUp();
      const opened = await warm.opened;
      if (opened && !warm.gone && !this.closed) {
        opened.channel.write(`${line}\n`);
        return opened;
      }
    }
    return undefined;
  }

  /**
   * Closes every idle channel and resolves once the server has closed them: their slots are free for an exec
   * the server refused (MaxSessions reached). No more warming until one of the session's channels closes.
   */
  async release(): Promise<void> {
    this.paused = true;
    const idle = this.idle;
    for (const w of idle) this.forget(w);
    await Promise.all(idle.map(async (w) => closeChannel(await w.opened)));
  }

  /** Forgets every idle channel (the session is ending: closing the connection closes them). */
  close(): void {
    this.closed = true;
    for (const w of this.idle) clearTimeout(w.expiry);
    this.idle = [];
  }

  private start(): Warm {
    const warm: Warm = {
      opened: this.openExec(LOADER).then(
        (opened) => {
          // 'exit' rather than the exit promise: an idle channel's output is not read, so it never 'close's.
          opened.channel.once('exit', () => {
            warm.gone = true;
            this.forget(warm);
          });
          return opened;
        },
        () => {
          this.paused = true;
          this.forget(warm);
          return undefined;
        },
      ),
      gone: false,
      expiry: setTimeout(() => this.retire(warm), this.idleMs),
    };
    warm.expiry.unref();
    return warm;
  }

  private forget(warm: Warm): void {
    clearTimeout(warm.expiry);
    this.idle = this.idle.filter((w) => w !== warm);
  }

  /** Closes an idle channel that waited too long; it is not replaced until the session runs a command again. */
  private retire(warm: Warm): void {
    if (!this.idle.includes(warm)) return;
    this.forget(warm);
    void warm.opened.then(closeChannel);
  }
}

/** Closes a channel nobody reads, and resolves when the server has closed it too. */
function closeChannel(opened: OpenedExec | undefined): Promise<void> {
  if (!opened) return Promise.resolve();
  // Its output was never read: read it now (and drop it), or the channel never reports that it closed.
  opened.channel.resume();
  opened.channel.stderr.resume();
  opened.channel.close();
  return opened.exit.then(() => undefined);
}
