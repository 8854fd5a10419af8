// The chat checks' evidence pages over HTTP: GET /c/<signed id>/<exp>/<sig>/<check id>/<name> answers the file
// <name> of that check (check.html, a capture, the decode…) as the audit log names it, with the bytes from the
// evidence archive. The signature covers the signed check and the expiry: 403 when it does not match (or the
// link's check and the one asked for were not posted in the same conversation), 410 when it has expired, 404 for
// a check or file the audit log does not know or bytes already pruned. Started by `serve` when
// LBCHECK_EVIDENCE_PORT is set; checkPageRoute is the route alone, for a server that has other routes (Teams).
// Beside it, /i/… serves the incident export the chat command `export` links to (incident-route.ts).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditLog } from '../src/audit/audit-log.js';
import { checkFiles, sameConversation } from '../src/audit/check-files.js';
import type { IndexedRecord } from '../src/audit/audit-index.js';
import { ConfigError } from '../src/errors.js';
import { checkLinks, incidentLinks, type CheckLinkSigner } from '../src/evidence/evidence-links.js';
import { errorFields, type Logger } from '../src/log.js';
import { CHECK_ID } from '../src/model/check-id.js';
import { isSafeEvidenceName, MEDIA } from '../src/model/evidence.js';
import { evidencePagesSchema, parseEnv, teamsSchema } from '../src/runtime/settings.js';
import { incidentRoute } from './incident-route.js';

export interface EvidencePagesSettings {
  port: number;
  host: string;
  /** The base URL links name; unset: http://host:port once listening. */
  publicUrl?: string;
  secret: string;
  ttlSeconds: number;
}

/** Undefined when LBCHECK_EVIDENCE_PORT is unset; a bad value is a ConfigError naming the variable. */
export function readEvidencePagesSettings(env: NodeJS.ProcessEnv): EvidencePagesSettings | undefined {
  const s = parseEnv(evidencePagesSchema, env, 'Evidence pages configuration');
  if (s.LBCHECK_EVIDENCE_PORT === undefined) return undefined;
  const link = parseEnv(teamsSchema.pick({ LBCHECK_LINK_SECRET: true, LBCHECK_LINK_TTL_SECONDS: true }), env, 'Links');
  return {
    port: s.LBCHECK_EVIDENCE_PORT,
    host: s.LBCHECK_EVIDENCE_HOST,
    ...(s.LBCHECK_EVIDENCE_URL ? { publicUrl: s.LBCHECK_EVIDENCE_URL } : {}),
    // Without a configured key, links stay valid only for this process's life.
    secret: link.LBCHECK_LINK_SECRET ?? randomBytes(32).toString('hex'),
    ttlSeconds: link.LBCHECK_LINK_TTL_SECONDS,
  };
}

const CHECK_PATH = /^\/c\/([^/]+)\/(\d{1,12})\/([^/]*)\/([^/]+)\/([^/]+)$/;

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
}

/** How a file is answered: the page and plain text shown in the browser, everything else downloaded. */
function fileHeaders(name: string, sha256: string): Record<string, string> {
  const base = { 'x-content-type-options': 'nosniff', 'x-sha256': sha256, 'cache-control': 'private, no-store' };
  if (name.endsWith('.html'))
    return {
      ...base,
      'content-type': MEDIA.html,
      // The page needs no script and loads nothing; the header says so again, whatever the file holds.
      'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    };
  if (name.endsWith('.txt')) return { ...base, 'content-type': MEDIA.text };
  const type = name.endsWith('.pcapng')
    ? MEDIA.pcapng
    : name.endsWith('.pcap')
      ? MEDIA.pcap
      : name.endsWith('.png')
        ? MEDIA.png
        : name.endsWith('.json')
          ? MEDIA.json
          : 'application/octet-stream';
  return { ...base, 'content-type': type, 'content-disposition': `attachment; filename="${name}"` };
}

interface Route {
  signed: string;
  exp: string;
  sig: string;
  checkId: string;
  name: string;
}

function parseRoute(pathname: string): Route | undefined {
  const m = CHECK_PATH.exec(pathname);
  if (!m) return undefined;
  const [, signed = '', exp = '', sig = '', checkId = '', raw = ''] = m;
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return { signed, exp, sig, checkId, name };
}

/**
 * Answers a GET of a check link; false when the request is not one (another route's); a promise while the answer
 * waits for the audit log.
 */
export function checkPageRoute(
  links: CheckLinkSigner,
  audit: AuditLog,
): (req: IncomingMessage, res: ServerResponse) => boolean | Promise<void> {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://evidence');
    if (!url.pathname.startsWith('/c/')) return false;
    const route = req.method === 'GET' || req.method === 'HEAD' ? parseRoute(url.pathname) : undefined;
    if (!route || !CHECK_ID.test(route.signed) || !CHECK_ID.test(route.checkId) || !isSafeEvidenceName(route.name)) {
      plain(res, 404, 'no such evidence page');
      return true;
    }
    const verdict = links.verify(route.signed, route.exp, route.sig);
    if (verdict === 'bad-signature') {
      plain(res, 403, 'this evidence link is not valid');
      return true;
    }
    if (verdict === 'expired') {
      plain(res, 410, 'this evidence link has expired; ask the bot for the check again or use lbcheck audit export');
      return true;
    }
    return serveCheckFile(route, audit, req, res);
  };
}

