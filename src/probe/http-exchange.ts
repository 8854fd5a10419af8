// Step 2's question to the VIP: what happens to `GET / HTTP/1.1`? Works on any
// duplex stream (a TCP socket, a TLS socket, an SSH direct-tcpip channel).
// The whole response is read (bounded), because a status line followed by a
// body that never completes is what users see as a page that never loads.
import type { Duplex } from 'node:stream';
import type { ProbeBody } from '../model/report.js';
import { BodyTracker, framingOf } from './http-body.js';

export type HttpBehaviour = 'http-response' | 'reset' | 'closed' | 'silent' | 'non-http';

export interface HttpExchange {
  behaviour: HttpBehaviour;
  /** ms from sending the request to the first byte / the end. */
  firstByteMs?: number;
  endMs: number;
  status?: number;
  statusLine?: string;
  headers: Record<string, string>;
  /** Header names exactly as received (case tells HAProxy's lower case from others). */
  rawHeaderNames: string[];
  bodyExcerpt: string;
  /** Bytes received in all (head and body). */
  bytes: number;
  /** How the body went, once the head was complete (absent in observations recorded before bodies were read). */
  body?: BodyRead;
}

/**
 * How the body went (see ProbeBody in the report model): complete (the end the head announced arrived: Content-Length
 * reached, the last chunk, or the close of a body framed by it); closed-early / reset (the connection ended before);
 * stalled (nothing more for the silence bound); limit (the probe stopped reading at BODY_LIMIT_BYTES).
 */
export type BodyRead = ProbeBody;
export type BodyEnd = ProbeBody['end'];

export interface RequestShape {
  /** Path and query of the health check (the inventory's httpPath); "/" by default. */
  path?: string;
  method?: 'GET' | 'HEAD';
  /** Unique text to find the proxied copy of this request in the LB capture. */
  marker?: string;
  /** Bytes sent before the request, e.g. a PROXY protocol header. */
  preface?: string;
}

export function httpRequest(host: string, shape: RequestShape = {}): string {
  return (
    (shape.preface ?? '') +
    [
      `${shape.method ?? 'GET'} ${shape.path ?? '/'} HTTP/1.1`,
      `Host: ${host.includes(':') ? `[${host}]` : host}`,
      'User-Agent: lbcheck',
      ...(shape.marker ? [`X-Lbcheck-Probe: ${shape.marker}`] : []),
      'Accept: */*',
      'Connection: close',
      '',
      '',
    ].join('\r\n')
  );
}

