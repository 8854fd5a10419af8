// Reads the "policy:" section of the inventory, with line numbers for every
// problem. No section at all: chat platforms are refused (default deny).
import { isSeq, type Node } from 'yaml';
import { entries, field, scalar, type Problems } from '../inventory/yaml-helpers.js';
import { parseCidr, type Cidr } from './cidr.js';
import { ALERT_PRINCIPAL_PLATFORM } from '../model/alert-trigger.js';
import { PLATFORMS } from '../model/platforms.js';
import { DEFAULT_LIMITS, type Policy, type PolicyRule } from './policy-types.js';

// Principals name a platform's users, or an alert source (alert:alertmanager), which starts checks like a user.
const PLATFORM_IDS = [...PLATFORMS.map((p) => p.id), ALERT_PRINCIPAL_PLATFORM].join('|');
const PRINCIPAL = new RegExp(`^(${PLATFORM_IDS}):[^\\s:]+(?::[^\\s]+)*$`);
const PLATFORM_ANY = new RegExp(`^(${PLATFORM_IDS}):\\*$`);

function list(p: Problems, node: Node | null | undefined, what: string): { text: string; node: Node }[] {
  if (node === undefined || node === null) return [];
  if (!isSeq(node)) {
    p.at(node, `${what} must be a list`);
    return [];
  }
  return (node.items as Node[]).flatMap((n) => {
    const text = scalar(n);
    if (text === undefined) {
      p.at(n, `${what} entries must be strings`);
      return [];
    }
    return [{ text, node: n }];
  });
}

const platformList = (): string => [...PLATFORMS.map((x) => x.id), ALERT_PRINCIPAL_PLATFORM].join(', ');
const PRINCIPAL_EXAMPLES =
  '(slack:U0123, teams:<id>, console:alice, alert:alertmanager, or slack:* for everyone there)';

function principals(p: Problems, node: Node | null | undefined, what: string): string[] {
  return list(p, node, what).flatMap(({ text, node: n }) => {
    if (PRINCIPAL.test(text) || PLATFORM_ANY.test(text)) return [text];
    p.at(n, `${what}: "${text}" must be platform:id, platform one of ${platformList()} ${PRINCIPAL_EXAMPLES}`);
    return [];
  });
}

function cidrs(p: Problems, node: Node | null | undefined, what: string): Cidr[] {
  return list(p, node, what).flatMap(({ text, node: n }) => {
    try {
      return [parseCidr(text)];
    } catch (err) {
      p.at(n, `${what}: ${(err as Error).message}`);
      return [];
    }
  });
}

function positive(p: Problems, map: Node | null, name: string, fallback: number): number {
  const n = field(map, name);
  const text = scalar(n);
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1 || v > 100_000) {
    p.at(n, `${name} must be a whole number from 1 to 100000`);
    return fallback;
  }
  return v;
}

export function loadPolicy(p: Problems, node: Node | null | undefined, vips: { has(name: string): boolean }): Policy {
  if (node === undefined || node === null)
    return { rules: [], admins: [], contact: '', limits: DEFAULT_LIMITS, absent: true };
  // Field names and types are checked by the schema (policy-schema.ts) before this runs.
  const rules: PolicyRule[] = [];
  const rulesNode = field(node, 'rules');
  if (rulesNode !== undefined && rulesNode !== null && !isSeq(rulesNode))
    p.at(rulesNode, 'policy.rules must be a list');
  for (const [i, r] of (isSeq(rulesNode) ? (rulesNode.items as Node[]) : []).entries()) {
    const name = scalar(field(r, 'name')) ?? `rule ${i + 1}`;
    const targets = list(p, field(r, 'targets'), `rule "${name}" targets`).map(({ text, node: n }) => {
      if (!text.includes('*') && !vips.has(text))
        p.at(n, `rule "${name}" names target "${text}", which is not in vips`);
      return text;
    });
    rules.push({
      name,
      users: principals(p, field(r, 'users'), `rule "${name}" users`),
      groups: principals(p, field(r, 'groups'), `rule "${name}" groups`),
      channels: principals(p, field(r, 'channels'), `rule "${name}" channels`),
      targets,
      cidrs: cidrs(p, field(r, 'cidrs'), `rule "${name}" cidrs`),
    });
  }
  if (scalar(field(node, 'allowEveryone')) === 'true') {
    rules.push({ name: 'allowEveryone', users: [], groups: [], channels: [], targets: ['*'], cidrs: [] });
  }
  const limitsNode = field(node, 'limits');
  for (const [k, keyNode] of entries(node))
    if (k === 'rules' && keyNode === null) p.at(keyNode, 'policy.rules is empty');
  return {
    rules,
    admins: principals(p, field(node, 'admins'), 'policy admins'),
    contact: scalar(field(node, 'contact')) ?? '',
    limits: {
      perUserPerMinute: positive(p, limitsNode ?? null, 'perUserPerMinute', DEFAULT_LIMITS.perUserPerMinute),
      perChannelPerMinute: positive(p, limitsNode ?? null, 'perChannelPerMinute', DEFAULT_LIMITS.perChannelPerMinute),
      inFlightPerTarget: positive(p, limitsNode ?? null, 'inFlightPerTarget', DEFAULT_LIMITS.inFlightPerTarget),
    },
    absent: false,
  };
}

/** Startup warnings: rules that let anyone in. */
export function policyWarnings(policy: Policy): string[] {
  if (policy.absent)
    return [
      'no policy section in the inventory: chat platforms are refused every check; only the console may run checks',
    ];
  return policy.rules.filter((r) => r.users.length === 0 && r.groups.length === 0).map(openRuleWarning);
}

/** "policy rule "x" allows everyone on every platform[ in <channels>] to check <targets>[ and <ranges>]". */
function openRuleWarning(r: PolicyRule): string {
  const where = r.channels.length ? ` in ${r.channels.join(', ')}` : '';
  const targets = r.targets.join(', ') || 'no inventory target';
  const ranges = r.cidrs.length ? ` and ${r.cidrs.map((c) => c.text).join(', ')}` : '';
  return `policy rule "${r.name}" allows everyone on every platform${where} to check ${targets}${ranges}`;
}
