import type { Policy } from '../policy/policy-types.js';
import type { InventoryLbFields, InventoryVipFields } from './inventory-schema.js';

// The inventory: load balancers lbcheck may SSH into, and named VIPs with
// their pool members. Loaded from YAML (LBCHECK_CONFIG or --config).

/** A load balancer lbcheck may SSH into: the fields are those of inventory-schema.ts, plus its name. */
export type InventoryLb = { name: string } & InventoryLbFields;

/** A named VIP and its pool: the fields are those of inventory-schema.ts, plus its name. */
export type InventoryVip = { name: string } & InventoryVipFields;

export interface Inventory {
  file: string;
  policy: Policy;
  loadBalancers: Map<string, InventoryLb>;
  vips: Map<string, InventoryVip>;
}
