// Every failure mode lbcheck claims to diagnose, live on the lab: the right
// verdicts, culprit and mechanism. The ones that matter most run again on a
// busy LB (thousands of unrelated SYNs a second), where a capture that fills
// with other traffic used to turn healthy VIPs into "impostors".
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SshConnectionLostError } from '../../src/remote/ssh-errors.js';
import { CAPTURE_HEARTBEAT } from '../../src/remote/lb-helpers.js';
import { CaptureHubs } from '../../src/capture/capture-hubs.js';
import { runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import type { LbAccess } from '../../src/remote/lb-access.js';
import { startStandby } from '../lab/standby.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { assertExpected, labFacts, SCENARIOS, scenarioOptions, scenarioTarget, type Scenario } from './scenarios.js';

let lab: Lab;
// One warm session per LB node (an HA pair has two), as a worker's pool keeps them.
const sessions = new Map<string, SshSession>();
const sessionFor = async (lb: LbAccess): Promise<SshSession> => {
  const warm = sessions.get(lb.host);
  if (warm?.alive) return warm;
  const fresh = await SshSession.open(lb);
  sessions.set(lb.host, fresh);
  return fresh;
};

before(async () => {
  lab = await startLab();
  await startStandby(lab);
});
after(() => {
  for (const s of sessions.values()) s.close();
  lab.teardown();
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
  for (const node of ['lb', 'lb2'])
    assert.deepEqual(
      lab.processNames(node).filter((n) => n === 'tcpdump'),
      [],
    );
});

async function tcpdumpGoneFromLb(withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (lab.processNames('lb').includes('tcpdump')) {
    if (Date.now() > deadline)
      assert.fail(`tcpdump still ran on the LB ${withinMs} ms after the SSH connection was lost`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a scenario's check; undefined when the check could not run and the scenario accepts that. */
async function checkScenario(s: Scenario, captureHubs?: CaptureHubs): Promise<CheckOutcome | undefined> {
  const outcome = await runCheck(scenarioTarget(lab, s), scenarioOptions(s), {
    session: sessionFor,
    ...(captureHubs ? { captureHubs } : {}),
  }).catch((err: Error) => {
    if (s.acceptsError?.test(err.message)) return err;
    throw err;
  });
  if (outcome instanceof Error) {
    // The error names the path to the LB, and its hint says what to check: nobody is blamed.
    assert.match((outcome as Error & { hint?: string }).hint ?? '', /path between lbcheck and the LB/);
    for (const s of sessions.values()) s.close();
    sessions.clear();
    // A connection lost mid-check: its remote tcpdump ends by itself once lbcheck's heartbeat stops reaching the
    // LB (CAPTURE_HEARTBEAT), not at its time bound; nothing here kills it.
    if (outcome instanceof SshConnectionLostError) await tcpdumpGoneFromLb((CAPTURE_HEARTBEAT.missedAfterS + 6) * 1000);
    return undefined;
  }
  const { report, observation } = outcome;
  const problems = assertExpected(report, s.expect, labFacts(lab));
  assert.deepEqual(
    problems,
    [],
    `${s.name}: ${JSON.stringify({ steps: report.steps.map((x) => x.summary), diagnosis: report.diagnosis.summary }, null, 1)}`,
  );
  // What was posted step by step is what the final report says: one decide path.
  assert.equal(observation.id, report.id);
  return outcome;
}

async function runScenario(s: Scenario): Promise<void> {
  await s.fault?.(lab);
  await checkScenario(s);
}

/** Starts a target's shared captures (on the LB and here) the way a first check would, without a probe. */
async function startShared(hubs: CaptureHubs, s: Scenario): Promise<void> {
  const target = scenarioTarget(lab, s);
  const port = await hubs.reservePort();
  const session = target.lb ? await sessionFor(target.lb) : undefined;
  const leases = await Promise.all([
    session && target.lb ? hubs.lbLease(session, target.lb, target, port, 20) : undefined,
    hubs.localLease(target, port, 20),
  ]);
  for (const l of leases) await l?.stop();
}

/**
 * Through a worker's shared captures, already running when the check comes (as after an earlier check; the
 * check itself runs once, as LBs keep state between requests: nginx skips a failed upstream for a while).
 * Its evidence must say it leased them.
 */
async function runScenarioShared(s: Scenario): Promise<void> {
  await s.fault?.(lab);
  const hubs = new CaptureHubs();
  try {
    const shareable = !s.noLb && !s.sudo && !s.pair;
    if (shareable) await startShared(hubs, s);
    const outcome = await checkScenario(s, hubs);
    if (shareable && outcome) {
      const commands = outcome.evidence.find((e) => e.name === 'step1-commands.txt')?.data.toString('utf8') ?? '';
      assert.match(commands, /# capture shared by this target's checks/, `${s.name}: the check had its own`);
    }
  } finally {
    await hubs.closeAll();
  }
}

describe('failure modes, quiet LB', () => {
  for (const s of SCENARIOS) it(s.name, () => runScenario(s));
});

describe('failure modes, busy LB (background SYN flood to another address on the LB)', () => {
  for (const s of SCENARIOS.filter((x) => x.busy)) {
    it(`${s.name} under load`, async () => {
      await lab.faults.backgroundTraffic(5000);
      await runScenario(s);
    });
  }
});

describe("failure modes through a worker's shared captures (one tcpdump per LB and target, leased per check)", () => {
  for (const s of SCENARIOS) it(`${s.name}, shared`, () => runScenarioShared(s));
});
