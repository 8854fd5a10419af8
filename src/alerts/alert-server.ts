// The alert webhook receiver: POST /alerts/alertmanager (Alertmanager's webhook, version 4) and POST
// /alerts/generic (lbcheck's small JSON form). Every request is authenticated (a bearer token, or an HMAC of
// the body) before its body is read as JSON, bounded in size, and answered with what became of each alert, so
// the sender's log says it too. A queue that is away answers 503: Alertmanager retries, nothing is lost.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorFields, type Logger } from '../log.js';
import { adminAuthorized } from '../ops/admin-auth.js';
import { AlertPayloadError, readAlertNotice, type AlertNotice, type AlertSource } from './alert-payload.js';
import { AlertQueueError, type AlertOutcome } from './alert-intake.js';

export const ALERT_PATHS: Record<string, AlertSource> = {
  '/alerts/alertmanager': 'alertmanager',
  '/alerts/generic': 'generic',
};
export const SIGNATURE_HEADER = 'x-lbcheck-signature';
const MAX_BODY_BYTES = 1024 * 1024;

export interface AlertServerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** Senders send it as `Authorization: Bearer <token>`. */
  token?: string;
  /** Senders send `X-Lbcheck-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  hmacKey?: string;
  handle: (notice: AlertNotice) => Promise<AlertOutcome[]>;
  log: Logger;
}

export interface RunningAlertServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpRefusal(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function signatureValid(body: Buffer, header: string | string[] | undefined, key: string): boolean {
  const m = typeof header === 'string' ? /^sha256=([0-9a-f]{64})$/i.exec(header.trim()) : null;
  if (!m?.[1]) return false;
  const expected = createHmac('sha256', key).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1].toLowerCase(), 'hex'), expected);
}

/** Who may send: the token or a valid signature; neither configured never happens (settings refuse it). */
function authenticate(req: IncomingMessage, body: Buffer, opts: AlertServerOptions): void {
  if (opts.token && adminAuthorized(req.headers, opts.token)) return;
  if (opts.hmacKey && signatureValid(body, req.headers[SIGNATURE_HEADER], opts.hmacKey)) return;
  throw new HttpRefusal(
    401,
    'not authenticated: send Authorization: Bearer <LBCHECK_ALERTS_TOKEN> or X-Lbcheck-Signature: sha256=<HMAC ' +
      'of the body with LBCHECK_ALERTS_HMAC_KEY>',
  );
}

/** Checks what can be checked before the body: path, method, a browser's Origin, the content type. */
function sourceOf(req: IncomingMessage): AlertSource {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const source = ALERT_PATHS[path];
  if (!source) throw new HttpRefusal(404, `no such path: POST alerts to ${Object.keys(ALERT_PATHS).join(' or ')}`);
  if (req.method !== 'POST') throw new HttpRefusal(405, 'only POST is accepted');
  // Alert senders are servers: a request a web page made (it carries Origin) is never one.
  if (req.headers.origin !== undefined) throw new HttpRefusal(403, 'requests from web pages are refused');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpRefusal(415, 'the body must be application/json');
  return source;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpRefusal(400, 'the body is not JSON');
  }
}

async function serveRequest(req: IncomingMessage, res: ServerResponse, opts: AlertServerOptions): Promise<void> {
  try {
    const source = sourceOf(req);
    const body = await readBody(req);
    authenticate(req, body, opts);
    const notice = readAlertNotice(source, parseJson(body));
    const outcomes = await opts.handle(notice);
    opts.log.log('info', 'alert notice handled', { source, outcomes: outcomes.map((o) => o.kind) });
    answer(res, 200, { outcomes });
  } catch (err) {
    if (err instanceof HttpRefusal) return answer(res, err.status, { error: err.message });
    if (err instanceof AlertPayloadError) return answer(res, 400, { error: err.message });
    if (err instanceof AlertQueueError) return answer(res, 503, { error: `not queued, retry later: ${err.message}` });
    opts.log.log('error', 'alert notice failed', errorFields(err));
    answer(res, 500, { error: 'internal error; see the bot log' });
  }
}

export async function startAlertServer(opts: AlertServerOptions): Promise<RunningAlertServer> {
  const server = createServer((req, res) => void serveRequest(req, res, opts));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