/** PROXY protocol v1 header for a connection from `src` to `dst`. */
export function proxyV1Header(src: string, srcPort: number, dst: string, dstPort: number): string {
  return `PROXY ${src.includes(':') ? 'TCP6' : 'TCP4'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}

export function parseHead(
  text: string,
): Pick<HttpExchange, 'status' | 'statusLine' | 'headers' | 'rawHeaderNames'> | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const [statusLine = '', ...lines] = head.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  const rawHeaderNames: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    rawHeaderNames.push(name);
    headers[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(m[1]), statusLine: printableStatusLine(statusLine), headers, rawHeaderNames };
}

/** The longest status line kept: a status line is a few words; more is the server's text, not a status. */
const STATUS_LINE_MAX = 200;

/**
 * A server's status line as lbcheck may quote it: printable ASCII only and bounded. It is the server's text, and
 * it reaches terminals (an escape sequence there could act on the operator's terminal), decode files (a newline
 * there could forge a packet line) and chat messages (whose size limits it must not break).
 */
export function printableStatusLine(line: string): string {
  const printable = line.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > STATUS_LINE_MAX ? `${printable.slice(0, STATUS_LINE_MAX - 1)}…` : printable;
}

/** How long a response may take in all once its first byte arrived, as a multiple of the silence bound. */
const WHOLE_RESPONSE_FACTOR = 4;

/**
 * Sends the request and reads the answer: the head, then the body to the end its head announces (bounded by
 * BODY_LIMIT_BYTES). Resolves when the response is complete, on reset / close, when nothing arrives for
 * `silentMs` (before the first byte: silent; after it: the body stalled), or after WHOLE_RESPONSE_FACTOR times
 * `silentMs` in all.
 */
export function httpExchange(stream: Duplex, request: string, silentMs: number): Promise<HttpExchange> {
  const started = performance.now();
  const since = (): number => Math.round(performance.now() - started);
  const method = /^(?:PROXY [^\r]*\r\n)?(\S+)/.exec(request)?.[1] ?? 'GET';
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let total = 0;
    let firstByteMs: number | undefined;
    let lastByteMs = 0;
    let tracker: BodyTracker | undefined;
    let settled = false;
    let timer = setTimeout(() => finish('silent'), silentMs);
    let wholeTimer: NodeJS.Timeout | undefined;
    const finish = (behaviour: HttpBehaviour, end?: BodyEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(wholeTimer);
      const result = summarise(received, behaviour, since(), total);
      if (firstByteMs !== undefined) result.firstByteMs = firstByteMs;
      if (tracker)
        result.body = bodyRead(tracker, end ?? (behaviour === 'reset' ? 'reset' : 'closed-early'), lastByteMs);
      resolve(result);
    };
    const onBody = (chunk: Buffer): void => {
      if (tracker?.push(chunk)) finish('http-response', tracker.state.complete ? 'complete' : 'limit');
    };
    stream.on('data', (d: Buffer) => {
      firstByteMs ??= since();
      lastByteMs = since();
      total += d.length;
      clearTimeout(timer);
      timer = setTimeout(() => finish('http-response', 'stalled'), silentMs);
      wholeTimer ??= setTimeout(() => finish('http-response', 'stalled'), silentMs * WHOLE_RESPONSE_FACTOR);
      if (tracker) return onBody(d);
      received = Buffer.concat([received, d]).subarray(0, 16_384);
      const text = received.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = parseHead(text);
      if (!head?.status) return finish('http-response');
      tracker = new BodyTracker(framingOf(head.status, method, head.headers), head.headers);
      // The body bytes that came with the head: counted from the whole chunk, the kept copy may be cut.
      const bodyHere = d.subarray(Math.max(0, d.length - (total - (headEnd + 4))));
      if (tracker.state.complete) return finish('http-response', 'complete');
      onBody(bodyHere);
    });
    const closed = (behaviour: HttpBehaviour): void => {
      tracker?.closed();
      finish(behaviour, tracker?.state.complete ? 'complete' : undefined);
    };
    stream.once('end', () => closed('closed'));
    stream.once('close', () => closed('closed'));
    stream.once('error', (err: NodeJS.ErrnoException) =>
      closed(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'closed'),
    );
    stream.write(request);
  });
}

function summarise(received: Buffer, behaviour: HttpBehaviour, endMs: number, total: number): HttpExchange {
  const text = received.toString('latin1');
  const head = parseHead(text);
  const bodyStart = text.indexOf('\r\n\r\n');
  const result: HttpExchange = {
    behaviour: head ? 'http-response' : received.length > 0 ? 'non-http' : behaviour,
    endMs,
    headers: head?.headers ?? {},
    rawHeaderNames: head?.rawHeaderNames ?? [],
    bodyExcerpt: (bodyStart >= 0 ? text.slice(bodyStart + 4) : head ? '' : text).slice(0, 512),
    bytes: total,
  };
  if (head?.status !== undefined) result.status = head.status;
  if (head?.statusLine !== undefined) result.statusLine = head.statusLine;
  return result;
}

function bodyRead(tracker: BodyTracker, end: BodyEnd, lastByteMs: number): BodyRead {
  const s = tracker.state;
  return {
    framing: s.framing,
    end: s.complete ? 'complete' : s.limited ? 'limit' : end,
    bytes: s.bytes,
    ...(s.expected !== undefined ? { expected: s.expected } : {}),
    lastByteMs,
  };
}
