import type { LbViewSpec } from '../checklist/lb-view.js';
import type { StatusRange } from '../checklist/observation.js';
import type { Policy } from '../policy/policy-types.js';

// The inventory: load balancers lbcheck may SSH into, and named VIPs with
// their pool members. Loaded from YAML (LBCHECK_CONFIG or --config).

export interface InventoryLb {
  name: string;
  ssh: { user: string; host: string; port: number };
  /** Private key file for SSH. */
  identity: string;
  /** Pinned host key fingerprints (SHA256:...), and/or a known_hosts file. */
  hostKeys: string[];
  knownHosts?: string;
  captureInterface: string;
  /** Not root: tcpdump and the LB's view run through `sudo -n` with the rules `lbcheck sudoers` prints. */
  sudo?: boolean;
  /** The vantage-point zone whose workers probe this LB's VIPs. */
  zone?: string;
}

export interface InventoryVip {
  name: string;
  address: string;
  port: number;
  protocol: 'http' | 'tcp';
  tls: boolean;
  sni?: string;
  /** The load balancer to SSH into; for an HA group, its first node. */
  lb?: string;
  /** Every node of an HA group, in order (the first is expected to hold the VIP); absent for a single LB. */
  lbNodes?: string[];
  /** The group is active/active: every node holds the VIP by design (ECMP, anycast), so that is no split brain. */
  activeActive?: boolean;
  members: { host: string; port: number }[];
  zone?: string;
  /** Health path for step 2 and the member probes (default "/"). */
  httpPath?: string;
  /** Statuses that count as healthy for httpPath (default 200–399). */
  expectStatus?: StatusRange;
  /** Where to read the LB's own view of this VIP's pool. */
  lbView?: LbViewSpec;
}

export interface Inventory {
  file: string;
  policy: Policy;
  loadBalancers: Map<string, InventoryLb>;
  vips: Map<string, InventoryVip>;
}
