// A shared capture's bookkeeping, on real packets from a recorded capture fed
// by hand: which packets each lease gets (sync points at its start and end),
// its own bounds and drop count, and what happens when tcpdump does not answer
// or ends. The lab test (test/checklist/shared-capture-lab.test.ts) runs the
// same code against tcpdump on the lab LB.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StatsReader, type CaptureStats } from '../../src/capture/capture-stats.js';
import type { Packet } from '../../src/capture/packet.js';
import { decodePcap } from '../../src/capture/pcap-stream.js';
import {
  SharedCapture,
  type CaptureEndReason,
  type SharedCaptureOptions,
  type StreamingCapture,
} from '../../src/capture/shared-capture.js';
import { ownFlowOnly, PROBE_PORTS } from '../../src/capture/capture-hubs.js';
import { fixtureDir } from '../fixtures/fixture-files.js';

const recorded = decodePcap(readFileSync(join(fixtureDir('healthy-nginx'), 'mode-lb.pcap'))).packets;

/** tcpdump as the shared capture sees it: packets one by one, and its counts when asked. */
class FakeTcpdump implements StreamingCapture {
  count = 0;
  endedBy: CaptureEndReason | undefined;
  requests = 0;
  stopped = false;
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly packetListeners: ((p: Packet) => void)[] = [];
  private readonly statsListeners: ((s: CaptureStats) => void)[] = [];
  private asked: (() => void)[] = [];

  constructor() {
    this.done = new Promise((r) => (this.finish = r));
  }

  /** The next n recorded packets, as tcpdump writes them. */
  emit(n: number): void {
    for (let i = 0; i < n; i++) {
      const p = recorded[this.count % recorded.length] as Packet;
      const packet = { ...p, index: this.count++ };
      for (const l of this.packetListeners) l(packet);
    }
  }

  onPacket(listener: (p: Packet) => void): void {
    this.packetListeners.push(listener);
  }

  onStats(listener: (s: CaptureStats) => void): void {
    this.statsListeners.push(listener);
  }

  requestStats(): void {
    this.requests++;
    for (const w of this.asked.splice(0)) w();
  }

  /** Resolves at the next request (or now, if one is waiting for an answer already). */
  nextRequest(seen: number): Promise<void> {
    if (this.requests > seen) return Promise.resolve();
    return new Promise((r) => this.asked.push(r));
  }

  answer(s: Partial<CaptureStats> & { captured: number }): void {
    const stats = { received: s.captured + (s.dropped ?? 0), dropped: 0, ...s };
    for (const l of this.statsListeners) l(stats);
  }

  end(reason: CaptureEndReason): void {
    this.endedBy = reason;
    this.finish();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.end('stop');
    return Promise.resolve();
  }
}

const OPTIONS: SharedCaptureOptions = { maxSeconds: 600, idleMs: 60_000, syncTimeoutMs: 2_000 };
const LIMITS = { maxPackets: 10_000, maxBytes: 8 * 1024 * 1024 };
const everything = (): boolean => true;

/** A lease whose start sync tcpdump answers with the given counts. */
async function leaseAt(shared: SharedCapture, tcpdump: FakeTcpdump, start: Parameters<FakeTcpdump['answer']>[0]) {
  const seen = tcpdump.requests;
  const leasing = shared.lease(everything, LIMITS);
  await tcpdump.nextRequest(seen);
  tcpdump.answer(start);
  return (await leasing) ?? assert.fail('no lease');
}

