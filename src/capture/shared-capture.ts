// One long-running tcpdump serving every check of one target on one LB (or at
// the vantage point), so a warm check pays neither tcpdump's start (~20 ms:
// the kernel's packet-socket setup) nor its stop (~25 ms) each time. Each
// check holds a lease: from a sync point at its start to a sync point at its
// end, it sees exactly what a capture of its own would have seen over the same
// span (its own probe flow, filtered again here, plus the server side), with
// its own packet and byte bounds and kernel-drop count.
//
// A sync point is tcpdump's own count of packets written, asked for with
// SIGUSR1 (capture-stats.ts): once that many records have been decoded here,
// nothing captured before the request is still on its way. Requests are
// serialised: signals can merge, and each answer must belong to one request.
import { nowUs, type CaptureFacts } from './capture-facts.js';
import type { CaptureStats } from './capture-stats.js';
import type { Packet } from './packet.js';
import { PacketBuffer } from './packet-buffer.js';

export type CaptureEndReason = 'stop' | 'packet-limit' | 'byte-limit' | 'time-limit' | 'exited' | 'unfinished';

/** What a check reads from its capture, whether its own tcpdump or a lease on a shared one. */
export interface CheckCapture {
  readonly packets: Packet[];
  readonly limits: { maxPackets: number; maxBytes: number };
  readonly endedBy: CaptureEndReason | undefined;
  /** Where, how and since when it captures (capture-facts.ts); absent where the capture cannot say. */
  readonly facts?: CaptureFacts | undefined;
  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined>;
  /** Ends this check's capture: everything up to now, and what the kernel dropped meanwhile. Idempotent. */
  stop(): Promise<CaptureEnd>;
  /** A capture of its own: settles when its tcpdump has exited (a lease has no process of its own). */
  readonly done?: Promise<void>;
}

export interface CaptureEnd {
  packets: Packet[];
  endedBy: CaptureEndReason | undefined;
  droppedByKernel: number | null;
  /** What the kernel's filter passed over the capture (tcpdump's count); null or absent when not reported. */
  receivedByFilter?: number | null;
}

/** What a shared capture needs from a running tcpdump (on the LB over SSH, or local). */
export interface StreamingCapture {
  readonly count: number;
  readonly endedBy?: CaptureEndReason | undefined;
  readonly facts?: CaptureFacts | undefined;
  onPacket(listener: (p: Packet) => void): void;
  onStats(listener: (s: CaptureStats) => void): void;
  requestStats(): void;
  readonly done: Promise<void>;
  stop(): Promise<unknown>;
}

interface SyncPoint {
  /** Packets (of the whole stream) written before the request: the next one is index `at`. */
  at: number;
  dropped: number;
  received: number;
}

/** A check's view of a shared capture: its own packets, indexed from 0 as in a capture of its own. */
export class CaptureLease implements CheckCapture {
  private readonly buffer = new PacketBuffer();
  private from: number | undefined;
  /** Packets offered before the start sync answered: kept until it says which of them came after. */
  private early: Packet[] = [];
  private bytes = 24;
  /** Each kept packet's index in the shared stream, to cut the lease exactly at its end sync point. */
  private readonly streamIndex: number[] = [];
  private ended: CaptureEndReason | undefined;
  private ending: Promise<CaptureEnd> | undefined;
  private startDropped = 0;
  private startReceived = 0;
  private began: number | undefined;

  constructor(
    private readonly shared: SharedCapture,
    readonly limits: { maxPackets: number; maxBytes: number },
    /** Whether a packet belongs to this check (the shared filter also passes other checks' probe flows). */
    private readonly keep: (p: Packet) => boolean,
    /** The command line that runs the shared capture, for the evidence. */
    readonly command: string,
  ) {}

  get packets(): Packet[] {
    return this.buffer.packets;
  }

  get endedBy(): CaptureEndReason | undefined {
    return this.ended;
  }

