// The one sentence on top of a decode and under a diagram: what the packets
// show, in words ("3 SYNs forwarded to 198.18.3.11:8080 over 2.0 s, no
// SYN-ACK"), so the reader need not count arrows.
import { hostPort } from '../model/endpoint-text.js';
import type { Ladder, LadderColumn, LadderRow, LadderSides, MissingRow, PacketRow } from './ladder-types.js';

export function formatSpan(us: number): string {
  const ms = us / 1000;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

const plural = (n: number, word: string): string => (n === 1 ? `1 ${word}` : `${n} ${word}s`);
/** " on 3 connections over 2.0 s" for a row of several packets, else nothing. */
function spanOf(r: PacketRow): string {
  if (r.count <= 1) return '';
  const connections = r.connections && r.connections > 1 ? ` on ${r.connections} connections` : '';
  return `${connections} over ${formatSpan(r.lastUs - r.firstUs)}`;
}
const isSynRow = (r: PacketRow): boolean => r.label === 'SYN';

function columnName(id: string, cols: readonly LadderColumn[]): string {
  const c = cols.find((x) => x.id === id);
  if (!c) return id;
  if (c.role === 'lb') return 'the LB';
  if (c.role === 'client') return 'the client';
  return c.addresses[0] ?? c.title;
}

function answerTo(syn: PacketRow, rows: readonly PacketRow[], cols: readonly LadderColumn[]): string {
  const back = rows.find(
    (r) => r.from === syn.to && r.to === syn.from && r.firstUs >= syn.firstUs && /^(SYN-ACK|RST)/.test(r.label),
  );
  if (!back) return 'no SYN-ACK';
  const by = columnName(back.from, cols);
  const seen = back.seenAt === 'probe' ? ' (seen only at the probe: the LB capture does not have it)' : '';
  return back.label.startsWith('RST') ? `reset by ${by}${seen}` : `answered with SYN-ACK by ${by}${seen}`;
}

const isMissingRow = (r: LadderRow): r is MissingRow => r.kind === 'missing';

/** "<what never came> from <column>[ within <how long the probe waited>]". */
function missingClause(m: MissingRow, cols: readonly LadderColumn[]): string {
  const waited = m.waitedMs ? ` within ${formatSpan(m.waitedMs * 1000)}` : '';
  return `${m.label} from ${columnName(m.from, cols)}${waited}`;
}

export function ladderSummary(
  ladder: Pick<Ladder, 'rows' | 'columns' | 'lbCaptured'>,
  sides: LadderSides | undefined,
): string {
  const rows = ladder.rows.filter((r): r is PacketRow => r.kind === 'packet');
  const cols = ladder.columns;
  const clauses: string[] = [];
  const lbRows = rows.filter((r) => r.seenAt === 'lb');
  if (!ladder.lbCaptured) clauses.push('no capture on the LB (no SSH access): only what the probe saw');
  else if (lbRows.length === 0) clauses.push('the LB captured no packet of this probe');
  const clientSyns = rows.filter((r) => isSynRow(r) && r.from === 'client');
  for (const syn of clientSyns.slice(0, 1)) {
    const total = clientSyns.filter((r) => r.seenAt === syn.seenAt).reduce((n, r) => n + r.count, 0);
    const to = sides ? hostPort(sides.vip, sides.port) : columnName(syn.to, cols);
    const where = syn.seenAt === 'probe' ? ' (seen at the probe)' : '';
    clauses.push(
      `${plural(total, 'SYN')} from the client to ${to}${where}${spanOf(syn)}, ${answerTo(syn, rows, cols)}`,
    );
  }
  const clientIsn = clientSyns[0]?.packets[0]?.tcp?.seq;
  for (const syn of rows.filter((r) => isSynRow(r) && r.from === 'lb')) {
    const forwarded = syn.packets[0]?.tcp?.seq === clientIsn;
    const opened = `${plural(syn.count, 'SYN')} ${forwarded ? 'forwarded' : 'opened by the LB'}`;
    clauses.push(`${opened} to ${columnName(syn.to, cols)}${spanOf(syn)}, ${answerTo(syn, rows, cols)}`);
  }
  for (const r of rows.filter((x) => /^HTTP\/\S+ \d{3}/.test(x.label)))
    clauses.push(
      `${columnName(r.from, cols)} answered ${columnName(r.to, cols)} "${r.label.replace(/ \(\d+ B\)$/, '')}"`,
    );
  for (const r of rows.filter((x) => x.label.startsWith('ICMP')))
    clauses.push(`${columnName(r.from, cols)} sent ${r.label} to ${columnName(r.to, cols)}`);
  for (const m of ladder.rows.filter(isMissingRow)) if (m.label !== 'no SYN-ACK') clauses.push(missingClause(m, cols));
  const text = clauses.join('; ');
  return text === '' ? 'No packets.' : `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
