// An HA pair with a node lbcheck cannot reach, on the lab: the reachable node
// still decides (the unreachable one is listed with its error), and a pair with
// no reachable node fails the check as a single unreachable LB does.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import type { ReachStep } from '../../src/model/report.js';
import { startLab, type Lab } from '../lab/lab.js';
import { startStandby } from '../lab/standby.js';
import { checkOptions, labLbAccess, labTarget, standbyLbAccess } from './lab-target.js';

let lab: Lab;
before(async () => {
  lab = await startLab({ serverCount: 2 });
  await startStandby(lab);
});
after(() => lab.teardown());
afterEach(() => {
  for (const node of ['lb', 'lb2'])
    assert.deepEqual(
      lab.processNames(node).filter((n) => n === 'tcpdump'),
      [],
    );
});

/** The standby's entry pinned to the wrong host key (the active node's): its SSH handshake is refused. */
const wrongKey = () => ({ ...standbyLbAccess(lab), pins: labLbAccess(lab).pins });

describe('HA pair with an unreachable node', () => {
  it('the standby refuses SSH: the active node decides, the standby is listed with its error', async () => {
    const target = labTarget(lab, 'haproxy-http');
    const { report } = await runCheck({ ...target, lbNodes: [labLbAccess(lab), wrongKey()] }, checkOptions());
    const reach = report.steps[0] as ReachStep;
    assert.equal(report.diagnosis.culprit, 'none', report.diagnosis.summary);
    assert.match(reach.handledBy ?? '', /^lab-lb \(/);
    assert.deepEqual(
      reach.nodes?.map((n) => [n.sawSyn, n.ownsVip]),
      [
        [true, true],
        [null, null],
      ],
    );
    assert.match(reach.nodes?.[1]?.error ?? '', /host key/i);
  });

  it('no node reachable: the check fails with the first node’s error, as for one LB', async () => {
    const target = labTarget(lab, 'haproxy-http');
    const bad = { ...labLbAccess(lab), pins: standbyLbAccess(lab).pins };
    await assert.rejects(runCheck({ ...target, lb: bad, lbNodes: [bad, wrongKey()] }, checkOptions()), /host key/i);
  });
});
