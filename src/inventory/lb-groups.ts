// HA groups in the inventory: a VIP's `lb:` names one load balancer, a list of
// them (`lb: [edge-a, edge-b]`), or a group declared once under `lbGroups:`
// (`lbGroups: { edge-pair: [edge-a, edge-b] }`). Order matters: the first node
// is the one expected to hold the VIP, so a VIP on another node reads as a
// failover. Kept apart from load-inventory.ts so the schema there can change
// without touching this.
import { isSeq, type Node } from 'yaml';
import type { InventoryLb } from './inventory-types.js';
import { entries, type Problems, scalar } from './yaml-helpers.js';

export type LbGroups = Map<string, string[]>;

function nodeList(p: Problems, node: Node, what: string, lbs: Map<string, InventoryLb>): string[] | undefined {
  if (!isSeq(node)) return void p.at(node, `${what} must be a list of load balancer names`);
  const names = (node.items as Node[]).map((n) => scalar(n) ?? '');
  let ok = true;
  for (const [i, name] of names.entries()) {
    if (!lbs.has(name)) {
      ok = false;
      p.at((node.items as Node[])[i], `${what} names load balancer "${name}", which is not in loadBalancers`);
    }
  }
  if (new Set(names).size !== names.length) {
    ok = false;
    p.at(node, `${what} lists a load balancer twice`);
  }
  if (names.length === 0) {
    ok = false;
    p.at(node, `${what} is empty: list the nodes, the one expected to hold the VIP first`);
  }
  return ok ? names : undefined;
}

export function loadLbGroups(p: Problems, node: Node | null | undefined, lbs: Map<string, InventoryLb>): LbGroups {
  const groups: LbGroups = new Map();
  for (const [name, keyNode, value] of entries(node)) {
    if (lbs.has(name)) p.at(keyNode, `lbGroups "${name}" has the name of a load balancer; give the group its own name`);
    const nodes = value
      ? nodeList(p, value, `lbGroups "${name}"`, lbs)
      : void p.at(keyNode, `lbGroups "${name}" is empty`);
    if (nodes) groups.set(name, nodes);
  }
  return groups;
}

/** A VIP's `lb:`: the load balancer checked first (`lb`) and, for an HA group, every node in order (`lbNodes`). */
export function vipLb(
  p: Problems,
  node: Node | null | undefined,
  vipName: string,
  lbs: Map<string, InventoryLb>,
  groups: LbGroups,
): { lb?: string; lbNodes?: string[] } {
  if (node === undefined || node === null) return {};
  const what = `VIP "${vipName}" lb`;
  const nodes = isSeq(node) ? nodeList(p, node, what, lbs) : groups.get(scalar(node) ?? '');
  if (nodes) return nodes.length > 1 ? { lb: nodes[0], lbNodes: nodes } : { lb: nodes[0] };
  if (isSeq(node)) return {};
  const name = scalar(node) ?? '';
  if (!lbs.has(name)) {
    p.at(node, `VIP "${vipName}" names load balancer "${name}", which is not in loadBalancers or lbGroups`);
    return {};
  }
  return { lb: name };
}
