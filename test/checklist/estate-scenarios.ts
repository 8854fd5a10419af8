// Real LB estates (issue 17). HA pairs: the lab's LB and its standby
// (test/lab/standby.ts) serve the HAProxy http VIP; each fault moves or
// duplicates the VIP address. Step 1 must name the node and the pair's state,
// and never blame the path to the LB for the pair's own disarray. And an LB
// account without root: tcpdump and the LB's view through sudo -n.
import type { Report } from '../../src/model/report.js';
import { failoverToStandby, splitBrain, staleRouteAfterFailover, vipOnNoNode } from '../lab/standby.js';
import type { Scenario } from './scenarios.js';
import { allowLbcheckSudo } from './sudo-rules.js';

/** An `also` check on step 1 of an HA pair: which node handled the probe, and what each node saw and held. */
function pairSaw(handledBy: RegExp, sawSyn: boolean[], ownsVip: boolean[], finding?: string) {
  return (r: Report): void => {
    const reach = r.steps.find((s) => s.step === 1);
    if (reach?.step !== 1) throw new Error('no step 1');
    const got = JSON.stringify({ handledBy: reach.handledBy, nodes: reach.nodes, finding: reach.finding });
    if (!handledBy.test(reach.handledBy ?? '')) throw new Error(`handled by: ${got}`);
    if (JSON.stringify(reach.nodes?.map((n) => n.sawSyn)) !== JSON.stringify(sawSyn)) throw new Error(`SYN: ${got}`);
    if (JSON.stringify(reach.nodes?.map((n) => n.ownsVip)) !== JSON.stringify(ownsVip)) throw new Error(`VIP: ${got}`);
    if (reach.finding !== finding) throw new Error(`step 1 finding: ${got}`);
    if (!r.diagnosis.summary.includes(reach.handledBy ?? '?')) throw new Error('the diagnosis does not name the node');
  };
}

// Never "the path to the LB" when the pair itself is in disarray: that would send the incident to the wrong team.
const NOT_THE_PATH = [/network \/ firewall team|dropped or misrouted before the LB|another device answered/];

export const ESTATE_SCENARIOS: Scenario[] = [
  {
    name: 'pair-active',
    vip: 'haproxy-http',
    pair: true,
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      says: [/lab-lb \(/],
      also: pairSaw(/^lab-lb \(/, [true, false], [true, false]),
    },
  },
  {
    name: 'failover-to-standby',
    vip: 'haproxy-http',
    pair: true,
    fault: failoverToStandby,
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      says: [/lab-lb2 .*failed over/],
      also: pairSaw(/^lab-lb2 \(/, [false, true], [false, true], 'failed-over'),
    },
  },
  {
    name: 'split-brain',
    vip: 'haproxy-http',
    pair: true,
    busy: true,
    fault: splitBrain,
    expect: {
      verdicts: '1:warn 2:pass 3:pass',
      culprit: 'lb',
      finding: 'split-brain',
      says: [/Split brain/, /lab-lb \(.*lab-lb2 \(/],
      also: pairSaw(/^lab-lb \(/, [true, false], [true, true], 'split-brain'),
    },
  },
  {
    name: 'vip-on-no-node',
    vip: 'haproxy-http',
    pair: true,
    busy: true,
    fault: vipOnNoNode,
    expect: {
      verdicts: '1:fail 2:skipped 3:skipped',
      culprit: 'lb',
      finding: 'vip-on-no-node',
      says: [/No node of the group/],
      neverSays: NOT_THE_PATH,
      also: pairSaw(/^lab-lb \(/, [true, false], [false, false], 'vip-on-no-node'),
    },
  },
  {
    name: 'vip-on-wrong-node',
    vip: 'haproxy-http',
    pair: true,
    fault: staleRouteAfterFailover,
    expect: {
      verdicts: '1:fail 2:skipped 3:skipped',
      culprit: 'lb',
      finding: 'vip-on-wrong-node',
      says: [/lab-lb2 .* holds the VIP/, /gratuitous ARP/],
      neverSays: NOT_THE_PATH,
      also: pairSaw(/^lab-lb \(/, [true, false], [false, true], 'vip-on-wrong-node'),
    },
  },
  {
    // --all: steps 2 and 3 run on the node that saw the SYN; it does not hold the VIP, so step 2 does not judge it.
    name: 'vip-on-wrong-node-all',
    vip: 'haproxy-http',
    pair: true,
    all: true,
    fault: staleRouteAfterFailover,
    expect: {
      verdicts: '1:fail 2:skipped 3:\\w+',
      culprit: 'lb',
      finding: 'vip-on-wrong-node',
      modeFinding: 'not-reached',
      neverSays: NOT_THE_PATH,
    },
  },
  {
    name: 'sudo-user',
    vip: 'haproxy-http',
    sudo: true,
    view: true,
    fault: allowLbcheckSudo,
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      also: (r) => {
        const s3 = r.steps.find((s) => s.step === 3);
        if (s3?.step !== 3 || !s3.lbView || s3.lbView.error || s3.lbView.pool.length === 0)
          throw new Error(`the LB view through sudo: ${JSON.stringify(s3?.step === 3 ? s3.lbView : null)}`);
      },
    },
  },
];
