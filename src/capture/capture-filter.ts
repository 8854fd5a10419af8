// The BPF filters lbcheck asks tcpdump for. Built only from parsed addresses
// and numbers, never from raw user text.
//
// A production LB carries thousands of unrelated connections a second, and a
// capture cap that fills with them turns a healthy VIP into a false finding.
// So the LB filter selects the probe's own flow exactly (VIP, port and the
// source port the probe will use), and on the server side only what can
// belong to it: connections to the pool members, and connections the LB
// itself opens (to find a pool that differs from the inventory). Inbound
// SYNs to other VIPs and the LB's resets to them are never captured.
import { isIP } from 'node:net';

function checkedIp(host: string): string {
  if (isIP(host) === 0) throw new Error(`capture filter needs an IP address, got ${JSON.stringify(host)}`);
  return host;
}

function checkedPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`capture filter: bad port ${port}`);
  return port;
}

/** The probe's source port, or for a capture shared by many checks the range their probes use. */
export type ProbePorts = number | PortRange;

export interface PortRange {
  first: number;
  last: number;
}

function probePortMatch(ports: ProbePorts): string {
  if (typeof ports === 'number') return `tcp port ${checkedPort(ports)}`;
  if (ports.first > ports.last) throw new Error(`capture filter: bad port range ${ports.first}-${ports.last}`);
  return `tcp portrange ${checkedPort(ports.first)}-${checkedPort(ports.last)}`;
}

export interface LbFilterInput {
  vip: string;
  port: number;
  /** The source port the probe connects from (chosen before the capture starts), or a shared range. */
  sourcePort: ProbePorts;
  members: readonly { host: string; port: number }[];
  /** The SSH port carrying the capture, never captured itself. */
  sshPort: number;
}

/** Segments worth seeing on a server-side connection: handshake, end, and the first bytes of a request or answer. */
export const SERVER_SIDE_SEGMENTS =
  '(tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0' +
  ' or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420' + // "GET "
  ' or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x48454144' + // "HEAD"
  ' or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x48545450)'; // "HTTP"

/**
 * Connections the LB opens itself (any destination), and what answers them: the pool as the LB really uses it.
 * Outbound SYNs are the LB's own; SYN-ACKs and resets coming in answer them. Also the template of the LB
 * capture helper (lb-helpers.ts), which passes shell variables for the two values.
 */
export const LB_FILTER_OPENED = (sshPort: string, vip: string): string =>
  `(tcp and not port ${sshPort} and (` +
  '(outbound and tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn)' +
  ' or (inbound and tcp[tcpflags] & (tcp-syn|tcp-ack) = (tcp-syn|tcp-ack))' +
  ` or (inbound and tcp[tcpflags] & tcp-rst != 0 and not host ${vip})` +
  ' or (outbound and tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)))';

export function lbCaptureFilter(input: LbFilterInput): string {
  const vip = checkedIp(input.vip);
  const probe = `(host ${vip} and tcp port ${checkedPort(input.port)} and ${probePortMatch(input.sourcePort)})`;
  const members = input.members.map((m) => `(host ${checkedIp(m.host)} and tcp port ${checkedPort(m.port)})`);
  const toMembers = members.length > 0 ? [`(tcp and (${members.join(' or ')}) and ${SERVER_SIDE_SEGMENTS})`] : [];
  return [probe, ...toMembers, LB_FILTER_OPENED(String(checkedPort(input.sshPort)), vip)].join(' or ');
}

/** A filter on the LB as tcpdump's expression and as the capture helper's arguments (lb-helpers.ts). */
export interface LbFilter {
  filter: string;
  /** The same filter for `lbcheck-capture`, which builds it itself from these addresses and ports. */
  helperFilter: string[];
}

/** The LB's capture for one probe (its own source port): the expression and the helper's `flow` arguments. */
export function lbFlowFilter(input: LbFilterInput & { sourcePort: number }): LbFilter {
  const members = input.members.flatMap((m) => [m.host, String(m.port)]);
  return {
    filter: lbCaptureFilter(input),
    helperFilter: ['flow', input.vip, String(input.port), String(input.sourcePort), String(input.sshPort), ...members],
  };
}

/** At the vantage point: the probe's flow and any ICMP error (which names its sender). */
export function localCaptureFilter(vip: string, port: number, sourcePort: ProbePorts): string {
  const probe = `host ${checkedIp(vip)} and tcp port ${checkedPort(port)} and ${probePortMatch(sourcePort)}`;
  return `(${probe}) or icmp or icmp6`;
}

/**
 * On the LB, while it connects to one member itself (step 3): the SYNs between them, both ways (its SYNs, the
 * member's SYN-ACKs). A capture sees an arriving packet before the LB's own firewall does (ignored-answers.ts).
 */
export function memberAnswersFilter(host: string, port: number): LbFilter {
  return {
    filter: `tcp and host ${checkedIp(host)} and tcp port ${checkedPort(port)} and tcp[tcpflags] & tcp-syn != 0`,
    helperFilter: ['member-syns', host, String(port)],
  };
}