  /** The shared capture's facts, its window this lease's own (counts come with stop). */
  get facts(): CaptureFacts | undefined {
    const source = this.shared.facts;
    if (!source || this.began === undefined) return undefined;
    return {
      ...source,
      selection: "this check's own flows, picked by lbcheck from a capture shared by this target's checks",
      startedAtUs: this.began,
    };
  }

  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    return this.buffer.waitFor(test, timeoutMs);
  }

  /** Called by the shared capture for every packet while this lease is open. */
  offer(p: Packet): void {
    if (this.ended !== undefined) return;
    if (this.from === undefined) this.early.push(p);
    else if (p.index >= this.from) this.accept(p);
  }

  begin(start: SyncPoint): void {
    this.from = start.at;
    this.startDropped = start.dropped;
    this.startReceived = start.received;
    this.began = nowUs();
    for (const p of this.early) if (p.index >= start.at) this.accept(p);
    this.early = [];
  }

  private accept(p: Packet): void {
    if (!this.keep(p)) return;
    // The same bounds a capture of its own would hit (tcpdump -c, and our byte cap).
    if (this.packets.length >= this.limits.maxPackets) return this.end('packet-limit');
    this.bytes += 16 + p.data.length;
    if (this.bytes > this.limits.maxBytes) return this.end('byte-limit');
    this.streamIndex.push(p.index);
    this.buffer.add({ ...p, index: this.packets.length });
    if (this.packets.length >= this.limits.maxPackets) this.end('packet-limit');
  }

  /** No more packets for this lease. */
  end(reason: CaptureEndReason): void {
    this.ended ??= reason;
    this.buffer.end();
  }

  stop(): Promise<CaptureEnd> {
    this.ending ??= this.shared.finish(this).then((last) => {
      this.end('unfinished');
      return {
        packets: this.packets,
        endedBy: this.ended,
        droppedByKernel: last ? last.dropped - this.startDropped : null,
        receivedByFilter: last ? last.received - this.startReceived : null,
      };
    });
    return this.ending;
  }

  /**
   * A cancelled check lets go of the capture at once (no sync: its packets are no longer wanted). Either other
   * running checks still lease it (it keeps running for them), or its tcpdump is stopped now rather than kept
   * for the next check, and `exited` settles when it has exited.
   */
  abandon(): { others: number } | { exited: Promise<void> } {
    this.end('stop');
    return this.shared.abandon(this);
  }

  /** Ends the lease at a sync point: packets from `at` on came after the stop (some may be here already). */
  cutAt(at: number): void {
    const after = this.streamIndex.findIndex((i) => i >= at);
    if (after >= 0 && this.ended === undefined) {
      this.packets.length = after;
      this.streamIndex.length = after;
    }
    this.end('stop');
  }
}

export interface SharedCaptureOptions {
  /** How long the capture may run at all (the tcpdump bound); leases must end well before it. */
  maxSeconds: number;
  /** Stop the capture after this long without a lease. */
  idleMs: number;
  /** How long a sync may take before the stream is judged unreliable. */
  syncTimeoutMs: number;
}

/** A margin between a lease's own bound and the capture's end. */
export const LIFETIME_MARGIN_S = 30;

export class SharedCapture {
  private readonly leases = new Set<CaptureLease>();
  private readonly startedAt = Date.now();
  private syncing: Promise<unknown> = Promise.resolve();
  /** The pending request's answer; undefined when tcpdump ended instead of answering. */
  private onStats: ((s: CaptureStats | undefined) => void) | undefined;
  private countWaiters: { n: number; wake: () => void }[] = [];
  private idle: NodeJS.Timeout | undefined;
  private retired = false;

  constructor(
    private readonly source: StreamingCapture,
    readonly command: string,
    private readonly options: SharedCaptureOptions,
  ) {
    source.onPacket((p) => {
      for (const lease of this.leases) lease.offer(p);
      if (this.countWaiters.length > 0) this.wakeCounted();
    });
    source.onStats((s) => this.onStats?.(s));
    void source.done.then(() => {
      this.retired = true;
      const reason = source.endedBy === 'stop' || source.endedBy === undefined ? 'exited' : source.endedBy;
      for (const lease of this.leases) lease.end(reason);
      for (const w of this.countWaiters) w.wake();
      this.onStats?.(undefined);
    });
  }

