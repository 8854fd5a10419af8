// Evidence items: bytes with a name, a media type and a sha256, so a posted
// chat message can be matched to the archived file byte for byte.
import { createHash } from 'node:crypto';
import type { EvidenceRef } from './report.js';

export interface Evidence extends EvidenceRef {
  data: Buffer;
}

export const MEDIA = {
  pcap: 'application/vnd.tcpdump.pcap',
  pcapng: 'application/x-pcapng',
  svg: 'image/svg+xml',
  png: 'image/png',
  text: 'text/plain; charset=utf-8',
  json: 'application/json',
  html: 'text/html; charset=utf-8',
} as const;

export function evidence(name: string, mediaType: string, content: Buffer | string): Evidence {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { name, mediaType, data, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

export function refOf(e: Evidence): EvidenceRef {
  return { name: e.name, sha256: e.sha256, bytes: e.bytes, mediaType: e.mediaType };
}

/** Evidence file names: step1-lb.pcap, report.json. No separators, no leading dot. */
export const EVIDENCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isSafeEvidenceName(name: unknown): name is string {
  return typeof name === 'string' && EVIDENCE_NAME.test(name) && !name.includes('..');
}
