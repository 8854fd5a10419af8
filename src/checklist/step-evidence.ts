// Builds each step's evidence items: the capture of the probe's flows (a
// classic pcap every tool opens and a pcapng with the LB's interface names),
// the decode that tells the story, the ladder diagram (SVG and PNG), the exact
// commands run, and timings.
import type { Packet } from '../capture/packet.js';
import { encodePcapng } from '../capture/pcapng.js';
import { encodePcap } from '../capture/pcap-stream.js';
import { portableRecords } from '../capture/sll.js';
import {
  ladderDraft,
  ladderFiles,
  type LadderDraft,
  type LadderExtras,
  type PngResult,
} from '../evidence/ladder-evidence.js';
import { svgToPng } from '../evidence/ladder-png.js';
import { evidence, MEDIA, type Evidence } from './evidence.js';

export interface StepEvidenceInput extends LadderExtras {
  step: 1 | 2 | 3;
  title: string;
  /** Packets for the pcap file, with the capture's link type. */
  pcap?: { linkType: number; snaplen: number; packets: readonly Packet[]; label: string } | undefined;
  deciding: readonly Packet[];
  notes: string[];
  commands: string[];
  timings: Record<string, number | undefined>;
  extra?: Evidence[];
}

function captureFiles(
  prefix: string,
  pcap: NonNullable<StepEvidenceInput['pcap']>,
  input: StepEvidenceInput,
): Evidence[] {
  const portable = portableRecords(pcap.linkType, pcap.packets);
  return [
    evidence(
      `${prefix}-${pcap.label}.pcap`,
      MEDIA.pcap,
      encodePcap(portable.linkType, pcap.snaplen + portable.snaplenDelta, portable.packets),
    ),
    evidence(
      `${prefix}-${pcap.label}.pcapng`,
      MEDIA.pcapng,
      encodePcapng({
        linkType: pcap.linkType,
        snaplen: pcap.snaplen,
        packets: pcap.packets,
        ...(input.interfaces ? { interfaces: input.interfaces } : {}),
        comment: input.title,
      }),
    ),
  ];
}

/** A step's evidence with the ladder left as a draft, so its PNG can be rendered elsewhere. */
export interface StepEvidenceDraft {
  before: Evidence[];
  ladder?: LadderDraft;
  after: Evidence[];
}

export function stepEvidenceDraft(input: StepEvidenceInput): StepEvidenceDraft {
  const prefix = `step${input.step}`;
  const before = input.pcap && input.pcap.packets.length > 0 ? captureFiles(prefix, input.pcap, input) : [];
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