  /** Whether a new check may lease this capture: running, trusted, and not ending within the check's bound. */
  accepts(boundSeconds: number): boolean {
    const age = (Date.now() - this.startedAt) / 1000;
    return !this.retired && age + boundSeconds + LIFETIME_MARGIN_S < this.options.maxSeconds;
  }

  get facts(): CaptureFacts | undefined {
    return this.source.facts;
  }

  get running(): boolean {
    return !this.retired;
  }

  /** Whether any check holds a lease now. */
  get busy(): boolean {
    return this.leases.size > 0;
  }

  /** A lease from now on, or undefined when the capture could not sync (the caller captures on its own). */
  async lease(
    keep: (p: Packet) => boolean,
    limits: { maxPackets: number; maxBytes: number },
  ): Promise<CaptureLease | undefined> {
    clearTimeout(this.idle);
    const lease = new CaptureLease(this, limits, keep, this.command);
    this.leases.add(lease);
    const start = await this.sync();
    if (!start) {
      this.leases.delete(lease);
      void this.retire();
      return undefined;
    }
    lease.begin(start);
    return lease;
  }

  /** Ends a lease at a sync point taken now; undefined when the stream did not catch up (packets may be missing). */
  async finish(lease: CaptureLease): Promise<SyncPoint | undefined> {
    if (!this.leases.has(lease)) return undefined;
    const end = this.retired ? undefined : await this.sync();
    if (end) lease.cutAt(end.at);
    else lease.end('unfinished');
    this.leases.delete(lease);
    if (!end) void this.retire();
    else if (this.leases.size === 0) this.idleSoon();
    return end;
  }

  /** See CaptureLease.abandon. */
  abandon(lease: CaptureLease): { others: number } | { exited: Promise<void> } {
    this.leases.delete(lease);
    if (this.leases.size > 0) return { others: this.leases.size };
    void this.retire();
    return { exited: this.source.done };
  }

  private idleSoon(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.retire(), this.options.idleMs);
    this.idle.unref();
  }

  /**
   * No new leases, and tcpdump is stopped (settles when it has). Open leases end 'unfinished': a capture is
   * retired with leases open only when its stream can no longer be trusted, or the process is shutting down.
   */
  async retire(): Promise<void> {
    this.retired = true;
    clearTimeout(this.idle);
    for (const lease of this.leases) lease.end('unfinished');
    await this.source.stop().catch(() => undefined);
  }

  /** One sync at a time: tcpdump's answer to a request must not be taken for another's. */
  private sync(): Promise<SyncPoint | undefined> {
    const next = this.syncing.then(() => this.syncOnce());
    this.syncing = next.catch(() => undefined);
    return next;
  }

  private async syncOnce(): Promise<SyncPoint | undefined> {
    const deadline = Date.now() + this.options.syncTimeoutMs;
    let stats = await this.askStats(deadline);
    // Queued in the kernel but not yet written when tcpdump answered: one more round covers them. (On loopback
    // the kernel counts each packet twice, so this can be a round for nothing: it costs a round trip, no more.)
    if (stats && stats.received - stats.dropped > stats.captured) stats = await this.askStats(deadline);
    if (!stats || !(await this.counted(stats.captured, deadline))) return undefined;
    return { at: stats.captured, dropped: stats.dropped, received: stats.received };
  }

  private askStats(deadline: number): Promise<CaptureStats | undefined> {
    if (this.retired) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), Math.max(0, deadline - Date.now()));
      const settle = (s: CaptureStats | undefined): void => {
        clearTimeout(timer);
        this.onStats = undefined;
        resolve(s);
      };
      this.onStats = settle;
      this.source.requestStats();
    });
  }

  /** Resolves true once n packets of the stream have been decoded here, false at the deadline or the end. */
  private counted(n: number, deadline: number): Promise<boolean> {
    if (this.source.count >= n) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        n,
        wake: (): void => {
          clearTimeout(timer);
          this.countWaiters = this.countWaiters.filter((w) => w !== waiter);
          resolve(this.source.count >= n);
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, deadline - Date.now()));
      this.countWaiters.push(waiter);
    });
  }

  private wakeCounted(): void {
    for (const w of [...this.countWaiters]) if (this.source.count >= w.n) w.wake();
  }
}
