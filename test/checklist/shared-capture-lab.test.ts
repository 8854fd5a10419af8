// A worker's shared captures on the lab LB: one tcpdump per LB and target
// serving checks one after another and at once, each check seeing only its
// own probe; a capture that dies is replaced; idle ones end by themselves;
// nothing is left running on the LB or here. (The verdicts through shared
// captures, scenario by scenario: failure-modes-lab.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { CaptureHubs, DEFAULT_HUBS_OPTIONS, PROBE_PORTS } from '../../src/capture/capture-hubs.js';
import type { CheckTarget } from '../../src/target/check-target.js';
import { runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { ProxyKindMemory } from '../../src/checklist/observe/proxy-kind-memory.js';
import type { ModeStep } from '../../src/model/report.js';
import { withDefaults } from '../../src/target/check-target.js';
import { startLab, type Lab } from '../lab/lab.js';
import { checkOptions, labTarget } from './lab-target.js';

let lab: Lab;
let session: SshSession;
let hubs: CaptureHubs;
let target: CheckTarget;

const lbTcpdumps = (): { pid: number; name: string }[] => lab.processes('lb').filter((p) => p.name === 'tcpdump');

/** This process's own tcpdump children (the vantage capture), by name. */
function localTcpdumps(): string[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  return children
    .split(/\s+/)
    .filter((pid) => pid !== '')
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })
    .filter((name) => name === 'tcpdump');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  // A bound for a hung test, not a speed target: the condition is the assertion.
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), what);
}

function check(on: CheckTarget = target, proxyKinds?: ProxyKindMemory): Promise<CheckOutcome> {
  return runCheck(on, checkOptions(), {
    session: () => Promise.resolve(session),
    captureHubs: hubs,
    ...(proxyKinds ? { proxyKinds } : {}),
  });
}

function modeStep(o: CheckOutcome): ModeStep {
  const s = o.report.steps.find((x) => x.step === 2);
  assert.ok(s?.name === 'mode', 'no step 2');
  return s;
}

const commandsOf = (o: CheckOutcome): string =>
  o.evidence.find((e) => e.name === 'step1-commands.txt')?.data.toString('utf8') ?? '';

/** The probe ports of every packet to or from the VIP in a capture view. */
function probePorts(packets: readonly Packet[]): Set<number> {
  const ports = new Set<number>();
  for (const p of packets) {
    if (p.ip?.dst === target.vip && p.tcp?.dstPort === target.port) ports.add(p.tcp.srcPort);
    if (p.ip?.src === target.vip && p.tcp?.srcPort === target.port) ports.add(p.tcp.dstPort);
  }
  return ports;
}

before(async () => {
  lab = await startLab();
  const t = labTarget(lab, 'haproxy-http');
  target = { ...t, members: t.members.slice(0, 2) };
  if (!target.lb) throw new Error('lab target without LB access');
  session = await SshSession.open(target.lb);
});
afterEach(async () => {
  await hubs.closeAll();
  assert.deepEqual(lbTcpdumps(), [], 'a tcpdump was left running on the LB');
  assert.deepEqual(localTcpdumps(), [], 'a tcpdump was left running here');
});
after(() => {
  session.close();
  lab.teardown();
});

