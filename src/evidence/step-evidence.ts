// Builds each step's evidence items: the capture of the probe's flows (a
// classic pcap every tool opens and a pcapng with the LB's interface names),
// the decode that tells the story, the ladder diagram (SVG and PNG), the exact
// commands run, and timings.
import type { Packet } from '../capture/packet.js';
import { encodeMergedPcapng, encodePcapng } from '../capture/pcapng.js';
import { encodePcap } from '../capture/pcap-stream.js';
import { portableRecords } from '../capture/sll.js';
import { ladderDraft, ladderFiles, type LadderDraft, type LadderExtras, type PngResult } from './ladder-evidence.js';
import { svgToPng } from './ladder-png.js';
import { evidence, MEDIA, type Evidence } from '../model/evidence.js';

export interface StepEvidenceInput extends LadderExtras {
  step: 1 | 2 | 3;
  title: string;
  /** The LB's packets the ladder draws (the pcap files come from `vantages`). */
  pcap?: { linkType: number; snaplen: number; packets: readonly Packet[]; label: string } | undefined;
  /** Every capture this step ran (the LB's, the probing host's), each kept as files, also when empty. */
  vantages?: VantageCapture[];
  /** How the vantages' clocks were aligned in the merged file, or why they were not. */
  alignment?: string;
  deciding: readonly Packet[];
  notes: string[];
  /** After the packets in the decode: each capture's facts. */
  captureNotes?: string[];
  commands: string[];
  timings: Record<string, number | undefined>;
  extra?: Evidence[];
}

/** One vantage point's capture for this step's files: kept also when empty, its facts beside it. */
export interface VantageCapture {
  /** "lb" or "probe": the file name's part and the merged file's interface prefix. */
  label: string;
  linkType: number;
  snaplen: number;
  packets: readonly Packet[];
  /** tcpdump's -i there. */
  captureInterface: string;
  interfaces?: ReadonlyMap<number, string>;
  /** Where, how, when and the kernel's counts (lines for comments and the decode). */
  facts: string[];
  /** Added to its timestamps in the merged file (clock alignment). */
  shiftUs?: number;
}

function vantageFiles(prefix: string, v: VantageCapture, title: string): Evidence[] {
  const portable = portableRecords(v.linkType, v.packets);
  return [
    evidence(
      `${prefix}-${v.label}.pcap`,
      MEDIA.pcap,
      encodePcap(portable.linkType, v.snaplen + portable.snaplenDelta, portable.packets),
    ),
    evidence(
      `${prefix}-${v.label}.pcapng`,
      MEDIA.pcapng,
      encodePcapng({
        linkType: v.linkType,
        snaplen: v.snaplen,
        packets: v.packets,
        ...(v.interfaces ? { interfaces: v.interfaces } : {}),
        defaultInterface: v.captureInterface,
        comment: title,
        comments: v.facts,
      }),
    ),
  ];
}

/** A caller that passes only the LB's packets (no vantages) gets its files as before: none when empty. */
function legacyVantage(input: StepEvidenceInput): VantageCapture[] {
  const p = input.pcap;
  if (!p || p.packets.length === 0) return [];
  const names = input.interfaces ? { interfaces: input.interfaces } : {};
  return [
    {
      label: p.label,
      linkType: p.linkType,
      snaplen: p.snaplen,
      packets: p.packets,
      captureInterface: 'capture',
      ...names,
      facts: [],
    },
  ];
}

/** Each vantage's capture (pcap, pcapng) and, with two or more, the merged stepN-both.pcapng first. */
function captureFiles(prefix: string, input: StepEvidenceInput): Evidence[] {
  const vantages = input.vantages ?? legacyVantage(input);
  const merged =
    vantages.length >= 2
      ? [
          evidence(
            `${prefix}-both.pcapng`,
            MEDIA.pcapng,
            encodeMergedPcapng(
              vantages.map((v) => ({
                vantage: v.label,
                linkType: v.linkType,
                snaplen: v.snaplen,
                packets: v.packets,
                captureInterface: v.captureInterface,
                ...(v.interfaces ? { interfaces: v.interfaces } : {}),
                ...(v.shiftUs ? { shiftUs: v.shiftUs } : {}),
                comments: v.facts,
              })),
              input.title,
              [...(input.alignment ? [input.alignment] : []), ...vantages.flatMap((v) => v.facts)],
            ),
          ),
        ]
      : [];
  return [...merged, ...vantages.flatMap((v) => vantageFiles(prefix, v, input.title))];
}

/** A step's evidence with the ladder left as a draft, so its PNG can be rendered elsewhere. */
export interface StepEvidenceDraft {
  before: Evidence[];
  ladder?: LadderDraft;
  after: Evidence[];
}

export function stepEvidenceDraft(input: StepEvidenceInput): StepEvidenceDraft {
  const prefix = `step${input.step}`;
  const before = captureFiles(prefix, input);
  const drawn = input.step !== 3 || input.deciding.length > 0 || (input.pcap?.packets.length ?? 0) > 0;
  const after = [
    evidence(
      `${prefix}-commands.txt`,
      MEDIA.text,
      input.commands.length > 0 ? `${input.commands.join('\n')}\n` : '(no remote commands)\n',
    ),
    evidence(`${prefix}-timings.json`, MEDIA.json, `${JSON.stringify(input.timings, null, 2)}\n`),
    ...(input.extra ?? []),
  ];
  return { before, ...(drawn ? { ladder: ladderDraft(prefix, input) } : {}), after };
}

/** The files in their order, once the ladder's PNG is known (undefined: not wanted). */
export function draftFiles(draft: StepEvidenceDraft, png: PngResult | undefined): Evidence[] {
  return [...draft.before, ...(draft.ladder ? ladderFiles(draft.ladder, png) : []), ...draft.after];
}

/** A draft's files with its PNG rendered by `render` (the check's render thread). */
export async function renderDraft(
  draft: StepEvidenceDraft,
  render: (svg: string) => Promise<PngResult>,
): Promise<Evidence[]> {
  const png = draft.ladder?.wantsPng ? await render(draft.ladder.svg) : undefined;
  return draftFiles(draft, png);
}

/** Everything on this thread, PNG included. */
export function stepEvidence(input: StepEvidenceInput): Evidence[] {
  const draft = stepEvidenceDraft(input);
  return draftFiles(draft, draft.ladder?.wantsPng ? svgToPng(draft.ladder.svg) : undefined);
}
