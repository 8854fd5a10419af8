// Step 2's question to the VIP: what happens to `GET / HTTP/1.1`? Works on any
// duplex stream (a TCP socket, a TLS socket, an SSH direct-tcpip channel).
import type { Duplex } from 'node:stream';

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
  bytes: number;
}

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

function parseHead(
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
  return { status: Number(m[1]), statusLine, headers, rawHeaderNames };
}

/**
 * Sends the request and watches the answer. Resolves as soon as the response
 * head is complete (not waiting for the body), or on reset / close / silence.
 */
export function httpExchange(stream: Duplex, request: string, silentMs: number): Promise<HttpExchange> {
  const started = performance.now();
  const since = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let firstByteMs: number | undefined;
    let settled = false;
    const finish = (behaviour: HttpBehaviour): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = received.toString('latin1');
      const head = parseHead(text);
      const bodyStart = text.indexOf('\r\n\r\n');
      const result: HttpExchange = {
        behaviour: head ? 'http-response' : received.length > 0 ? 'non-http' : behaviour,
        endMs: since(),
        headers: head?.headers ?? {},
        rawHeaderNames: head?.rawHeaderNames ?? [],
        bodyExcerpt: (bodyStart >= 0 ? text.slice(bodyStart + 4) : head ? '' : text).slice(0, 512),
        bytes: received.length,
      };
      if (firstByteMs !== undefined) result.firstByteMs = firstByteMs;
      if (head?.status !== undefined) result.status = head.status;
      if (head?.statusLine !== undefined) result.statusLine = head.statusLine;
      resolve(result);
    };
    const timer = setTimeout(() => finish('silent'), silentMs);
    stream.on('data', (d: Buffer) => {
      firstByteMs ??= since();
      received = Buffer.concat([received, d]).subarray(0, 16_384);
      const text = received.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      // Head complete plus a little body (the proxy's error page names it).
      if (headEnd >= 0 && (received.length - headEnd > 200 || /content-length:\s*0\r/i.test(text)))
        finish('http-response');
    });
    stream.once('end', () => finish('closed'));
    stream.once('close', () => finish('closed'));
    stream.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'closed'),
    );
    stream.write(request);
  });
}
