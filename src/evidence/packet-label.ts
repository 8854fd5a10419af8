// What one packet says, in words a tired human reads: "SYN", "SYN-ACK",
// "GET / HTTP/1.1", "HTTP/1.1 503 Service Unavailable", "ICMP port unreachable".
// Payload text comes from the network: it is cleaned to printable ASCII here
// and escaped by every renderer (SVG, Block Kit, Adaptive Cards) on its own.
import type { Packet } from '../capture/packet.js';

const HTTP_FIRST_LINE = /^(?:HTTP\/\d(?:\.\d)? \d{3}[^\r\n]*|[A-Z]{3,10} \S+ HTTP\/\d(?:\.\d)?)/;
const MAX_TEXT = 60;

export function flagWords(p: Packet): string {
  const f = p.tcp?.flags;
  if (!f) return '';
  if (f.syn) return f.ack ? 'SYN-ACK' : 'SYN';
  if (f.rst) return f.ack ? 'RST-ACK' : 'RST';
  if (f.fin) return f.ack ? 'FIN-ACK' : 'FIN';
  return f.ack ? 'ACK' : 'no flags';
}

/** Printable ASCII only (server-supplied bytes), cut to a line's worth. */
export function cleanText(text: string, max = MAX_TEXT): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?').trim();
  return printable.length > max ? `${printable.slice(0, max - 1)}…` : printable;
}

/** The HTTP request or status line a segment starts with, if any. */
export function httpFirstLine(p: Packet): string | undefined {
  const payload = p.tcp?.payload;
  if (!payload || payload.length === 0) return undefined;
  const m = HTTP_FIRST_LINE.exec(payload.subarray(0, 200).toString('latin1'));
  return m ? cleanText(m[0]) : undefined;
}

export function packetLabel(p: Packet): string {
  if (p.icmp) {
    const u = p.icmp.unreachable;
    return u ? `ICMP ${u.reason}` : `ICMP type ${p.icmp.type} code ${p.icmp.code}`;
  }
  if (!p.tcp) return p.ip ? `IP protocol ${p.ip.protocol}` : cleanText(p.note ?? 'non-IP');
  const flags = flagWords(p);
  if (p.tcp.payloadLength === 0) return flags;
  const http = httpFirstLine(p);
  return http ? `${http} (${p.tcp.payloadLength} B)` : `${flags} ${p.tcp.payloadLength} B`;
}
