// Policy decisions. Every refusal names the rule that came closest and what
// it lacked, so the user knows exactly what to ask the policy owners for.
import { isIP } from 'node:net';
import type { InventoryVip } from '../inventory/inventory-types.js';
import type { Requester } from '../model/jobs.js';
import { parseEndpoint } from '../target/endpoint.js';
import { cidrContains } from './cidr.js';
import type { Policy, PolicyRule, Principal } from './policy-types.js';

export interface AccessRequest {
  requester: Requester;
  channel: string;
  /**
   * The platform of the channel, when it is not the requester's: an alert (requester alert:<source>) posts into
   * a Slack or Teams channel, and channel rules name it as such (slack:C0123).
   */
  channelPlatform?: string;
  /** check: run one; read: status/history; cancel: stop one. */
  action: 'check' | 'read' | 'cancel';
  target?: string;
  members?: string[];
}

export type Decision = { allowed: true; rule: string } | { allowed: false; reason: string; rule?: string };

function principalMatches(patterns: readonly Principal[], platform: string, id: string): boolean {
  return patterns.some((p) => {
    const colon = p.indexOf(':');
    const [pp, pid] = [p.slice(0, colon), p.slice(colon + 1)];
    return pp === platform && (pid === '*' || pid === id);
  });
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

export function isAdmin(policy: Policy, r: Requester): boolean {
  return principalMatches(policy.admins, r.platform, r.id);
}

/** The inventory VIP a target names, by name or by its address:port. */
export function inventoryVipFor(target: string, vips: ReadonlyMap<string, InventoryVip>): InventoryVip | undefined {
  const named = vips.get(target);
  if (named) return named;
  if (!target.includes(':')) return undefined;
  try {
    const e = parseEndpoint(target, 'target');
    return [...vips.values()].find((v) => v.address === e.host && v.port === e.port);
  } catch {
    return undefined;
  }
}

type Stage = 'who' | 'channel' | 'target' | 'members' | 'ok';
const RANK: Record<Stage, number> = { who: 0, channel: 1, target: 2, members: 3, ok: 4 };

function evaluate(
  rule: PolicyRule,
  req: AccessRequest,
  vips: ReadonlyMap<string, InventoryVip>,
): { stage: Stage; reason: string } {
  const { platform, id } = req.requester;
  const anyone = rule.users.length === 0 && rule.groups.length === 0;
  const inGroup = (req.requester.groups ?? []).some((g) => principalMatches(rule.groups, platform, g));
  if (!anyone && !principalMatches(rule.users, platform, id) && !inGroup) {
    return { stage: 'who', reason: `you (${platform}:${id}) are not allowed by any lbcheck policy rule` };
  }
  const channelPlatform = req.channelPlatform ?? platform;
  if (
    req.action !== 'cancel' &&
    rule.channels.length > 0 &&
    !principalMatches(rule.channels, channelPlatform, req.channel)
  ) {
    return {
      stage: 'channel',
      reason:
        `lbcheck may not be used in this channel (${channelPlatform}:${req.channel}); ` +
        `rule "${rule.name}" allows ${rule.channels.join(', ')}`,
    };
  }
  if (req.action !== 'check' || req.target === undefined) return { stage: 'ok', reason: '' };
  const vip = inventoryVipFor(req.target, vips);
  const ranges = rule.cidrs.map((c) => c.text).join(', ') || 'none';
  if (vip) {
    if (!rule.targets.some((t) => globMatches(t, vip.name))) {
      return {
        stage: 'target',
        reason:
          `target "${vip.name}" is not one you may check ` +
          `(rule "${rule.name}" allows ${rule.targets.join(', ') || 'no inventory targets'})`,
      };
    }
  } else {
    let host: string;
    try {
      host = parseEndpoint(req.target, 'target').host;
    } catch (err) {
      return { stage: 'target', reason: (err as Error).message };
    }
    if (isIP(host) === 0)
      return {
        stage: 'target',
        reason: `"${req.target}" is not in the inventory; ad-hoc targets must be IP addresses`,
      };
    if (!rule.cidrs.some((c) => cidrContains(c, host))) {
      return {
        stage: 'target',
        reason:
          `${req.target} is not in the inventory and ` +
          `${host} is outside the ranges rule "${rule.name}" allows (${ranges})`,
      };
    }
  }
  for (const m of req.members ?? []) {
    let host: string;
    try {
      host = parseEndpoint(m, 'member').host;
    } catch (err) {
      return { stage: 'members', reason: (err as Error).message };
    }
    if (isIP(host) === 0 || !rule.cidrs.some((c) => cidrContains(c, host))) {
      return {
        stage: 'members',
        reason: `member ${m} is outside the ranges rule "${rule.name}" allows for members (${ranges})`,
      };
    }
  }
  return { stage: 'ok', reason: '' };
}

export function authorize(policy: Policy, vips: ReadonlyMap<string, InventoryVip>, req: AccessRequest): Decision {
  if (policy.absent) {
    // Without a policy only the console (the local user, who could run `lbcheck run` anyway) is trusted.
    if (req.requester.platform === 'console') return { allowed: true, rule: 'console (no policy configured)' };
    return {
      allowed: false,
      reason:
        'no access policy is configured, so lbcheck refuses chat commands (add a policy section to the inventory)',
    };
  }
  let best: { stage: Stage; reason: string; rule: string } | undefined;
  for (const rule of policy.rules) {
    const r = evaluate(rule, req, vips);
    if (r.stage === 'ok') return { allowed: true, rule: rule.name };
    if (!best || RANK[r.stage] > RANK[best.stage]) best = { ...r, rule: rule.name };
  }
  if (!best) return { allowed: false, reason: 'the policy has no rules, so nobody may run checks' };
  return best.stage === 'who'
    ? { allowed: false, reason: best.reason }
    : { allowed: false, reason: best.reason, rule: best.rule };
}

export function refusalText(policy: Policy, d: Extract<Decision, { allowed: false }>): string {
  return `Refused by the lbcheck policy: ${d.reason}.${policy.contact ? ` ${policy.contact}` : ''}`;
}
