// A step's decode and ladder diagram as evidence files: stepN-decode.txt,
// stepN-ladder.svg, stepN-ladder.png. Everything the engine may add is
// optional and derived from the packets when absent, so the files exist
// before the engine passes interface names or sides.
import type { Packet } from '../capture/packet.js';
import { evidence, MEDIA, type Evidence } from '../model/evidence.js';
import { buildLadder } from './ladder-model.js';
import { svgToPng } from './ladder-png.js';
import { renderLadderSvg } from './ladder-svg.js';
import type { ExpectedReply, LadderSides } from './ladder-types.js';
import { storyDecode } from './story-decode.js';

export interface LadderExtras {
  /** ifindex → name on the LB (readInterfaceNames); without it interfaces print as ifN. */
  interfaces?: ReadonlyMap<number, string>;
  sides?: LadderSides;
  /** Expected replies that never came, beyond those the packets show. */
  missing?: readonly ExpectedReply[];
  /** Packets captured at the vantage point. */
  probePackets?: readonly Packet[];
  /** When the LB capture ended (µs since the epoch). */
  captureEndUs?: number;
  /** Whether the LB was captured at all (false: no SSH access), so an empty capture proves nothing. */
  lbCaptured?: boolean;
  /** false: the SVG and decode only, no PNG render. */
  ladderPng?: boolean;
}

export interface LadderSource extends LadderExtras {
  title: string;
  pcap?: { packets: readonly Packet[] } | undefined;
  deciding: readonly Packet[];
  notes: string[];
  /** Printed after the packets: each capture's host, filter, window and counts, how the clocks were aligned. */
  captureNotes?: string[];
}

/**
 * Until the engine passes sides, a step whose LB capture is empty (a dropped
 * SYN) still has its probe in the title it builds: "probe 198.18.2.1:80 ...".
 */
export function sidesFromTitle(title: string): LadderSides | undefined {
  const m = /\bprobe (\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b/.exec(title);
  return m?.[1] && m[2] ? { vip: m[1], port: Number(m[2]) } : undefined;
}

/**
 * Until the engine says, an absent pcap means either an empty LB capture (a
 * dropped SYN) or none at all; only the title it builds tells them apart.
 */
function lbCapturedFromTitle(input: LadderSource): boolean {
  return input.pcap !== undefined || !/\bno LB capture\b/.test(input.title);
}

function interfaceNote(packets: readonly Packet[], names: ReadonlyMap<number, string> | undefined): string | undefined {
  const indexes = [...new Set(packets.flatMap((p) => (p.ifIndex === undefined ? [] : [p.ifIndex])))].sort();
  if (indexes.length === 0) return undefined;
  if (!names || names.size === 0) return `Interfaces: the LB's names were not read; ifN is the LB's interface index N`;
  const named = indexes.map((i) => `${names.get(i) ?? `if${i}`} (ifindex ${i})`);
  return `Interfaces as named on the LB: ${named.join(', ')}`;
}

/** A step's ladder drawn up to its SVG; the PNG, when wanted, is rendered from `svg` by the caller. */
export interface LadderDraft {
  prefix: string;
  svg: string;
  /** false: the SVG and decode only (`ladderPng: false`). */
  wantsPng: boolean;
  /** The decode text, with any note on why the PNG is missing. */
  decode: (pngNote?: string) => string;
}

export type PngResult = { png: Buffer } | { unavailable: string };

export function ladderDraft(prefix: string, input: LadderSource): LadderDraft {
  const packets = input.pcap?.packets ?? [];
  const sides = input.sides ?? (packets.length === 0 ? sidesFromTitle(input.title) : undefined);
  const ladder = buildLadder({
    title: input.title,
    packets,
    deciding: input.deciding,
    ...(input.probePackets ? { probePackets: input.probePackets } : {}),
    ...(input.interfaces ? { interfaces: input.interfaces } : {}),
    ...(sides ? { sides } : {}),
    ...(input.missing ? { missing: input.missing } : {}),
    ...(input.captureEndUs !== undefined ? { endUs: input.captureEndUs } : {}),
    lbCaptured: input.lbCaptured ?? lbCapturedFromTitle(input),
  });
  const note = interfaceNote(packets, input.interfaces);
  return {
    prefix,
    svg: renderLadderSvg(ladder),
    wantsPng: input.ladderPng !== false,
    decode: (pngNote) =>
      storyDecode(ladder, pngNote ? [...input.notes, pngNote] : input.notes, note, input.captureNotes ?? []),
  };
}

/** The draft's files once its PNG is rendered (or known to be missing): decode, SVG, PNG. */
export function ladderFiles(draft: LadderDraft, png: PngResult | undefined): Evidence[] {
  const { prefix, svg } = draft;
  return [
    evidence(`${prefix}-decode.txt`, MEDIA.text, draft.decode(png && 'unavailable' in png ? png.unavailable : '')),
    evidence(`${prefix}-ladder.svg`, MEDIA.svg, svg),
    ...(png && 'png' in png ? [evidence(`${prefix}-ladder.png`, MEDIA.png, png.png)] : []),
  ];
}

/** Everything on this thread, PNG included (tests and the ladder bench; checks render off-thread). */
export function ladderEvidence(prefix: string, input: LadderSource): Evidence[] {
  const draft = ladderDraft(prefix, input);
  return ladderFiles(draft, draft.wantsPng ? svgToPng(draft.svg) : undefined);
}
