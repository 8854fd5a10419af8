// Packets → ladder: columns, one row per packet with retransmissions collapsed
// ("SYN ×3 over 2.0 s"), the deciding packets marked, and dashed rows for the
// replies that never came (given by the engine, or read from the packets: a
// SYN nobody answered, a request nobody answered). Pure: no I/O.
import { flagText, type Packet } from '../capture/packet.js';
import { RoleMap, deriveSides } from './ladder-roles.js';
import { ladderSummary } from './ladder-summary.js';
import { packetLabel } from './packet-label.js';
import type { Ladder, LadderColumn, LadderInput, LadderSides, MissingRow, PacketRow, Side } from './ladder-types.js';

const endpoint = (ip: string, port?: number): string =>
  port === undefined ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

function endpoints(p: Packet): string {
  if (!p.ip) return '';
  return `${endpoint(p.ip.src, p.tcp?.srcPort)} > ${endpoint(p.ip.dst, p.tcp?.dstPort)}`;
}

function detail(p: Packet): string {
  const t = p.tcp;
  if (!t) return '';
  const ack = t.flags.ack ? ` ack ${t.ack}` : '';
  return `[${flagText(t.flags)}] seq ${t.seq}${ack} win ${t.window} len ${t.payloadLength}`;
}

/** Same bytes on the same interface in the same direction: a retransmission (or a duplicate ACK). */
function copyKey(p: Packet): string {
  const t = p.tcp;
  const head = `${p.ifIndex ?? ''}|${endpoints(p)}`;
  if (!t) return `${head}|${p.icmp ? `icmp${p.icmp.type}/${p.icmp.code}` : (p.note ?? '')}|${p.data.length}`;
  return `${head}|${flagText(t.flags)}|${t.seq}|${t.ack}|${t.payloadLength}`;
}

function isDeciding(p: Packet, deciding: readonly Packet[]): boolean {
  return deciding.some((d) => d === p || (d.timeUs === p.timeUs && d.data.equals(p.data)));
}

function interfaceName(p: Packet, names: ReadonlyMap<number, string> | undefined): string | undefined {
  if (p.ifIndex === undefined) return undefined;
  return names?.get(p.ifIndex) ?? `if${p.ifIndex}`;
}

/** LB packets plus the probe's own packets (deciding ones the LB capture does not hold). */
function allPackets(input: LadderInput): { p: Packet; seenAt: 'lb' | 'probe' }[] {
  const lb = input.packets.filter((p) => p.ip).map((p) => ({ p, seenAt: 'lb' as const }));
  const probeOnly = [...(input.probePackets ?? []), ...(input.deciding ?? [])]
    .filter((p) => p.ip && !input.packets.some((q) => q === p || (q.timeUs === p.timeUs && q.data.equals(p.data))))
    .filter((p, i, list) => list.indexOf(p) === i)
    .map((p) => ({ p, seenAt: 'probe' as const }));
  return [...lb, ...probeOnly].sort((a, b) => a.p.timeUs - b.p.timeUs);
}

function packetRows(input: LadderInput, roles: RoleMap): PacketRow[] {
  const rows: PacketRow[] = [];
  const lastInDirection = new Map<string, { row: PacketRow; key: string }>();
  for (const { p, seenAt } of allPackets(input)) {
    const ends = roles.ends(p);
    if (!ends) continue;
    const key = copyKey(p);
    const direction = `${seenAt}|${p.ifIndex ?? ''}|${endpoints(p)}`;
    const last = lastInDirection.get(direction);
    const deciding = isDeciding(p, input.deciding ?? []);
    if (last && last.key === key) {
      last.row.count += 1;
      last.row.lastUs = p.timeUs;
      last.row.packets.push(p);
      last.row.deciding ||= deciding;
      continue;
    }
    const iface = interfaceName(p, input.interfaces);
    const row: PacketRow = {
      kind: 'packet',
      from: ends.from,
      to: ends.to,
      label: packetLabel(p),
      count: 1,
      firstUs: p.timeUs,
      lastUs: p.timeUs,
      side: ends.side,
      ...(iface ? { iface } : {}),
      seenAt,
      deciding,
      endpoints: endpoints(p),
      detail: detail(p),
      packets: [p],
    };
    rows.push(row);
    lastInDirection.set(direction, { row, key });
  }
  return rows;
}

