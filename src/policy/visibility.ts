// Who may read which checks: status and history show step text and internal
// addresses, so a user sees a check only when it was asked for in the channel
// they are in, or its target is one they may check from there, or they asked
// for it. Admins see all.
import type { InventoryVip } from '../inventory/inventory-types.js';
import type { CheckRecord, ReplyTo, Requester } from '../model/jobs.js';
import { authorize, isAdmin } from './authorize.js';
import type { Policy } from './policy-types.js';

export interface Reader {
  requester: Requester;
  replyTo: ReplyTo;
}

export function mayCheck(
  policy: Policy,
  vips: ReadonlyMap<string, InventoryVip>,
  reader: Reader,
  target: string,
): boolean {
  return authorize(policy, vips, {
    action: 'check',
    target,
    requester: reader.requester,
    channel: reader.replyTo.channel,
  }).allowed;
}

export function mayRead(
  policy: Policy,
  vips: ReadonlyMap<string, InventoryVip>,
  reader: Reader,
  record: CheckRecord,
): boolean {
  if (isAdmin(policy, reader.requester)) return true;
  const by = record.request.requester;
  if (by.platform === reader.requester.platform && by.id === reader.requester.id) return true;
  const where = record.request.replyTo;
  if (where.platform === reader.replyTo.platform && where.channel === reader.replyTo.channel) return true;
  return mayCheck(policy, vips, reader, record.request.target);
}

/** The inventory names this reader may check, for "unknown target" answers. */
export function checkableNames(policy: Policy, vips: ReadonlyMap<string, InventoryVip>, reader: Reader): string[] {
  return [...vips.keys()].filter((name) => mayCheck(policy, vips, reader, name));
}
