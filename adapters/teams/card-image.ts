// The step's ladder diagram in its Adaptive Card. Teams refuses activities
// over about 28 KB, so the PNG goes inline as a data URI only when the whole
// card still fits; otherwise the Image points at the bot's signed, expiring
// evidence link (which serves it as image/png).
import type { EvidenceFile } from '../../src/pipeline/poster.js';
import type { EvidenceLinkSigner } from './evidence-links.js';

/** Teams' limit for one activity, card included. */
export const TEAMS_ACTIVITY_MAX_BYTES = 28_000;
/** What the activity adds around the card (type, text, ids, conversation, attachment wrapper). */
const ENVELOPE_BYTES = 2_500;

export interface CardImage {
  element: Record<string, unknown>;
  inline: boolean;
}

export function ladderImage(
  evidence: readonly EvidenceFile[],
  links: EvidenceLinkSigner,
  cardBytesWithoutImage: number,
  altText: string,
): CardImage | undefined {
  const png = evidence.find((e) => e.name.endsWith('-ladder.png'));
  if (!png) return undefined;
  const base = { type: 'Image', altText, size: 'Stretch' };
  if (png.data) {
    const url = `data:image/png;base64,${png.data.toString('base64')}`;
    const element = { ...base, url };
    if (cardBytesWithoutImage + JSON.stringify(element).length + ENVELOPE_BYTES <= TEAMS_ACTIVITY_MAX_BYTES)
      return { element, inline: true };
  }
  return { element: { ...base, url: links.url(png.sha256, png.name) }, inline: false };
}

/** Content types for the evidence download route; SVG is sent as an attachment (never rendered in our origin). */
export function evidenceContentType(name: string): string {
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.svg')) return 'image/svg+xml';
  if (name.endsWith('.pcapng')) return 'application/x-pcapng';
  if (name.endsWith('.pcap')) return 'application/vnd.tcpdump.pcap';
  if (name.endsWith('.json')) return 'application/json';
  return 'text/plain; charset=utf-8';
}
