// HA groups in the inventory: a VIP's `lb:` names one load balancer, a list of
// them (`lb: [edge-a, edge-b]`), or a group declared once under `lbGroups:`
// (`lbGroups: { edge-pair: [edge-a, edge-b] }`). Order matters: the first node
// is the one expected to hold the VIP, so a VIP on another node reads as a
// failover. Kept apart from load-inventory.ts so the schema there can change
// without touching this. Works on the YAML nodes, so every problem has its line.
import { isMap, isSeq, type Node } from 'yaml';
import { entries, field, type Problems, scalar } from './yaml-helpers.js';

/** A named group: its nodes in order, and whether every node holds the VIP by design (ECMP / anycast). */
export interface LbGroup {
  nodes: string[];
  activeActive: boolean;
}

export type LbGroups = Map<string, LbGroup>;

function nodeList(p: Problems, node: Node, what: string, lbs: ReadonlySet<string>): string[] | undefined {
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

export function loadLbGroups(p: Problems, node: Node | null | undefined, lbs: ReadonlySet<string>): LbGroups {
  const groups: LbGroups = new Map();
  for (const [name, keyNode, value] of entries(node)) {
    const what = `lbGroups "${name}"`;
    if (lbs.has(name)) p.at(keyNode, `${what} has the name of a load balancer; give the group its own name`);
    // `name: [a, b]`, or `name: { nodes: [a, b], activeActive: true }` for a group where every node holds the VIP.
    const listNode = isMap(value) ? (field(value, 'nodes') ?? null) : value;
    for (const [key, keyAt] of isMap(value) ? entries(value) : [])
      if (key !== 'nodes' && key !== 'activeActive')
        p.at(keyAt, `unknown field "${key}" in ${what} (allowed: nodes, activeActive)`);
    const flag = isMap(value) ? scalar(field(value, 'activeActive')) : undefined;
    if (flag !== undefined && flag !== 'true' && flag !== 'false')
      p.at(field(value, 'activeActive'), `${what}: activeActive must be true or false, not "${flag}"`);
    const nodes = listNode ? nodeList(p, listNode, what, lbs) : void p.at(keyNode, `${what} is empty`);
    if (nodes) groups.set(name, { nodes, activeActive: flag === 'true' });
  }
  return groups;
}

/** A VIP's `lb:`: the load balancer checked first (`lb`) and, for an HA group, every node in order (`lbNodes`). */
export function vipLb(
  p: Problems,
  node: Node | null | undefined,
  vipName: string,
  lbs: ReadonlySet<string>,
  groups: LbGroups,
): { lb?: string; lbNodes?: string[]; activeActive?: boolean } {
  if (node === undefined || node === null) return {};
  const what = `VIP "${vipName}" lb`;
  const group = isSeq(node) ? undefined : groups.get(scalar(node) ?? '');
  const nodes = isSeq(node) ? nodeList(p, node, what, lbs) : group?.nodes;
  // nodeList never returns an empty list, so `first` is there whenever `nodes` is.
  const first = nodes?.[0];
  if (nodes && first !== undefined && nodes.length > 1)
    return { lb: first, lbNodes: nodes, ...(group?.activeActive ? { activeActive: true } : {}) };
  if (first !== undefined) return { lb: first };
  // Another shape (a mapping) is the schema's to report.
  if (isSeq(node) || scalar(node) === undefined) return {};
  const name = scalar(node) ?? '';
  if (!lbs.has(name)) {
    p.at(node, `VIP "${vipName}" names load balancer "${name}", which is not in loadBalancers or lbGroups`);
    return {};
  }
  return { lb: name };
}