describe("a worker's shared captures on the lab LB", () => {
  it('one tcpdump on the LB serves every check of a target, started by the first and named by the others', async () => {
    hubs = new CaptureHubs();
    const outcomes: CheckOutcome[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(await check());
      assert.equal(lbTcpdumps().length, 1, `after check ${i + 1}: one shared tcpdump on the LB`);
    }
    for (const o of outcomes) assert.equal(o.report.diagnosis.culprit, 'none', o.report.diagnosis.summary);
    const [first, ...later] = outcomes.map(commandsOf);
    assert.ok(first?.includes(`tcp portrange ${PROBE_PORTS.first}-${PROBE_PORTS.last}`), first);
    assert.doesNotMatch(first ?? '', /# capture shared/);
    for (const c of later) {
      assert.match(c, /# capture shared by this target's checks, already running on the LB:\n.*tcpdump/);
    }
    for (const o of outcomes) {
      const port = o.observation.reach.connect.localPort;
      assert.ok(port >= PROBE_PORTS.first && port <= PROBE_PORTS.last, `probe port ${port} outside the range`);
      // Each check's capture starts at its own start: no earlier check's probe in it.
      assert.deepEqual([...probePorts(o.observation.mode?.lb?.packets ?? [])], [port]);
      // The vantage view is read as step 1 ends, without a sync (a connected probe is not judged by it): it may
      // not hold this probe's packets yet, but never another check's.
      assert.deepEqual(
        [...probePorts(o.observation.reach.local?.packets ?? [])].filter((p) => p !== port),
        [],
      );
    }
  });

  it('checks of one target at once: each sees only its own probe, and all pass', async () => {
    hubs = new CaptureHubs();
    await check(); // the capture is running before the burst, as in a worker under load
    const outcomes = await Promise.all([check(), check(), check()]);
    const ports = outcomes.map((o) => o.observation.reach.connect.localPort);
    assert.equal(new Set(ports).size, 3, 'three checks, three probe ports');
    for (const o of outcomes) {
      assert.equal(o.report.diagnosis.culprit, 'none', o.report.diagnosis.summary);
      const own = o.observation.reach.connect.localPort;
      assert.deepEqual([...probePorts(o.observation.reach.lb?.packets ?? [])], [own]);
      assert.deepEqual([...probePorts(o.observation.mode?.lb?.packets ?? [])], [own]);
    }
    assert.equal(lbTcpdumps().length, 1);
  });

  it('a shared tcpdump that dies between checks is replaced, and the next check passes', async () => {
    hubs = new CaptureHubs();
    await check();
    const [running] = lbTcpdumps();
    assert.ok(running, 'no shared tcpdump on the LB');
    process.kill(running.pid, 'SIGKILL'); // the lab's own tcpdump, started by this test's check
    await until(() => lbTcpdumps().length === 0, 'the killed tcpdump is still there');
    const next = await check();
    assert.equal(next.report.diagnosis.culprit, 'none', next.report.diagnosis.summary);
    assert.doesNotMatch(commandsOf(next), /# capture shared/, 'the next check leased the dead capture');
    assert.equal(lbTcpdumps().length, 1);
  });

  it('captures per LB are bounded: an idle one makes room for another target; a busy one is not stopped', async () => {
    hubs = new CaptureHubs({ ...DEFAULT_HUBS_OPTIONS, perHost: 1 });
    const other = labTarget(lab, 'nginx');
    await check();
    const second = await check(other);
    assert.equal(second.report.diagnosis.culprit, 'none', second.report.diagnosis.summary);
    assert.equal(lbTcpdumps().length, 1, 'the idle capture was not stopped to make room');
    // Both targets at once: one has the shared capture, the other cannot stop it and captures on its own.
    const both = await Promise.all([check(other), check()]);
    for (const o of both) assert.equal(o.report.diagnosis.culprit, 'none', o.report.diagnosis.summary);
    const own = both.filter((o) => !/timeout [^\n]*portrange/.test(`${commandsOf(o)}`));
    assert.equal(own.length, 1, 'exactly one of the two captured on its own');
    assert.equal(lbTcpdumps().length, 1);
  });

  it('an idle shared capture ends by itself', async () => {
    hubs = new CaptureHubs({ ...DEFAULT_HUBS_OPTIONS, idleMs: 300 });
    await check();
    await until(() => lbTcpdumps().length === 0 && localTcpdumps().length === 0, 'the idle capture still runs');
  });

  it("an HTTP proxy's next check skips step 2's wait for a TCP proxy and still proves the HTTP proxy", async () => {
    hubs = new CaptureHubs();
    const kinds = new ProxyKindMemory();
    const first = await check(target, kinds);
    assert.equal(first.observation.mode?.tcpProxyWait, undefined, 'the first check waited');
    assert.equal(modeStep(first).proxyKind, 'http', modeStep(first).summary);
    for (let i = 0; i < 3; i++) {
      const next = await check(target, kinds);
      assert.equal(next.observation.mode?.tcpProxyWait, 'skipped');
      assert.equal(modeStep(next).proxyKind, 'http', modeStep(next).summary);
      assert.equal(next.report.diagnosis.culprit, 'none', next.report.diagnosis.summary);
    }
  });

  it('a VIP remembered as an HTTP proxy that is now a TCP proxy: no wrong kind, and the next check waits again', async () => {
    hubs = new CaptureHubs();
    const kinds = new ProxyKindMemory();
    const http = await check(target, kinds);
    // The TCP-proxy VIP as if it had been the HTTP proxy at the last check (an LB reconfigured since).
    const tcp = labTarget(lab, 'haproxy-tcp');
    kinds.learn(withDefaults(tcp), modeStep(http));
    const changed = await check(tcp, kinds);
    assert.equal(changed.observation.mode?.tcpProxyWait, 'skipped');
    const mode = modeStep(changed);
    assert.equal(mode.mode, 'L7', mode.summary);
    // The TCP proxy connects as it accepts: the capture may still show it before the request (tcp), or not (open).
    assert.notEqual(mode.proxyKind, 'http', mode.summary);
    assert.equal(changed.report.diagnosis.culprit, 'none', changed.report.diagnosis.summary);
    const after = await check(tcp, kinds);
    assert.equal(after.observation.mode?.tcpProxyWait, undefined, 'the check after it waited again');
    assert.equal(modeStep(after).proxyKind, 'tcp', modeStep(after).summary);
  });
});
