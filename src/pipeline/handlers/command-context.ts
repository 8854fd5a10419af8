// What every command handler needs besides its parsed command: who asked and where, the inventory and policy of
// this moment (read once per command, so a reload mid-command cannot mix two), the policy gate, and which checks
// the asker may read.
import type { Inventory, InventoryVip } from '../../inventory/inventory-types.js';
import { authorize, inventoryVipFor, refusalText, type AccessRequest } from '../../policy/authorize.js';
import { NO_POLICY, type Policy } from '../../policy/policy-types.js';
import { checkableNames, mayRead } from '../../policy/visibility.js';
import type { CheckRecord } from '../../model/jobs.js';
import type { Incoming, IntakeDeps, IntakeReply } from '../intake-types.js';

export interface CommandContext {
  incoming: Incoming;
  deps: IntakeDeps;
  inventory: Inventory | undefined;
  policy: Policy;
  vips: ReadonlyMap<string, InventoryVip>;
}

export function commandContext(incoming: Incoming, deps: IntakeDeps): CommandContext {
  const inventory = deps.inventory();
  return { incoming, deps, inventory, policy: inventory?.policy ?? NO_POLICY, vips: inventory?.vips ?? new Map() };
}

/** The policy's refusal of this request (logged), or undefined when it is allowed. */
export function gate(ctx: CommandContext, req: Omit<AccessRequest, 'requester' | 'channel'>): IntakeReply | undefined {
  const { incoming, policy } = ctx;
  const d = authorize(policy, ctx.vips, {
    ...req,
    requester: incoming.requester,
    channel: incoming.replyTo.channel,
    channelPlatform: incoming.replyTo.platform,
  });
  if (d.allowed) return undefined;
  ctx.deps.log.log('info', 'refused by policy', {
    user: `${incoming.requester.platform}:${incoming.requester.id}`,
    channel: incoming.replyTo.channel,
    reason: d.reason,
    rule: d.rule ?? null,
    command: incoming.text.slice(0, 200),
  });
  return { kind: 'refused', text: refusalText(policy, d) };
}

/** Whether the asker may see this check (status, history, cancel): a check they may not read does not exist. */
export function visible(ctx: CommandContext, r: CheckRecord): boolean {
  return mayRead(ctx.policy, ctx.vips, ctx.incoming, r);
}

/**
 * The name a target is queued, limited and remembered under: an inventory VIP typed as ip:port is its inventory
 * name, so one target has one name for limits and history; anything else stays as typed.
 */
export function targetName(ctx: CommandContext, target: string): string {
  return inventoryVipFor(target, ctx.vips)?.name ?? target;
}

/** The inventory names this asker may check, for an unknown-target answer: the inventory is not for all to read. */
export function checkableText(ctx: CommandContext): string {
  return checkableNames(ctx.policy, ctx.vips, ctx.incoming).join(', ') || '(none you may check)';
}
