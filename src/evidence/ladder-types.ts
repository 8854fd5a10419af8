// The ladder (sequence) diagram of one step, as data: columns for the client,
// hops that answered on the way, the LB and each server it talked to; one row
// per packet (retransmissions collapsed into one row with a count and span);
// dashed rows for replies that never came. The SVG and the decode are both
// drawn from this, so they always list the same arrows.
import type { Packet } from '../capture/packet.js';

export type ColumnRole = 'client' | 'hop' | 'lb' | 'server';
export type Side = 'client side' | 'server side';

export interface LadderColumn {
  id: string;
  role: ColumnRole;
  title: string;
  /** Addresses this column stands for (e.g. the VIP and the LB's server-side address). */
  addresses: string[];
}

export interface PacketRow {
  kind: 'packet';
  from: string;
  to: string;
  label: string;
  /** 1, or how many identical copies (retransmissions) this row stands for. */
  count: number;
  /**
   * More than 1 when the row stands for unanswered SYNs of several connections the LB opened (health checks,
   * retries).
   */
  connections?: number;
  firstUs: number;
  lastUs: number;
  side: Side;
  /** The LB interface it was captured on, named as the LB names it when known. */
  iface?: string;
  /** 'lb' for the LB capture, 'probe' for the capture at the vantage point. */
  seenAt: 'lb' | 'probe';
  deciding: boolean;
  /** "198.18.0.2:41000 > 198.18.2.1:80" */
  endpoints: string;
  detail: string;
  packets: Packet[];
}

export interface MissingRow {
  kind: 'missing';
  from: string;
  to: string;
  /** e.g. "no SYN-ACK" */
  label: string;
  side: Side;
  waitedMs?: number;
}

export type LadderRow = PacketRow | MissingRow;

export interface Ladder {
  title: string;
  columns: LadderColumn[];
  rows: LadderRow[];
  /** One sentence: what the packets show. */
  summary: string;
  /** Time of the first row, for offsets. */
  startUs: number;
  lbCaptured: boolean;
}

/** What the engine knows about the probe; every field optional, derived from packets when absent. */
export interface LadderSides {
  vip: string;
  port: number;
  clientAddress?: string;
  /** Pool members as "address:port" or "address". */
  members?: readonly string[];
}

/** A reply the engine waited for in vain, by address (the VIP stands for the LB). */
export interface ExpectedReply {
  from: string;
  to: string;
  what: string;
  waitedMs?: number;
}

export interface LadderInput {
  title: string;
  packets: readonly Packet[];
  deciding?: readonly Packet[];
  /** Packets captured at the vantage point (drawn as "seen at the probe"). */
  probePackets?: readonly Packet[];
  interfaces?: ReadonlyMap<number, string>;
  sides?: LadderSides;
  missing?: readonly ExpectedReply[];
  /** When the capture ended, for "waited N s" on replies that never came. */
  endUs?: number;
  /** False when there was no LB capture at all (no SSH access): then an empty capture proves nothing. */
  lbCaptured?: boolean;
}
