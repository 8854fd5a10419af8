// What the I/O phase of a check saw, step by step, and nothing it concluded.
// The decide phase (decide-check.ts) turns an observation into verdicts and a
// diagnosis without any I/O, so every rule can be tested on observations
// recorded from the lab (test/fixtures/checks) in milliseconds, without root.
import type { CaptureFacts } from '../capture/capture-facts.js';
import type { Packet } from '../capture/packet.js';
import type { HttpExchange } from '../probe/http-exchange.js';
import type { ConnectOutcome } from '../probe/tcp-connect.js';
import type { TlsInfo } from '../probe/tls-upgrade.js';
import type { LbView } from './lb-view.js';
import type { MemberResult } from '../model/report.js';

/** Bumped when a field changes meaning, so old fixtures are re-recorded rather than misread. */
export const OBSERVATION_VERSION = 1;

/** The HTTP statuses a VIP's health path is expected to answer with (inclusive). */
export interface StatusRange {
  min: number;
  max: number;
}

export const DEFAULT_EXPECT_STATUS: StatusRange = { min: 200, max: 399 };

export interface ConnectObservation {
  outcome: ConnectOutcome;
  errno?: string;
  ms: number;
  localAddress?: string;
  localPort: number;
}

export type CaptureEnd = 'stop' | 'packet-limit' | 'byte-limit' | 'time-limit' | 'exited' | 'unfinished';

/** A capture as it stood when a step was decided. */
export interface CaptureView {
  packets: Packet[];
  /** Set once the capture has ended: stopped by lbcheck, or a bound it hit first. */
  endedBy?: CaptureEnd;
  /** What tcpdump reported at exit; null when it did not say. */
  droppedByKernel?: number | null;
  maxPackets: number;
  maxBytes: number;
  /**
   * Host, interface, filter, window and the kernel's counts: what makes an empty capture proof. Absent in
   * observations recorded before they were kept (the evidence then says they were not recorded).
   */
  facts?: CaptureFacts;
}

export interface ObservedTarget {
  vip: string;
  port: number;
  name?: string;
  protocol: 'http' | 'tcp';
  tls: boolean;
  sni?: string;
  /** Label of the LB when lbcheck had SSH access to it. */
  lb?: string;
  /** An HA group whose nodes all hold the VIP by design (active/active). */
  activeActive?: boolean;
  /** The pool as the inventory or the command line lists it (may be empty). */
  members: { host: string; port: number }[];
  httpPath: string;
  expectStatus: StatusRange;
}

/** One node of an HA group as step 1 saw it (captures run on every node at once). */
export interface NodeReach {
  /** The node's label (inventory name and address). */
  label: string;
  /** This node's capture; null when it could not be started (see error). */
  lb: CaptureView | null;
  /** Whether `ip -o addr` lists the VIP on this node; null when that could not be read. */
  ownsVip: boolean | null;
  /** Why the node could not be captured on or asked, when it could not. */
  error?: string;
}

export interface ReachObservation {
  connect: ConnectObservation;
  probeFrom: string;
  /** The LB capture (of the node that handled the probe, for an HA group); null without SSH access to the LB. */
  lb: CaptureView | null;
  /**
   * Every node of an HA group (absent for a single LB), in inventory order; `handledBy` indexes the one
   * whose capture is `lb` and on which steps 2 and 3 ran.
   */
  nodes?: NodeReach[];
  handledBy?: number;
  /** The vantage point's own capture; null when it could not run (see localUnavailable). */
  local: CaptureView | null;
  localUnavailable?: string;
  ms: number;
}

export interface ModeObservation {
  /** The request sent on the probe connection; absent when there was no connection to send it on. */
  request?: { path: string; host: string; marker: string };
  exchange?: HttpExchange;
  tls?: TlsInfo;
  tlsError?: string;
  /** The whole LB capture, stopped after the exchange. */
  lb: CaptureView | null;
  /** Follow-up probes the I/O phase made to test a suspicion (each on a fresh connection). */
  reprobes: {
    /** The same request preceded by a PROXY protocol v1 header. */
    proxyV1?: HttpExchange;
    /** HEAD instead of GET: a reply that fits in one small segment. */
    head?: HttpExchange;
  };
  /** Read-only facts read from the LB when a step needed them (e.g. net.ipv4.ip_forward). */
  lbFacts: { ipForward?: string };
  /**
   * 'skipped': the request went out without the wait for a TCP proxy's own server connection, because this
   * process's last check of the VIP proved an HTTP proxy (proxy-kind-memory.ts).
   */
  tcpProxyWait?: 'skipped';
  ms: number;
}

export interface ServersObservation {
  members: MemberResult[];
  lbChecked: boolean;
  /** Member host → the LB's source address towards it (from `ip route get` on the LB). */
  lbSourceAddresses: Record<string, string>;
  /** The LB's own view of its pool, when the inventory says where to read it. */
  lbView?: LbView;
  ms: number;
}

export interface CheckObservation {
  version: typeof OBSERVATION_VERSION;
  id: string;
  /** When the probes ran: the clock for certificate validity, so deciding stays pure. */
  observedAt: string;
  target: ObservedTarget;
  options: { all: boolean; connectTimeoutMs: number; silentMs: number };
  /** The LB's interface names by ifindex (`ip -o link`), so evidence names interfaces as the LB does. */
  lbInterfaces?: Record<string, string>;
  /** The probing host's interface names by ifindex, for its capture's evidence. */
  probeInterfaces?: Record<string, string>;
  reach: ReachObservation;
  mode?: ModeObservation;
  servers?: ServersObservation;
}
