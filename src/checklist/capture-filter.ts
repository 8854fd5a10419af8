// The BPF filters lbcheck asks tcpdump for. Built only from parsed addresses
// and numbers, never from raw user text.
import { isIP } from 'node:net';

function hostTerm(host: string): string {
  if (isIP(host) === 0) throw new Error(`capture filter needs an IP address, got ${JSON.stringify(host)}`);
  return `host ${host}`;
}

/**
 * On the LB: the probe's own flow to the VIP, plus, to see the server side
 * without knowing the pool, every SYN/RST and every segment that starts with
 * "GET " (the proxied request), except the SSH session carrying the capture.
 */
export function lbCaptureFilter(vip: string, port: number, sshPort: number): string {
  const getPayload = 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420';
  return `(${hostTerm(vip)} and tcp port ${port}) or (tcp and not port ${sshPort} and (tcp[tcpflags] & (tcp-syn|tcp-rst) != 0 or ${getPayload}))`;
}

/** At the vantage point: the probe's flow and any ICMP error (which names its sender). */
export function localCaptureFilter(vip: string, port: number): string {
  return `(${hostTerm(vip)} and tcp port ${port}) or icmp or icmp6`;
}
