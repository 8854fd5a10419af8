// Decoded packets in capture order, and waiters for "the packet that decides",
// so a step stops as soon as it has seen it. Fed by a pcap stream
// (PacketCollector) or by a shared capture's fan-out (CaptureLease).
import type { Packet } from './packet.js';

interface Waiter {
  test: (p: Packet) => boolean;
  resolve: (p: Packet | undefined) => void;
}

export class PacketBuffer {
  readonly packets: Packet[] = [];
  private waiters: Waiter[] = [];
  private ended = false;

  add(p: Packet): void {
    this.packets.push(p);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(p)) return true;
      w.resolve(p);
      return false;
    });
  }

  /** No more packets will come: wake everyone still waiting. */
  end(): void {
    this.ended = true;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters = [];
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The first packet (already seen or yet to come) that passes test, or undefined at the deadline. */
  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    const seen = this.packets.find(test);
    if (seen) return Promise.resolve(seen);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        test,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
