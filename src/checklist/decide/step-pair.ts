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

/** What the whole group saw, by node name. */
interface GroupView {
  vip: string;
  nodes: NodeFacts[];
  /** The node that handled the probe, when its capture saw the SYN (else none). */
  handler: string | undefined;
  /** Nodes that hold the VIP (`ip -o addr`). */
  owners: string[];
  /** Nodes whose capture saw the probe's SYN. */
  receivers: string[];
  /** Nodes that could not be asked whether they hold the VIP. */
  unknown: string[];
  /** "a, b and c": every node of the group. */
  group: string;
}

function groupView(vip: string, obs: ReachObservation, nodes: NodeFacts[]): GroupView {
  // A node "handled" the probe only when its capture saw the SYN: with none seeing it, nobody handled anything.
  const handlerNode = obs.handledBy === undefined ? undefined : nodes[obs.handledBy];
  return {
    vip,
    nodes,
    handler: handlerNode?.sawSyn === true ? handlerNode.name : undefined,
    owners: nodes.filter((n) => n.ownsVip === true).map((n) => n.name),
    receivers: nodes.filter((n) => n.sawSyn === true).map((n) => n.name),
    unknown: nodes.filter((n) => n.ownsVip === null).map((n) => n.name),
    group: list(nodes.map((n) => n.name)),
  };
}

/** What the group's view changes in step 1: its verdict (when it does), the finding and the summary. */
type GroupFinding = Pick<ReachDecision, 'summary'> &
  Partial<Pick<ReachDecision, 'verdict'>> & {
    finding: NonNullable<ReachStep['finding']>;
  };

function splitBrain(g: GroupView, single: ReachDecision): GroupFinding {
  const { owners, vip } = g;
  return {
    verdict: single.verdict === 'pass' ? 'warn' : 'fail',
    finding: 'split-brain',
    summary:
      `Split brain: ${list(owners)} ${owners.length === 2 ? 'both' : 'all'} hold the VIP ${vip} (\`ip -o ` +
      `addr\` on each node), and ${reachedText(g.receivers)}. Which node gets a connection depends on whose ARP ` +
      `reply or route the network saw last, so connections break, flap or land on a node without their state. ` +
      `This probe: ${single.summary}`,
  };
}

function vipOnNoNode(g: GroupView, target: string): GroupFinding {
  const { receivers } = g;
  return {
    verdict: 'fail',
    finding: 'vip-on-no-node',
    summary:
      `No node of the group (${g.group}) holds the VIP ${g.vip} (\`ip -o addr\` on each node): the HA ` +
      `manager (keepalived, pacemaker...) has released it everywhere, so nothing can accept connections to ` +
      `${target}; ${reachedText(receivers)}${receivers.length > 0 ? ', which does not hold it' : ''}.`,
  };
}

/** The node the traffic reached is known not to hold the VIP; where it is held could not be asked. */
function reachedNonHolder(g: GroupView): GroupFinding {
  const { receivers, unknown } = g;
  return {
    verdict: 'fail',
    finding: 'vip-on-wrong-node',
    summary:
      `The probe's SYN arrived at ${list(receivers)}, which does not hold the VIP ${g.vip} (\`ip -o ` +
      `addr\`), so nothing there accepts it as the VIP; whether ${list(unknown)} holds it is unknown ` +
      `(${unknown.length > 1 ? 'they' : 'it'} could not be asked). The network delivers the VIP to a node ` +
      `that does not hold it: after a failover the new owner's gratuitous ARP or route announcement did not ` +
      `take, or no node holds it at all.`,
  };
}

function reachedOldOwner(g: GroupView): GroupFinding {
  const { owners } = g;
  return {
    verdict: 'fail',
    finding: 'vip-on-wrong-node',
    summary:
      `${list(owners)} ${owners.length > 1 ? 'hold' : 'holds'} the VIP ${g.vip}, but ` +
      `${reachedText(g.receivers)}, which does not: the network still delivers the VIP to the old node (a stale ` +
      `ARP/neighbour entry or route after a failover: the new owner's gratuitous ARP or route announcement ` +
      `did not take).`,
  };
}

/** " b handled it (HA group: a and b)." when a node saw the SYN. */
const handledText = (g: GroupView): string => (g.handler ? ` ${g.handler} handled it (HA group: ${g.group}).` : '');

/** The first finding the group's view supports, in order of how much it explains; undefined: none. */
function groupFinding(
  g: GroupView,
  single: ReachDecision,
  activeActive: boolean,
  target: string,
): GroupFinding | undefined {
  const { nodes, owners, receivers, unknown } = g;
  if (owners.length >= 2 && !activeActive) return splitBrain(g, single);
  if (owners.length === 0 && nodes.every((n) => n.ownsVip !== null)) return vipOnNoNode(g, target);
  const nonHolders = nodes.filter((n) => n.sawSyn === true && n.ownsVip === false).map((n) => n.name);
  if (owners.length === 0 && unknown.length > 0 && nonHolders.length > 0 && nonHolders.length === receivers.length)
    return reachedNonHolder(g);
  const owner = owners[0];
  if (owner !== undefined && receivers.length > 0 && !receivers.some((r) => owners.includes(r)))
    return reachedOldOwner(g);
  const first = nodes[0]?.name;
  if (!activeActive && owner !== undefined && owner === g.handler && owner !== first && single.verdict === 'pass') {
    return {
      finding: 'failed-over',
      summary:
        `${single.summary}${handledText(g)} ${owner} holds the VIP, not ${first ?? 'the first node'}: the pair has ` +
        `failed over to its standby.`,
    };
  }
  return undefined;
}

/** Refines the single-LB decision (made on the handling node's capture) with what the whole group saw. */
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
  const g = groupView(vip, obs, nodes);
  const base: ReachDecision = { ...single, nodes, ...(g.handler ? { handledBy: g.handler } : {}) };
  const found = groupFinding(g, single, activeActive, `${hostPort(vip, port)}`);
  return found ? { ...base, ...found } : { ...base, summary: `${single.summary}${handledText(g)}` };
}
