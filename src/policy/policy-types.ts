// The access policy: who may run which checks, from where, how often. Lives
// in the inventory file under "policy:".
import type { Cidr } from './cidr.js';

/** "platform:id", id may be "*": slack:U0123, teams:<aad object id>, console:alice, slack:*. */
export type Principal = string;

export interface PolicyRule {
  name: string;
  /** Empty users and groups: anyone. */
  users: Principal[];
  groups: Principal[];
  /** Empty: any channel. */
  channels: Principal[];
  /** Inventory target names, "*" globs allowed. */
  targets: string[];
  /** Ranges for ad-hoc ip:port targets and for members given in the command. */
  cidrs: Cidr[];
}

export interface Policy {
  rules: PolicyRule[];
  admins: Principal[];
  /** Who to ask; appended to every refusal. */
  contact: string;
  limits: { perUserPerMinute: number; perChannelPerMinute: number; inFlightPerTarget: number };
  /** True when the file has no policy section: chat platforms are refused, the console is trusted. */
  absent: boolean;
}

export const DEFAULT_LIMITS: Policy['limits'] = { perUserPerMinute: 10, perChannelPerMinute: 30, inFlightPerTarget: 3 };

/** The policy when there is no inventory: chat platforms refused, the console trusted. */
export const NO_POLICY: Policy = { rules: [], admins: [], contact: '', limits: DEFAULT_LIMITS, absent: true };