describe('a lease on a shared capture', () => {
  it('holds exactly the packets between its start and end sync points, indexed from 0, with the drops between', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    tcpdump.emit(3); // before the check: not its packets
    const lease = await leaseAt(shared, tcpdump, { captured: 3, dropped: 1 });
    tcpdump.emit(4);
    const seen = tcpdump.requests;
    const stopping = lease.stop();
    await tcpdump.nextRequest(seen);
    // Two more are written before tcpdump answers: they came after the stop.
    tcpdump.emit(2);
    tcpdump.answer({ captured: 7, dropped: 4 });
    const end = await stopping;
    assert.deepEqual(
      end.packets.map((p) => p.index),
      [0, 1, 2, 3],
    );
    assert.deepEqual(
      end.packets.map((p) => p.timeUs),
      recorded.slice(3, 7).map((p) => p.timeUs),
    );
    assert.equal(end.endedBy, 'stop');
    assert.equal(end.droppedByKernel, 3);
  });

  it('waits until the stream has caught up with what tcpdump says it wrote', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    tcpdump.emit(2);
    const leasing = shared.lease(everything, LIMITS);
    await tcpdump.nextRequest(0);
    tcpdump.answer({ captured: 5 });
    let settled = false;
    void leasing.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'resolved before packets 2-4 arrived');
    tcpdump.emit(3);
    const lease = (await leasing) ?? assert.fail('no lease');
    tcpdump.emit(1);
    assert.deepEqual(
      lease.packets.map((p) => p.timeUs),
      [recorded[5]?.timeUs],
    );
  });

  it('asks again when the kernel had queued packets tcpdump had not written yet', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    const leasing = shared.lease(everything, LIMITS);
    await tcpdump.nextRequest(0);
    tcpdump.answer({ captured: 0, received: 2 });
    await tcpdump.nextRequest(1);
    tcpdump.emit(2);
    tcpdump.answer({ captured: 2, received: 2 });
    const lease = (await leasing) ?? assert.fail('no lease');
    tcpdump.emit(1);
    assert.equal(tcpdump.requests, 2);
    assert.deepEqual(
      lease.packets.map((p) => p.timeUs),
      [recorded[2]?.timeUs],
    );
  });

  it('one request at a time: a second check waits for the first answer before asking', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    const a = shared.lease(everything, LIMITS);
    const b = shared.lease(everything, LIMITS);
    await tcpdump.nextRequest(0);
    await new Promise((r) => setImmediate(r));
    assert.equal(tcpdump.requests, 1);
    tcpdump.answer({ captured: 0 });
    await tcpdump.nextRequest(1);
    tcpdump.emit(1);
    tcpdump.answer({ captured: 1 });
    const [first, second] = await Promise.all([a, b]);
    assert.equal(first?.packets.length, 1);
    assert.equal(second?.packets.length, 0);
  });

  it('keeps its own bound: the packet cap ends it as tcpdump -c would', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    const seen = tcpdump.requests;
    const leasing = shared.lease(everything, { ...LIMITS, maxPackets: 3 });
    await tcpdump.nextRequest(seen);
    tcpdump.answer({ captured: 0 });
    const lease = (await leasing) ?? assert.fail('no lease');
    tcpdump.emit(5);
    assert.equal(lease.packets.length, 3);
    assert.equal(lease.endedBy, 'packet-limit');
  });

  it('keeps only what its filter keeps', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    const leasing = shared.lease((p) => p.tcp?.flags.syn === true, LIMITS);
    await tcpdump.nextRequest(0);
    tcpdump.answer({ captured: 0 });
    const lease = (await leasing) ?? assert.fail('no lease');
    tcpdump.emit(recorded.length);
    assert.ok(lease.packets.length > 0);
    assert.ok(lease.packets.every((p) => p.tcp?.flags.syn));
    assert.deepEqual(
      lease.packets.map((p) => p.index),
      lease.packets.map((_, i) => i),
    );
  });

  it('no answer to the start sync: no lease, and the capture is stopped (the check captures on its own)', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', { ...OPTIONS, syncTimeoutMs: 20 });
    assert.equal(await shared.lease(everything, LIMITS), undefined);
    assert.equal(tcpdump.stopped, true);
    assert.equal(shared.accepts(1), false);
  });

  it('no answer to the end sync: the lease ends unfinished, without a drop count, and the capture is retired', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', { ...OPTIONS, syncTimeoutMs: 50 });
    const lease = await leaseAt(shared, tcpdump, { captured: 0 });
    tcpdump.emit(2);
    const end = await lease.stop();
    assert.equal(end.endedBy, 'unfinished');
    assert.equal(end.droppedByKernel, null);
    assert.equal(end.packets.length, 2);
    assert.equal(tcpdump.stopped, true);
  });

  it('tcpdump ending under a lease ends the lease with its reason', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', OPTIONS);
    const lease = await leaseAt(shared, tcpdump, { captured: 0 });
    tcpdump.end('time-limit');
    await tcpdump.done;
    assert.equal(lease.endedBy, 'time-limit');
    const end = await lease.stop();
    assert.equal(end.endedBy, 'time-limit');
    assert.equal(shared.running, false);
  });

  it('stops tcpdump once no lease has come for idleMs, not while one is open', async () => {
    const tcpdump = new FakeTcpdump();
    const shared = new SharedCapture(tcpdump, 'tcpdump …', { ...OPTIONS, idleMs: 10 });
    const lease = await leaseAt(shared, tcpdump, { captured: 0 });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(tcpdump.stopped, false, 'stopped under an open lease');
    const seen = tcpdump.requests;
    const stopping = lease.stop();
    await tcpdump.nextRequest(seen);
    tcpdump.answer({ captured: 0 });
    await stopping;
    // The idle timer does not keep a process alive (unref'd): this wait does.
    for (let i = 0; i < 200 && !tcpdump.stopped; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(tcpdump.stopped, true);
  });

  it('takes no lease that could outlive the capture', () => {
    const shared = new SharedCapture(new FakeTcpdump(), 'tcpdump …', { ...OPTIONS, maxSeconds: 60 });
    assert.equal(shared.accepts(10), true);
    assert.equal(shared.accepts(40), false);
  });
});

