// A busy LB (the lab's background SYN flood, 5,000 a second to another address on it) with two checks of the same
// VIP running at once over one pooled SSH session, as a worker runs them (issue 28): neither loses its packets
// (each LB capture has its probe's SYN and the whole handshake, and no cap or kernel drop), and neither's report
// holds the other's flow (no packet of the other probe's port in its captures; step 2 ties exactly one
// server-side connection, by its own request marker). Once with a capture per check, once through a worker's
// shared captures (one tcpdump per LB and target, leased per check), where both flows cross one capture.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CaptureHubs } from '../../src/capture/capture-hubs.js';
import type { Packet } from '../../src/capture/packet.js';
import { runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import type { CaptureView } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { checkOptions, labTarget } from './lab-target.js';

let lab: Lab;
let session: SshSession | undefined;
before(async () => {
  lab = await startLab();
});
after(() => {
  session?.close();
  lab.teardown();
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

/** The client side of the VIP's flows in a capture: the probe ports seen talking to the VIP. */
function probePorts(view: CaptureView | null | undefined, vip: string, port: number): Set<number> {
  const ports = new Set<number>();
  for (const p of view?.packets ?? []) {
    const t = p.tcp;
    if (!p.ip || !t) continue;
    if (p.ip.dst === vip && t.dstPort === port) ports.add(t.srcPort);
    if (p.ip.src === vip && t.srcPort === port) ports.add(t.dstPort);
  }
  return ports;
}

const toVip = (vip: string, port: number, from: number) => (p: Packet) =>
  p.ip?.dst === vip && p.tcp?.dstPort === port && p.tcp.srcPort === from;

async function twoAtOnce(hubs?: CaptureHubs): Promise<CheckOutcome[]> {
  await lab.faults.backgroundTraffic(5000);
  const target = labTarget(lab, 'nginx');
  const lb = target.lb;
  assert.ok(lb);
  session = session?.alive ? session : await SshSession.open(lb);
  const s = session;
  const deps = { session: () => Promise.resolve(s), ...(hubs ? { captureHubs: hubs } : {}) };
  // A worker's shared captures are running when checks come (an earlier check started them).
  if (hubs) await runCheck(target, checkOptions(), deps);
  return Promise.all([runCheck(target, checkOptions(), deps), runCheck(target, checkOptions(), deps)]);
}

function assertOwnFlowsOnly(outcomes: CheckOutcome[]): void {
  const { address: vip, port } = lab.vips.nginx;
  const ports = outcomes.map((o) => o.observation.reach.connect.localPort);
  assert.notEqual(ports[0], ports[1], 'the two probes came from the same port');
  outcomes.forEach((o, i) => {
    const own = ports[i] ?? 0;
    const other = ports[1 - i] ?? 0;
    const { report, observation } = o;
    const what = `check ${i + 1} (port ${own}): ${report.diagnosis.summary}`;
    assert.equal(report.diagnosis.culprit, 'none', what);
    // Not lost: its SYN and the VIP's answer are in the LB capture, and the capture lost nothing.
    const reachLb = observation.reach.lb;
    assert.ok(reachLb, what);
    assert.ok(reachLb.packets.some(toVip(vip, port, own)), `${what}: its SYN is not in the LB capture`);
    for (const view of [reachLb, observation.mode?.lb]) {
      assert.ok(view?.endedBy === undefined || view.endedBy === 'stop', `${what}: capture ended by ${view?.endedBy}`);
      assert.ok((view?.droppedByKernel ?? 0) === 0, `${what}: the kernel dropped ${view?.droppedByKernel} packets`);
    }
    // Not mixed: no packet of the other probe's flow, in the LB's captures or in the one here. (The one here may
    // hold none of its own yet: step 1's view of it is taken when step 1 is decided, and the LB's decides.)
    const views = { 'step 1 LB': reachLb, 'step 2 LB': observation.mode?.lb, 'step 1 here': observation.reach.local };
    for (const [name, view] of Object.entries(views)) {
      const seen = [...probePorts(view, vip, port)];
      assert.ok(!seen.includes(other), `${what}: the other check's port ${other} is in its ${name} capture`);
      assert.ok(
        seen.every((p) => p === own),
        `${what}: its ${name} capture has flows from ports ${seen.join(', ')}`,
      );
      if (name !== 'step 1 here') assert.ok(seen.includes(own), `${what}: its ${name} capture lacks its own flow`);
    }
    const mode = report.steps.find((x): x is ModeStep => x.step === 2);
    assert.equal(mode?.mode, 'L7', what);
    assert.deepEqual(
      mode.serverSide.map((c) => c.tiedBy),
      ['marker'],
      `${what}: step 2 tied ${JSON.stringify(mode.serverSide)}`,
    );
    // Nothing in its evidence names the other probe's port as a flow.
    const text = o.evidence
      .filter((e) => e.name.endsWith('.txt'))
      .map((e) => e.data.toString('utf8'))
      .join('\n');
    assert.doesNotMatch(text, new RegExp(`[.:]${other}\\b`), `${what}: its evidence names port ${other}`);
  });
}

describe('a busy LB, two checks of the same VIP at once', () => {
  it('each with its own capture: neither loses its packets, each report has only its own flow', async () => {
    assertOwnFlowsOnly(await twoAtOnce());
  });

  it("through a worker's shared captures (both flows cross one tcpdump): the same", async () => {
    const hubs = new CaptureHubs();
    try {
      const outcomes = await twoAtOnce(hubs);
      for (const o of outcomes) {
        const commands = o.evidence.find((e) => e.name === 'step1-commands.txt')?.data.toString('utf8') ?? '';
        assert.match(commands, /# capture shared by this target's checks/, 'the check had a capture of its own');
      }
      assertOwnFlowsOnly(outcomes);
    } finally {
      await hubs.closeAll();
    }
  });
});
