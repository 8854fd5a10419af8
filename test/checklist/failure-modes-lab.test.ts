// Every failure mode lbcheck claims to diagnose, live on the lab: the right
// verdicts, culprit and mechanism. The ones that matter most run again on a
// busy LB (thousands of unrelated SYNs a second), where a capture that fills
// with other traffic used to turn healthy VIPs into "impostors".
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { runCheck } from '../../src/checklist/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import type { LbAccess } from '../../src/checklist/check-target.js';
import { startStandby } from '../lab/standby.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { checkOptions } from './lab-target.js';
import { assertExpected, labFacts, SCENARIOS, scenarioTarget, type Scenario } from './scenarios.js';

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

async function runScenario(s: Scenario): Promise<void> {
  await s.fault?.(lab);
  const outcome = await runCheck(scenarioTarget(lab, s), checkOptions({ all: s.all ?? false }), {
    session: sessionFor,
  }).catch((err: Error) => {
    if (s.acceptsError?.test(err.message)) return err;
    throw err;
  });
  if (outcome instanceof Error) {
    // The error names the path to the LB, and its hint says what to check: nobody is blamed.
    assert.match((outcome as Error & { hint?: string }).hint ?? '', /path between lbcheck and the LB/);
    for (const s of sessions.values()) s.close();
    sessions.clear();
    return;
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
