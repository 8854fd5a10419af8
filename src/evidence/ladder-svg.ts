// The ladder as SVG: a lifeline per column, one arrow per row. Monospace text
// throughout, so widths are computed, not measured (no browser, no font
// metrics). Every text node is escaped: payload lines come from the network.
import type { Ladder, LadderColumn, LadderRow } from './ladder-types.js';
import { countText, missingText, offsetText } from './story-decode.js';

export const FONT_FAMILY = 'DejaVu Sans Mono';
const FONT = 11;
/** DejaVu Sans Mono's advance width is 0.602 em. */
const CHAR = FONT * 0.602;
const ROW = 26;
const LEFT = 78;
const RIGHT = 40;
const HEAD_LINE = 15;
const COLORS = { line: '#495057', decided: '#c92a2a', missing: '#868e96', lifeline: '#adb5bd', probe: '#1c7ed6' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function wrap(text: string, width: number): string[] {
  const max = Math.max(20, Math.floor(width / CHAR));
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > max) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out.flatMap((l) => (l.length > max ? [l.slice(0, max - 1) + '…'] : [l]));
}

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(body)}</text>`;
}

function rowLabel(row: LadderRow): string {
  if (row.kind === 'missing') return missingText(row);
  return `${row.label}${countText(row)}${row.seenAt === 'probe' ? ' (at probe)' : ''}`;
}

/** Spacing between lifelines: wide enough for the longest label between neighbours. */
function spacing(ladder: Ladder): number {
  const longest = Math.max(0, ...ladder.rows.map((r) => rowLabel(r).length));
  return Math.min(420, Math.max(190, Math.ceil(longest * CHAR) + 36));
}

function columnHeader(c: LadderColumn, x: number, y: number, width: number): string {
  const lines = [c.title, ...c.addresses];
  const h = lines.length * HEAD_LINE + 8;
  const w = Math.min(width - 10, Math.max(...lines.map((l) => l.length)) * CHAR + 16);
  const fill = c.role === 'lb' ? '#fff3bf' : c.role === 'client' ? '#e7f5ff' : c.role === 'hop' ? '#f1f3f5' : '#ebfbee';
  const box = `x="${(x - w / 2).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}"`;
  return [
    `<rect ${box} rx="4" fill="${fill}" stroke="${COLORS.line}"/>`,
    ...lines.map((l, i) =>
      text(x, y + 14 + i * HEAD_LINE, l, `text-anchor="middle"${i === 0 ? ' font-weight="bold"' : ''}`),
    ),
  ].join('');
}

function arrow(row: LadderRow, x1: number, x2: number, y: number, startUs: number, lbX: number): string {
  const packet = row.kind === 'packet' ? row : undefined;
  const decided = packet?.deciding === true;
  const color = decided
    ? COLORS.decided
    : !packet
      ? COLORS.missing
      : packet.seenAt === 'probe'
        ? COLORS.probe
        : COLORS.line;
  const self = x1 === x2;
  const end = self ? x1 + 40 : x2 - Math.sign(x2 - x1) * 3;
  const parts: string[] = [];
  const stroke = `stroke="${color}" stroke-width="${decided ? 2.5 : 1.3}"${packet ? '' : ' stroke-dasharray="6 4"'}`;
  const head = packet ? (decided ? 'head-decided' : 'head') : 'head-missing';
  parts.push(`<line x1="${x1}" y1="${y}" x2="${end.toFixed(1)}" y2="${y}" ${stroke} marker-end="url(#${head})"/>`);
  const mid = self ? x1 + 20 : (x1 + x2) / 2;
  parts.push(
    text(mid, y - 5, rowLabel(row), `text-anchor="middle" fill="${color}"${decided ? ' font-weight="bold"' : ''}`),
  );
  parts.push(
    text(8, y + 4, packet ? offsetText(packet.firstUs - startUs) : 'never', `fill="${COLORS.missing}" font-size="10"`),
  );
  if (packet?.iface) {
    const side = packet.from === 'lb' ? Math.sign(x2 - x1) : Math.sign(x1 - x2);
    parts.push(
      text(
        lbX + side * 6,
        y + 11,
        packet.iface,
        `font-size="9" fill="${COLORS.missing}" text-anchor="${side < 0 ? 'end' : 'start'}"`,
      ),
    );
  }
  const data = packet
    ? `class="arrow packet" data-count="${packet.count}" data-deciding="${decided}"`
    : 'class="arrow missing"';
  return `<g ${data}>${parts.join('')}</g>`;
}

/** One arrowhead marker: filled, or open for replies that never came. */
function arrowHead(id: string, color: string, open = false, size = 7): string {
  const place = `viewBox="0 0 10 10" refX="9" refY="5" markerWidth="${size}" markerHeight="${size}"`;
  const path = `<path d="M0,0 L10,5 L0,10${open ? '' : ' z'}" fill="${open ? 'none' : color}" stroke="${color}"`;
  return `<marker id="${id}" ${place} orient="auto-start-reverse">${path} stroke-width="1.5"/></marker>`;
}

function markers(): string {
  // Marker size scales with the stroke width: the thick "decided" line gets a smaller factor.
  const heads = [
    arrowHead('head', COLORS.line),
    arrowHead('head-decided', COLORS.decided, false, 4),
    arrowHead('head-missing', COLORS.missing, true),
  ];
  return `<defs>${heads.join('')}</defs>`;
}

function svgOpen(width: number, height: number): string {
  const size = `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`;
  const font = `font-family="${FONT_FAMILY}, Menlo, Consolas, monospace" font-size="${FONT}"`;
  return `<svg xmlns="http://www.w3.org/2000/svg" ${size} ${font}>`;
}

export function renderLadderSvg(ladder: Ladder): string {
  const gap = spacing(ladder);
  const width = LEFT + gap * (ladder.columns.length - 1) + RIGHT + 60;
  const xOf = new Map(ladder.columns.map((c, i) => [c.id, LEFT + 30 + i * gap]));
  const title = wrap(ladder.title, width - 20);
  const summary = wrap(ladder.summary, width - 20);
  let y = 8;
  const out: string[] = [];
  for (const l of title) out.push(text(10, (y += 16), l, 'font-weight="bold" font-size="13"'));
  for (const l of summary) out.push(text(10, (y += 15), l));
  y += 12;
  const headHeight = Math.max(...ladder.columns.map((c) => (1 + c.addresses.length) * HEAD_LINE + 8));
  for (const c of ladder.columns) out.push(columnHeader(c, xOf.get(c.id) ?? 0, y, gap));
  const top = y + headHeight;
  const bottom = top + 12 + ladder.rows.length * ROW + 6;
  const rowY = (i: number): number => top + 12 + (i + 1) * ROW - 6;
  // Highlight bands first, under lifelines and arrows, so no band covers another row's text.
  ladder.rows.forEach((row, i) => {
    if (row.kind === 'packet' && row.deciding)
      out.push(`<rect x="2" y="${rowY(i) - ROW + 8}" width="${width - 4}" height="${ROW - 2}" fill="#fff5f5"/>`);
  });
  for (const c of ladder.columns) {
    const x = xOf.get(c.id) ?? 0;
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${COLORS.lifeline}" stroke-dasharray="2 3"/>`,
    );
  }
  const lbX = xOf.get('lb') ?? 0;
  ladder.rows.forEach((row, i) => {
    const ry = rowY(i);
    out.push(arrow(row, xOf.get(row.from) ?? 0, xOf.get(row.to) ?? 0, ry, ladder.startUs, lbX));
  });
  const legend =
    'bold red: decided the step · ×N: retransmissions · dashed: a reply that never came · blue: seen at the probe only';
  const legendLines = wrap(legend, width - 20);
  let ly = bottom + 4;
  for (const l of legendLines) out.push(text(10, (ly += 14), l, `font-size="10" fill="${COLORS.missing}"`));
  const height = ly + 10;
  return [
    svgOpen(width, height),
    `<title>${escapeXml(ladder.title)}</title>`,
    markers(),
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
