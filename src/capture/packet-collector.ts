// Collects a pcap byte stream into decoded packets, with a byte cap. Shared by
// the LB capture (over SSH) and the local one. A shared capture (one tcpdump
// serving many checks) keeps no packets itself: it hands each one to its
// listeners and counts them, so a long-lived capture holds no growing memory.
import type { Packet } from './packet.js';
import { PacketBuffer } from './packet-buffer.js';
import { PcapStreamDecoder, type PcapHeader } from './pcap-stream.js';

/** The first bytes of the stream are kept even when packets are not: they tell a banner from pcap. */
const HEAD_BYTES = 256;

export class PacketCollector {
  private readonly buffer = new PacketBuffer();
  private readonly decoder = new PcapStreamDecoder();
  private readonly chunks: Buffer[] = [];
  private readonly listeners: ((p: Packet) => void)[] = [];
  private bytes = 0;
  private decoded = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onByteLimit: () => void,
    /** false: packets go to listeners only (a shared capture). */
    private readonly retain = true,
  ) {}

  get header(): PcapHeader | undefined {
    return this.decoder.header;
  }

  /** The stream as received (only its first bytes when packets are not retained). */
  get pcap(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get packets(): Packet[] {
    return this.buffer.packets;
  }

  /** Packets decoded so far, retained or not. */
  get count(): number {
    return this.decoded;
  }

  onPacket(listener: (p: Packet) => void): void {
    this.listeners.push(listener);
  }

  push(chunk: Buffer): void {
    if (this.bytes >= this.maxBytes) return;
    const part = chunk.subarray(0, this.maxBytes - this.bytes);
    if (this.retain) this.chunks.push(part);
    else if (this.bytes < HEAD_BYTES) this.chunks.push(part.subarray(0, HEAD_BYTES - this.bytes));
    this.bytes += part.length;
    for (const p of this.decoder.push(part)) {
      this.decoded++;
      if (this.retain) this.buffer.add(p);
      for (const l of this.listeners) l(p);
    }
    if (this.bytes >= this.maxBytes) this.onByteLimit();
  }

  /** No more packets will come: wake everyone still waiting. */
  end(): void {
    this.buffer.end();
  }

  /** The first packet (already seen or yet to come) that passes test, or undefined at the deadline. */
  waitFor(test: (p: Packet) => boolean, timeoutMs: number): Promise<Packet | undefined> {
    return this.buffer.waitFor(test, timeoutMs);
  }
}
