// What a check needs to know, resolved from the command line or the inventory.
import type { LbViewSpec } from '../checklist/lb-view.js';
import { DEFAULT_EXPECT_STATUS, type StatusRange } from '../checklist/observation.js';
import type { LbAccess } from '../remote/lb-access.js';

export interface PoolMemberTarget {
  host: string;
  port: number;
}

export interface CheckTarget {
  vip: string;
  port: number;
  /** Inventory name, if the target came from there. */
  name?: string;
  protocol: 'http' | 'tcp';
  tls: boolean;
  sni?: string;
  /** TLS: a PEM bundle of the CAs the VIP's clients trust; the system's store when absent. */
  caFile?: string;
  members: PoolMemberTarget[];
  lb?: LbAccess;
  /**
   * Every node of an HA group serving the VIP, in inventory order (the first is the preferred active one); `lb` is
   * the first. Step 1 captures on all of them at once; steps 2 and 3 run on the node that handled the probe.
   */
  lbNodes?: LbAccess[];
  /** Every node of lbNodes holds the VIP by design (active/active): no split brain, no failover. */
  activeActive?: boolean;
  /** The health path step 2 and the member probes request; "/" when not set. */
  httpPath?: string;
  /** HTTP statuses that count as healthy for httpPath; 200–399 when not set. */
  expectStatus?: StatusRange;
  /** Where to read the LB's own view of the pool (HAProxy runtime API, iptables, nginx). */
  lbView?: LbViewSpec;
}

/** A target with every default filled in, as the engine uses it. */
export type ResolvedTarget = CheckTarget & { httpPath: string; expectStatus: StatusRange };

export function withDefaults(t: CheckTarget): ResolvedTarget {
  return { ...t, httpPath: t.httpPath ?? '/', expectStatus: t.expectStatus ?? DEFAULT_EXPECT_STATUS };
}

export interface CheckOptions {
  id: string;
  /** Run all steps even after one fails. */
  all: boolean;
  connectTimeoutMs: number;
  /** How long "nothing happens" after GET before calling it silent. */
  silentMs: number;
  /** Probe from this local address (a vantage point's own address); default: whatever the route picks. */
  sourceAddress?: string;
  /**
   * Render the ladder diagrams as PNG (chat shows them; default). A terminal
   * run that keeps no evidence skips it: the first render alone loads the
   * renderer and its font, a tenth of a second nobody would see.
   */
  ladderPng?: boolean;
}
