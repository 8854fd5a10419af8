// Did the LB pass the probe's request on as it came, or rewrite it? A TCP proxy
// copies bytes and cannot change them; an HTTP proxy parses the request and
// writes its own (HAProxy lower-cases header names, nginx downgrades to
// HTTP/1.0 and sets Host and Connection, most add X-Forwarded-For). So a
// rewritten request is positive proof of an HTTP proxy, whatever the timing;
// an unchanged one proves nothing either way.
import type { Packet } from '../../capture/packet.js';

export type ForwardedRequest =
  | { kind: 'rewritten'; changes: string[] }
  | { kind: 'verbatim' }
  /** The capture cut the request before any difference or its end (snaplen), or one side is missing. */
  | { kind: 'unknown' };

/** A TLS record (handshake, 0x16) opens the client's bytes: the wire holds ciphertext, not the request. */
export const isTlsRecord = (bytes: Buffer): boolean => bytes.length >= 3 && bytes[0] === 0x16 && bytes[1] === 0x03;

/**
 * One direction's payload in sequence order, retransmissions once, up to the first segment the snaplen cut or the
 * first gap: a prefix of the stream, all of it when nothing was cut.
 */
export function streamBytes(segments: readonly Packet[]): Buffer {
  const data = segments.filter((p) => (p.tcp?.payloadLength ?? 0) > 0);
  const base = data[0]?.tcp?.seq;
  if (base === undefined) return Buffer.alloc(0);
  // Offsets in 32-bit sequence space from any one segment; the stream starts at the lowest.
  const offset = (p: Packet): number => ((p.tcp?.seq ?? base) - base) | 0;
  const ordered = [...data].sort((a, b) => offset(a) - offset(b));
  const parts: Buffer[] = [];
  let next = ordered[0] ? offset(ordered[0]) : 0;
  for (const p of ordered) {
    const t = p.tcp;
    if (!t || offset(p) < next) continue; // a retransmission of what is already here
    if (offset(p) > next) break;
    parts.push(t.payload);
    next += t.payloadLength;
    if (t.payload.length < t.payloadLength) break;
  }
  return Buffer.concat(parts);
}

const PROXY_V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/**
 * The request without a PROXY protocol header in front (HAProxy "send-proxy"): a TCP proxy may add one and still
 * pass the request unchanged. Undefined when the header is cut and where the request starts is unknown.
 */
export function withoutProxyHeader(bytes: Buffer): Buffer | undefined {
  if (bytes.subarray(0, 6).toString('latin1') === 'PROXY ') {
    const end = bytes.indexOf('\r\n');
    return end < 0 ? undefined : bytes.subarray(end + 2);
  }
  if (bytes.subarray(0, 12).equals(PROXY_V2_SIGNATURE)) {
    if (bytes.length < 16) return undefined;
    const end = 16 + bytes.readUInt16BE(14);
    return bytes.length < end ? undefined : bytes.subarray(end);
  }
  return bytes;
}

interface RequestHead {
  line: string;
  headers: [string, string][];
}

function parseHead(text: string): RequestHead {
  const [line = '', ...rest] = text.split('\r\n');
  const headers = rest
    .filter((h) => h !== '')
    .map((h): [string, string] => {
      const colon = h.indexOf(':');
      return colon < 0 ? [h, ''] : [h.slice(0, colon), h.slice(colon + 1).trim()];
    });
  return { line, headers };
}

const MAX_CHANGES = 4;
const MAX_LINE = 80;

/** Captured bytes in a sentence: printable ASCII only, clipped (the text comes off the wire). */
const printable = (text: string, max: number): string => {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};
const nameList = (names: string[]): string => names.map((n) => printable(n, 40)).join(', ');

/**
 * What an HTTP proxy changed, in words a responder can check against the LB's configuration. With `whole` false
 * the texts are prefixes cut at different places, so a header one of them lacks may only be beyond the cut.
 */
export function describeChanges(sent: string, forwarded: string, whole = true): string[] {
  const a = parseHead(sent);
  const b = parseHead(forwarded);
  const changes: string[] = [];
  if (a.line !== b.line) {
    changes.push(`request line "${printable(a.line, MAX_LINE)}" became "${printable(b.line, MAX_LINE)}"`);
  }
  const lower = (h: [string, string][]): Map<string, string> => new Map(h.map(([n, v]) => [n.toLowerCase(), v]));
  const before = lower(a.headers);
  const after = lower(b.headers);
  if (whole) {
    const added = [...after.keys()].filter((n) => !before.has(n));
    const removed = [...before.keys()].filter((n) => !after.has(n));
    if (added.length > 0) changes.push(`added ${nameList(added)}`);
    if (removed.length > 0) changes.push(`removed ${nameList(removed)}`);
  }
  const changed = [...before.keys()].filter((n) => after.has(n) && after.get(n) !== before.get(n));
  if (changed.length > 0) changes.push(`changed ${nameList(changed)}`);
  const recased = a.headers.some(([n]) => {
    const same = b.headers.find(([m]) => m.toLowerCase() === n.toLowerCase());
    return same !== undefined && same[0] !== n;
  });
  if (recased) {
    changes.push(
      b.headers.every(([n]) => n === n.toLowerCase()) ? 'lower-cased header names' : 're-cased header names',
    );
  }
  return changes.slice(0, MAX_CHANGES);
}

const headEnd = (b: Buffer): number => b.indexOf('\r\n\r\n');

/**
 * Compares the request the LB sent the server with the one the client sent it. `reference` is the client's bytes
 * as they reached the LB, or, when those are TLS, the plaintext the probe wrote (the proxy decrypted it).
 */
export function compareForwarded(sent: Buffer, forwardedStream: Buffer): ForwardedRequest {
  const forwarded = withoutProxyHeader(forwardedStream);
  if (!forwarded || forwarded.length === 0 || sent.length === 0) return { kind: 'unknown' };
  const sentEnd = headEnd(sent);
  const fwdEnd = headEnd(forwarded);
  // Both heads whole: compare them as they are (a body, if any, is not the proxy's business here).
  if (sentEnd >= 0 && fwdEnd >= 0) {
    const a = sent.subarray(0, sentEnd);
    const b = forwarded.subarray(0, fwdEnd);
    if (a.equals(b)) return { kind: 'verbatim' };
    const changes = describeChanges(a.toString('latin1'), b.toString('latin1'));
    return { kind: 'rewritten', changes: changes.length > 0 ? changes : ['reordered or re-spaced the headers'] };
  }
  // A cut capture: only a difference within what both sides show proves anything.
  const n = Math.min(sent.length, forwarded.length);
  if (sent.subarray(0, n).equals(forwarded.subarray(0, n))) return { kind: 'unknown' };
  const changes = describeChanges(wholeLines(sent), wholeLines(forwarded), false);
  return {
    kind: 'rewritten',
    changes: changes.length > 0 ? changes : ['changed the request where the capture cut it'],
  };
}

/** The lines the capture holds whole (the last may be cut mid-line). */
function wholeLines(b: Buffer): string {
  const text = b.toString('latin1');
  const end = text.lastIndexOf('\r\n');
  return end < 0 ? '' : text.slice(0, end);
}
