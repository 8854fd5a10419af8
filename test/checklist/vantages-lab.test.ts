// Two vantage points at once on the lab (issue 17 item 4, the engine and the
// decision): the same VIP checked at the same moment from two addresses of
// the client side, one behind a firewall that drops its traffic to the VIP.
// Each check alone says what it saw; compared, the fault is localised to the
// one network's path.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { compareVantages } from '../../src/checklist/decide/compare-vantages.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import type { ReachStep } from '../../src/model/report.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { addVantage, dropFromVantage } from '../lab/vantage.js';
import { checkOptions, labTarget } from './lab-target.js';

let lab: Lab;
let dc1: string;
before(async () => {
  lab = await startLab({ serverCount: 2 });
  dc1 = await addVantage(lab);
});
after(() => lab.teardown());
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

/** One check per zone, started together. */
async function fromBoth(): Promise<{ zone: string; report: Awaited<ReturnType<typeof runCheck>>['report'] }[]> {
  const zones = [
    { zone: 'dc1', sourceAddress: dc1 },
    { zone: 'dc2', sourceAddress: lab.addr.client },
  ];
  const outcomes = await Promise.all(
    zones.map((z) => runCheck(labTarget(lab, 'nginx'), checkOptions({ sourceAddress: z.sourceAddress }))),
  );
  return outcomes.map((o, i) => ({ zone: zones[i]?.zone ?? '?', report: o.report }));
}

describe('two vantage points at once', () => {
  it('each probe leaves from its own address, and both work on a healthy VIP', async () => {
    const both = await fromBoth();
    assert.deepEqual(
      both.map((b) => (b.report.steps[0] as ReachStep).probe.from),
      [dc1, lab.addr.client],
    );
    assert.equal(compareVantages(both).culprit, 'none');
  });

  it('dc1 behind a path fault: fails from dc1 (SYN never reaches the LB), works from dc2', async () => {
    await dropFromVantage(lab, dc1, 'nginx');
    const both = await fromBoth();
    assert.deepEqual(
      both.map((b) => b.report.diagnosis.culprit),
      ['path-to-lb', 'none'],
    );
    const c = compareVantages(both);
    assert.equal(c.culprit, 'path-to-lb');
    assert.equal(c.finding, 'path-from-zones');
    assert.match(
      c.summary,
      /^Fails from dc1, works from dc2 \(the SYN never reaches the LB from dc1; works from dc2\)/,
    );
  });
});
