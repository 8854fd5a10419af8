// The readable decode, drawn from the same ladder as the diagram: a summary
// sentence, the columns, then one line per arrow (retransmissions collapsed
// with their count and span) saying the LB interface, the direction and the
// side of the LB, and one "(never)" line per reply that did not come.
import type { Ladder, LadderColumn, MissingRow, PacketRow } from './ladder-types.js';
import { formatSpan } from './ladder-summary.js';

/** Offset from the first packet: milliseconds under a second (where the story usually is), then seconds. */
export function offsetText(us: number): string {
  return us < 1_000_000 ? `+${(us / 1000).toFixed(1)} ms` : `+${(us / 1_000_000).toFixed(3)} s`;
}

export function countText(row: PacketRow): string {
  if (row.count === 1) return '';
  const on = row.connections && row.connections > 1 ? ` on ${row.connections} connections` : '';
  return ` ×${row.count}${on} over ${formatSpan(row.lastUs - row.firstUs)}`;
}

export function missingText(row: MissingRow): string {
  return `nothing: ${row.label}${row.waitedMs !== undefined ? ` (waited ${formatSpan(row.waitedMs * 1000)})` : ''}`;
}

function columnText(c: LadderColumn): string {
  return `${c.title}${c.addresses.length ? ` ${c.addresses.join(', ')}` : ''}`;
}

function name(id: string, cols: readonly LadderColumn[]): string {
  const c = cols.find((x) => x.id === id);
  if (!c) return id;
  return c.role === 'lb' ? 'LB' : c.role === 'client' ? 'client' : (c.addresses[0] ?? c.title);
}

function packetLine(row: PacketRow, startUs: number): string {
  const first = row.packets[0];
  const where = row.seenAt === 'probe' ? 'at probe' : (row.iface ?? 'LB');
  const dir = first && first.direction !== 'unknown' ? ` ${first.direction}` : '';
  const mark = row.deciding ? '  <== decided the step' : '';
  const when = offsetText(row.firstUs - startUs).padStart(10);
  const at = `${where}${dir}`.padEnd(9);
  const detail = row.detail ? `  ${row.detail}` : '';
  return `  ${when}  ${at} ${row.side.padEnd(11)}  ${row.endpoints}  ${row.label}${countText(row)}${detail}${mark}`;
}

/** A reply that never came, in the same columns as a packet line. */
function missingLine(row: MissingRow, cols: readonly LadderColumn[]): string {
  const endpoints = `${name(row.from, cols)} > ${name(row.to, cols)}`;
  return `  ${'(never)'.padStart(10)}  ${''.padEnd(9)} ${row.side.padEnd(11)}  ${endpoints}  ${missingText(row)}`;
}

export function storyDecode(
  ladder: Ladder,
  notes: readonly string[],
  interfaceNote: string | undefined,
  captureNotes: readonly string[] = [],
): string {
  const lines = [
    `# ${ladder.title}`,
    ...notes.map((n) => `# ${n}`),
    `# What the packets show: ${ladder.summary}`,
    `# Columns: ${ladder.columns.map(columnText).join(' | ')}`,
    ...(interfaceNote ? [`# ${interfaceNote}`] : []),
  ];
  if (!ladder.rows.some((r) => r.kind === 'packet')) lines.push('(no packets)');
  for (const row of ladder.rows) {
    if (row.kind === 'packet') lines.push(packetLine(row, ladder.startUs));
    else lines.push(missingLine(row, ladder.columns));
  }
  // After the story: what makes each capture proof (host, filter, window, kernel counts).
  if (captureNotes.length > 0) lines.push('# Captures:', ...captureNotes.map((n) => `#   ${n}`));
  return `${lines.join('\n')}\n`;
}