/**
 * A link is handed out with the post that names its check, and the audit record (with the page) follows the
 * post by a few milliseconds: a link opened at once waits that long for it, rather than answering 404.
 */
const RECORD_WAIT_MS = 3000;
const RECORD_LOOK_EVERY_MS = 50;

/** The check's post records, waiting a little for the first one (see RECORD_WAIT_MS). */
async function postsOf(audit: AuditLog, checkId: string): Promise<readonly IndexedRecord[]> {
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const posts = await audit.index.current();
    if (posts.some((p) => p.checkId === checkId) || Date.now() >= deadline) return posts;
    await new Promise((r) => setTimeout(r, RECORD_LOOK_EVERY_MS));
  }
}

async function serveCheckFile(route: Route, audit: AuditLog, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const records = await postsOf(audit, route.checkId);
  if (!sameConversation(records, route.signed, route.checkId)) {
    plain(res, 403, `this link opens the checks of its own conversation; ${route.checkId} is not one of them`);
    return;
  }
  const file = checkFiles(records, route.checkId).get(route.name);
  const data = file ? audit.evidence.get(file.sha256) : undefined;
  if (!file || !data) {
    plain(res, 404, file ? 'this evidence is no longer stored (retention)' : 'no such file in this check');
    return;
  }
  res.writeHead(200, { ...fileHeaders(route.name, file.sha256), 'content-length': String(data.length) });
  res.end(req.method === 'HEAD' ? undefined : data);
}

export interface RunningEvidencePages {
  port: number;
  /** The signed link to a check's page. */
  link: (checkId: string) => string;
  /** The signed link to the incident export of these thread or check ids (incident-route.ts). */
  incidentLink: (ids: readonly string[]) => string;
  /** The startup line. */
  describe: string;
  close(): Promise<void>;
}

export async function serveEvidencePages(
  settings: EvidencePagesSettings,
  audit: AuditLog,
  log: Logger,
): Promise<RunningEvidencePages> {
  let links = checkLinks(settings.publicUrl ?? '', settings.secret, settings.ttlSeconds);
  let route = checkPageRoute(links, audit);
  let incidents = incidentLinks(settings.publicUrl ?? '', settings.secret, settings.ttlSeconds);
  let incident = incidentRoute(incidents, audit);
  const failed = (res: ServerResponse, err: unknown): void => {
    log.log('error', 'evidence page failed', errorFields(err));
    if (!res.headersSent) plain(res, 500, 'internal error; the details are in the log');
    else res.end();
  };
  const server = createServer((req, res) => {
    try {
      const page = route(req, res);
      if (page instanceof Promise) page.catch((err: unknown) => failed(res, err));
      else if (!page && !incident(req, res)) plain(res, 404, 'not found');
    } catch (err) {
      failed(res, err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(`LBCHECK_EVIDENCE_PORT ${settings.port} is in use on ${settings.host}`)
          : err,
      ),
    );
    server.listen(settings.port, settings.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const base = settings.publicUrl ?? `http://${host}:${port}`;
  // Without a public URL the links name the address actually bound (a port 0 is known only now).
  if (!settings.publicUrl) {
    links = checkLinks(base, settings.secret, settings.ttlSeconds);
    route = checkPageRoute(links, audit);
    incidents = incidentLinks(base, settings.secret, settings.ttlSeconds);
    incident = incidentRoute(incidents, audit);
  }
  return {
    port,
    link: (checkId) => links.url(checkId),
    incidentLink: (ids) => incidents.url(ids),
    describe: `evidence pages: ${base}/c/… (listening on ${host}:${port}; links valid ${settings.ttlSeconds} s)`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
