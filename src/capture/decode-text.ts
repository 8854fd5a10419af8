// The readable decode evidence: the packets that decided, one line each,
// with a header that says what was captured where.
import { formatPacket } from './format-packet.js';
import type { Packet } from './packet.js';

export function decodeText(title: string, packets: readonly Packet[], notes: readonly string[] = []): string {
  const lines = [`# ${title}`, ...notes.map((n) => `# ${n}`)];
  if (packets.length === 0) lines.push('(no packets)');
  for (const p of packets) lines.push(formatPacket(p));
  return `${lines.join('\n')}\n`;
}
