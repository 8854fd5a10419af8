// Builds each step's evidence items: pcap of the deciding packets' flow, the
// readable decode, the exact commands run, and timings.
import type { Packet } from '../capture/packet.js';
import { encodePcap } from '../capture/pcap-stream.js';
import { decodeText } from './decode-text.js';
import { evidence, MEDIA, type Evidence } from './evidence.js';

export interface StepEvidenceInput {
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

export function stepEvidence(input: StepEvidenceInput): Evidence[] {
  const out: Evidence[] = [];
  const prefix = `step${input.step}`;
  if (input.pcap && input.pcap.packets.length > 0) {
    out.push(
      evidence(
        `${prefix}-${input.pcap.label}.pcap`,
        MEDIA.pcap,
        encodePcap(input.pcap.linkType, input.pcap.snaplen, input.pcap.packets),
      ),
    );
  }
  if (input.step !== 3 || input.deciding.length > 0) {
    out.push(evidence(`${prefix}-decode.txt`, MEDIA.text, decodeText(input.title, input.deciding, input.notes)));
  }
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
