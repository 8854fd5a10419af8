// Builds each step's evidence items: the capture of the probe's flows (a
// classic pcap every tool opens and a pcapng with the LB's interface names),
// the decode that tells the story, the ladder diagram (SVG and PNG), the exact
// commands run, and timings.
import type { Packet } from '../capture/packet.js';
import { encodePcapng } from '../capture/pcapng.js';
import { encodePcap } from '../capture/pcap-stream.js';
import { portableRecords } from '../capture/sll.js';
import { ladderEvidence, type LadderExtras } from '../evidence/ladder-evidence.js';
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

export function stepEvidence(input: StepEvidenceInput): Evidence[] {
  const out: Evidence[] = [];
  const prefix = `step${input.step}`;
  if (input.pcap && input.pcap.packets.length > 0) out.push(...captureFiles(prefix, input.pcap, input));
  if (input.step !== 3 || input.deciding.length > 0 || (input.pcap?.packets.length ?? 0) > 0)
    out.push(...ladderEvidence(prefix, input));
  out.push(
    evidence(
      `${prefix}-commands.txt`,
      MEDIA.text,
      input.commands.length > 0 ? `${input.commands.join('\n')}\n` : '(no remote commands)\n',
    ),
  );
  out.push(evidence(`${prefix}-timings.json`, MEDIA.json, `${JSON.stringify(input.timings, null, 2)}\n`));
  out.push(...(input.extra ?? []));
  return out;
}