/** Below this, the capture simply ended too soon after a packet to call its reply missing. */
const MIN_WAIT_US = 100_000;

const reverseOf = (e: string): string => e.split(' > ').reverse().join(' > ');

/** Unordered endpoints of a row's connection. */
const flowOf = (r: PacketRow): string => [r.endpoints, reverseOf(r.endpoints)].sort()[0] ?? '';

/**
 * A busy LB opens connections of its own to the members (health checks,
 * retries): handshakes only, no payload, not the client's SYN passed on. Each
 * would be a pair of lines; they collapse into one arrow per member and kind
 * ("SYN ×14 on 14 connections"), while the probe's own connections (the
 * forwarded SYN, the proxied request) keep every arrow.
 */
function collapseLbOpened(rows: PacketRow[], clientIsn: number | undefined): PacketRow[] {
  const flows = new Map<string, PacketRow[]>();
  for (const r of rows) flows.set(flowOf(r), [...(flows.get(flowOf(r)) ?? []), r]);
  const sideFlow = (r: PacketRow): boolean =>
    (flows.get(flowOf(r)) ?? []).every(
      (x) =>
        x.side === 'server side' &&
        x.packets.every((p) => (p.tcp?.payloadLength ?? 1) === 0 && !(p.tcp?.flags.syn && p.tcp.seq === clientIsn)),
    );
  const groups = new Map<string, { row: PacketRow; flows: Set<string> }>();
  const out: PacketRow[] = [];
  for (const row of rows) {
    if (!sideFlow(row)) {
      out.push(row);
      continue;
    }
    const key = `${row.from}>${row.to}|${row.label}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { row, flows: new Set([flowOf(row)]) });
      out.push(row);
      continue;
    }
    group.flows.add(flowOf(row));
    group.row.count += row.count;
    group.row.connections = group.flows.size;
    group.row.lastUs = Math.max(group.row.lastUs, row.lastUs);
    group.row.packets.push(...row.packets);
    group.row.deciding ||= row.deciding;
  }
  return out;
}

/**
 * Replies that never came, read from the packets: an unanswered SYN, an
 * unanswered request. Requests only on the client side: there the LB capture
 * holds the whole flow, while on the server side it keeps only SYN/RST and
 * the proxied GET (capture-filter.ts), so a response would not be in it.
 */
function derivedMissing(rows: readonly PacketRow[], endUs: number): MissingRow[] {
  const out: MissingRow[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const first = row.packets[0];
    const t = first?.tcp;
    if (!t || seen.has(row.endpoints)) return;
    const later = rows.slice(i + 1).filter((r) => r.endpoints === reverseOf(row.endpoints));
    const isSyn = t.flags.syn && !t.flags.ack;
    const answered = isSyn
      ? later.some((r) => r.packets.some((p) => p.tcp?.flags.syn || p.tcp?.flags.rst))
      : t.payloadLength > 0 && row.side === 'client side'
        ? later.some((r) =>
            r.packets.some((p) => (p.tcp?.payloadLength ?? 0) > 0 || p.tcp?.flags.fin || p.tcp?.flags.rst),
          )
        : true;
    // A capture that ended right after the packet cannot say the reply never came.
    if (answered || endUs - row.firstUs < MIN_WAIT_US) return;
    seen.add(row.endpoints);
    out.push({
      kind: 'missing',
      from: row.to,
      to: row.from,
      label: isSyn ? 'no SYN-ACK' : 'no response',
      side: row.side,
      waitedMs: Math.max(0, Math.round((endUs - row.firstUs) / 1000)),
    });
  });
  return out;
}

/** One dashed arrow per pair of columns and kind of silence (the longest wait), not one per retry. */
function collapseMissing(list: readonly MissingRow[]): MissingRow[] {
  const byPair = new Map<string, MissingRow>();
  for (const m of list) {
    const key = `${m.from}>${m.to}|${m.label}`;
    const had = byPair.get(key);
    if (!had || (m.waitedMs ?? 0) > (had.waitedMs ?? 0)) byPair.set(key, m);
  }
  return [...byPair.values()];
}

function columnFor(id: string, sides: LadderSides | undefined, lbServerSide: string | undefined): LadderColumn {
  if (id === 'client')
    return {
      id,
      role: 'client',
      title: 'client (probe)',
      addresses: sides?.clientAddress ? [sides.clientAddress] : [],
    };
  if (id === 'lb')
    return {
      id,
      role: 'lb',
      title: 'load balancer',
      addresses: [
        ...(sides ? [endpoint(sides.vip, sides.port)] : []),
        ...(lbServerSide && lbServerSide !== sides?.clientAddress ? [lbServerSide] : []),
      ],
    };
  const [kind, address = ''] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
  if (kind === 'server') return { id, role: 'server', title: 'server', addresses: [address] };
  return {
    id,
    role: kind === 'hop' ? 'hop' : 'server',
    title: kind === 'hop' ? 'on the path' : 'host',
    addresses: [address],
  };
}

const ORDER: Record<LadderColumn['role'], number> = { client: 0, hop: 1, lb: 2, server: 3 };

function columns(
  ids: Iterable<string>,
  sides: LadderSides | undefined,
  lbServerSide: string | undefined,
): LadderColumn[] {
  const list = [...new Set(['client', 'lb', ...ids])].map((id) => columnFor(id, sides, lbServerSide));
  return list.sort((a, b) => ORDER[a.role] - ORDER[b.role]);
}

function columnOfAddress(address: string, sides: LadderSides | undefined, cols: LadderColumn[]): string {
  if (address === sides?.vip || address === endpoint(sides?.vip ?? '', sides?.port)) return 'lb';
  if (address === sides?.clientAddress) return 'client';
  const hit = cols.find((c) => c.addresses.some((a) => a === address || a.startsWith(`${address}:`)));
  return hit?.id ?? `server:${address}`;
}

export function buildLadder(input: LadderInput): Ladder {
  const sides = deriveSides([...input.packets, ...(input.probePackets ?? []), ...(input.deciding ?? [])], input.sides);
  const roles = new RoleMap(input.packets, sides);
  const firstRows = packetRows(input, roles);
  const clientSyn = firstRows.find((r) => r.from === 'client' && r.label === 'SYN');
  const rows = collapseLbOpened(firstRows, clientSyn?.packets[0]?.tcp?.seq);
  const endUs = input.endUs ?? Math.max(0, ...rows.map((r) => r.lastUs));
  const lbServerSide = roles.lbServerSideAddress(input.packets);
  let cols = columns(
    rows.flatMap((r) => [r.from, r.to]),
    sides,
    lbServerSide,
  );
  const missing: MissingRow[] = collapseMissing(derivedMissing(rows, endUs));
  for (const m of input.missing ?? []) {
    const from = columnOfAddress(m.from, sides, cols);
    const to = columnOfAddress(m.to, sides, cols);
    if (missing.some((x) => x.from === from && x.to === to)) continue;
    const side: Side = from.startsWith('server:') || to.startsWith('server:') ? 'server side' : 'client side';
    missing.push({
      kind: 'missing',
      from,
      to,
      label: m.what,
      side,
      ...(m.waitedMs !== undefined ? { waitedMs: m.waitedMs } : {}),
    });
  }
  const lbCaptured = input.lbCaptured ?? true;
  // The LB holds no packet of the probe (the probe's own capture may: its SYN leaving): draw what never arrived,
  // also when a reply is missing too (a retransmitted SYN seen at the probe): that the LB saw nothing is the point.
  const lbSawNothing = !rows.some((r) => r.kind === 'packet' && r.seenAt === 'lb');
  const clientToLbDrawn = missing.some((m) => m.from === 'client' && m.to === 'lb');
  if (lbCaptured && lbSawNothing && !clientToLbDrawn && sides)
    missing.push({
      kind: 'missing',
      from: 'client',
      to: 'lb',
      label: 'no packet of the probe reached the LB',
      side: 'client side',
    });
  cols = columns([...cols.map((c) => c.id), ...missing.flatMap((m) => [m.from, m.to])], sides, lbServerSide);
  const ladder: Ladder = {
    title: input.title,
    columns: cols,
    rows: [...rows, ...missing],
    summary: '',
    startUs: rows[0]?.firstUs ?? 0,
    lbCaptured,
  };
  ladder.summary = ladderSummary(ladder, sides);
  return ladder;
}
