// tcpdump's running counts, printed on stderr when it gets SIGUSR1 (Linux's
// stand-in for SIGINFO) without stopping the capture. tcpdump prints them
// only between packets, after the last one counted was written and flushed
// (-U), so "N packets captured" says the first N records of its stdout are
// complete: a shared capture uses that as a sync point instead of a stop.

export interface CaptureStats {
  /** Packets tcpdump had written to its output when it printed this. */
  captured: number;
  /** What the kernel handed the socket (on Linux loopback, each packet twice: not a count of packets to come). */
  received: number;
  /** Cumulative since the capture started. */
  dropped: number;
}

const STATS_LINE = /(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel/g;

/** Feeds on stderr as it arrives (in pieces) and reports each complete stats line once. */
export class StatsReader {
  private pending = '';

  constructor(private readonly onStats: (s: CaptureStats) => void) {}

  push(text: string): void {
    this.pending += text;
    const lastBreak = this.pending.lastIndexOf('\n');
    if (lastBreak < 0) {
      // Bounded: a stats line is short, and nothing else tcpdump prints matters here.
      this.pending = this.pending.slice(-4096);
      return;
    }
    const complete = this.pending.slice(0, lastBreak);
    this.pending = this.pending.slice(lastBreak + 1);
    for (const m of complete.matchAll(STATS_LINE)) {
      this.onStats({ captured: Number(m[1]), received: Number(m[2]), dropped: Number(m[3]) });
    }
  }
}
