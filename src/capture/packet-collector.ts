// Collects a pcap byte stream into decoded packets, with a byte cap, and lets
// callers wait for "the packet that decides", so a step stops as soon as it
// has seen it. Shared by the LB capture (over SSH) and the local one.
import type { Packet } from './packet.js';
import { PcapStreamDecoder, type PcapHeader } from './pcap-stream.js';

interface Waiter {
  test: (p: Packet) => boolean;
  resolve: (p: Packet | undefined) => void;
}

export class PacketCollector {
  readonly packets: Packet[] = [];
  private readonly decoder = new PcapStreamDecoder();
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private waiters: Waiter[] = [];
  private ended = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onByteLimit: () => void,
  ) {}

  get header(): PcapHeader | undefined {
    return this.decoder.header;
  }

  get pcap(): Buffer {
    return Buffer.concat(this.chunks);
  }

  push(chunk: Buffer): void {
    if (this.bytes >= this.maxBytes) return;
    const part = chunk.subarray(0, this.maxBytes - this.bytes);
    this.bytes += part.length;
    this.chunks.push(part);
    for (const p of this.decoder.push(part)) {
      this.packets.push(p);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(p)) return true;
        w.resolve(p);
        return false;
      });
    }
    if (this.bytes >= this.maxBytes) this.onByteLimit();
  }

  /** No more packets will come: wake everyone still waiting. */
  end(): void {
    this.ended = true;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters = [];
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