describe("a lease's own flow", () => {
  const vip = '198.18.138.3';
  const target = { vip, port: 80 } as Parameters<typeof ownFlowOnly>[0];
  const base = recorded[0] as Packet;
  const seg = (src: string, sport: number, dst: string, dport: number): Packet => {
    if (!base.ip || !base.tcp) throw new Error('the recorded packet is not TCP/IP');
    return { ...base, ip: { ...base.ip, src, dst }, tcp: { ...base.tcp, srcPort: sport, dstPort: dport } };
  };
  const own = PROBE_PORTS.first + 5;
  const other = PROBE_PORTS.first + 6;
  const keep = ownFlowOnly(target, own);

  it("keeps its probe's packets both ways and the server side; drops other checks' probes", () => {
    assert.equal(keep(seg('198.18.136.10', own, vip, 80)), true);
    assert.equal(keep(seg(vip, 80, '198.18.136.10', own)), true);
    assert.equal(keep(seg('198.18.139.1', other, '198.18.139.11', 8080)), true);
    assert.equal(keep(seg('198.18.136.10', other, vip, 80)), false);
    assert.equal(keep(seg(vip, 80, '198.18.136.10', other)), false);
  });
});

describe("tcpdump's counts on stderr", () => {
  it('reads each SIGUSR1 line once, however it is split, and nothing from the exit summary', () => {
    const got: CaptureStats[] = [];
    const reader = new StatsReader((s) => got.push(s));
    reader.push('tcpdump: listening on any\ntcpdump: 12 packets captured, 30 packets rec');
    reader.push('eived by filter, 2 packets dropped by kernel\n');
    reader.push('1 packet captured, 1 packet received by filter, 0 packets dropped by kernel\n');
    reader.push('12 packets captured\n30 packets received by filter\n2 packets dropped by kernel\n');
    assert.deepEqual(got, [
      { captured: 12, received: 30, dropped: 2 },
      { captured: 1, received: 1, dropped: 0 },
    ]);
  });
});
