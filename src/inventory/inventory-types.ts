import type { Policy } from '../policy/policy-types.js';
import type { AlertsConfig } from './alerts-schema.js';
import type { InventoryLbFields, InventoryVipFields } from './inventory-schema.js';

// The inventory: load balancers lbcheck may SSH into, and named VIPs with
// their pool members. Loaded from YAML (LBCHECK_CONFIG or --config).

/** A load balancer lbcheck may SSH into: the fields are those of inventory-schema.ts, plus its name. */
export type InventoryLb = { name: string } & InventoryLbFields;

/**
 * A named VIP and its pool: the fields are those of inventory-schema.ts, plus its name, with `lb` resolved
 * (lb-groups.ts): the load balancer checked first and, for an HA group, every node in order.
 */
export type InventoryVip = { name: string } & Omit<InventoryVipFields, 'lb'> & {
    /** The load balancer to SSH into; for an HA group, its first node. */
    lb?: string;
    /** Every node of an HA group, in order (the first is expected to hold the VIP); absent for a single LB. */
    lbNodes?: string[];
    /** The group is active/active: every node holds the VIP by design (ECMP, anycast), so that is no split brain. */
    activeActive?: boolean;
  };

export interface Inventory {
  file: string;
  policy: Policy;
  loadBalancers: Map<string, InventoryLb>;
  vips: Map<string, InventoryVip>;
  /** The alerts section (alerts-schema.ts); absent: alerts start no checks. */
  alerts?: AlertsConfig;
}
