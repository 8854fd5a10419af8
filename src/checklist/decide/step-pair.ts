// Step 1 for a VIP served by an HA group (active/standby or active/active):
// captures ran on every node at once and each node said whether it holds the
// VIP address. A failover, a split brain or a VIP held by no node is named for
// what it is, never read as "the SYN did not reach the LB" (path-to-lb): a
// wrong culprit sends the incident to the wrong team. Pure, like step-reach.ts.
import { hostPort } from '../../model/endpoint-text.js';
import type { ReachStep } from '../../model/report.js';
import { findClientSyn } from './flow-analysis.js';
import type { ReachObservation } from '../observation.js';
import type { ReachDecision } from './step-reach.js';

type NodeFacts = NonNullable<ReachStep['nodes']>[number];

const list = (names: string[]): string =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

function nodeFacts(vip: string, port: number, obs: ReachObservation): NodeFacts[] {
  const id = { vip, port, sourcePort: obs.connect.localPort };
  return (obs.nodes ?? []).map((n) => ({
    name: n.label,
    sawSyn: n.lb ? findClientSyn(n.lb.packets, id) !== undefined : null,
    ownsVip: n.ownsVip,
    ...(n.error ? { error: n.error } : {}),
  }));
}

function reachedText(receivers: string[]): string {
  return receivers.length > 0 ? `the probe's SYN arrived at ${list(receivers)}` : "the probe's SYN reached no node";
}

/** Refines the single-LB decision (made on the handling node's capture) with what the whole group saw. */
// eslint-disable-next-line max-lines-per-function, complexity -- to split (issue 30, docs/architecture.md)
export function decidePairReach(
  vip: string,
  port: number,
  obs: ReachObservation,
  single: ReachDecision,
  /** Every node holds the VIP by design (ECMP, anycast): two holders are no split brain, another holder no failover. */
  activeActive = false,
): ReachDecision {
  const nodes = nodeFacts(vip, port, obs);
  if (nodes.length < 2) return single;
  // A node "handled" the probe only when its capture saw the SYN: with none seeing it, nobody handled anything.
  const handlerNode = obs.handledBy === undefined ? undefined : nodes[obs.handledBy];
  const handler = handlerNode?.sawSyn === true ? handlerNode.name : undefined;
  const base: ReachDecision = { ...single, nodes, ...(handler ? { handledBy: handler } : {}) };
  const owners = nodes.filter((n) => n.ownsVip === true).map((n) => n.name);
  const receivers = nodes.filter((n) => n.sawSyn === true).map((n) => n.name);
  const everyOwnerKnown = nodes.every((n) => n.ownsVip !== null);
  const group = list(nodes.map((n) => n.name));
  const target = `${hostPort(vip, port)}`;

  if (owners.length >= 2 && !activeActive) {
    return {
      ...base,
      verdict: single.verdict === 'pass' ? 'warn' : 'fail',
      finding: 'split-brain',
      summary:
        `Split brain: ${list(owners)} ${owners.length === 2 ? 'both' : 'all'} hold the VIP ${vip} (\`ip -o ` +
        `addr\` on each node), and ${reachedText(receivers)}. Which node gets a connection depends on whose ARP ` +
        `reply or route the network saw last, so connections break, flap or land on a node without their state. ` +
        `This probe: ${single.summary}`,
    };
  }
  if (owners.length === 0 && everyOwnerKnown) {
    return {
      ...base,
      verdict: 'fail',
      finding: 'vip-on-no-node',
      summary:
        `No node of the group (${group}) holds the VIP ${vip} (\`ip -o addr\` on each node): the HA ` +
        `manager (keepalived, pacemaker...) has released it everywhere, so nothing can accept connections to ` +
        `${target}; ${reachedText(receivers)}${receivers.length > 0 ? ', which does not hold it' : ''}.`,
    };
  }
  const unknown = nodes.filter((n) => n.ownsVip === null).map((n) => n.name);
  const nonHolders = nodes.filter((n) => n.sawSyn === true && n.ownsVip === false).map((n) => n.name);
  if (owners.length === 0 && unknown.length > 0 && nonHolders.length > 0 && nonHolders.length === receivers.length) {
    // The node the traffic reached is known not to hold the VIP; where it is held could not be asked.
    return {
      ...base,
      verdict: 'fail',
      finding: 'vip-on-wrong-node',
      summary:
        `The probe's SYN arrived at ${list(receivers)}, which does not hold the VIP ${vip} (\`ip -o ` +
        `addr\`), so nothing there accepts it as the VIP; whether ${list(unknown)} holds it is unknown ` +
        `(${unknown.length > 1 ? 'they' : 'it'} could not be asked). The network delivers the VIP to a node ` +
        `that does not hold it: after a failover the new owner's gratuitous ARP or route announcement did not ` +
        `take, or no node holds it at all.`,
    };
  }
  const owner = owners[0];
  if (owner !== undefined && receivers.length > 0 && !receivers.some((r) => owners.includes(r))) {
    return {
      ...base,
      verdict: 'fail',
      finding: 'vip-on-wrong-node',
      summary:
        `${list(owners)} ${owners.length > 1 ? 'hold' : 'holds'} the VIP ${vip}, but ` +
        `${reachedText(receivers)}, which does not: the network still delivers the VIP to the old node (a stale ` +
        `ARP/neighbour entry or route after a failover: the new owner's gratuitous ARP or route announcement ` +
        `did not take).`,
    };
  }
  const where = handler ? ` ${handler} handled it (HA group: ${group}).` : '';
  const first = nodes[0]?.name;
  if (!activeActive && owner !== undefined && owner === handler && owner !== first && single.verdict === 'pass') {
    return {
      ...base,
      finding: 'failed-over',
      summary:
        `${single.summary}${where} ${owner} holds the VIP, not ${first ?? 'the first node'}: the pair has ` +
        `failed over to its standby.`,
    };
  }
  return { ...base, summary: `${single.summary}${where}` };
}
