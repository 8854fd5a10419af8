// The incident export over HTTP (issue 27 item 3, the chat part): GET /i/<exp>/<sig>/<ids>/incident.md answers
// incidentExport of the ids the link signs (a thread's checks, re-runs and watch rounds), rendered from the audit
// log on each request; /i/<exp>/<sig>/<ids>/<check id>/<name> answers a file of its page set, so the document's
// relative links (pages, ladders) work as in an exported folder. 403 for a bad signature, 410 once expired, 404
// for ids the audit log holds no check of, or a file the export does not hold. Beside checkPageRoute in
// evidence-http.ts; the chat command `export` (src/pipeline/handlers/export-command.ts) hands out the links.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditLog } from '../src/audit/audit-log.js';
import { incidentExport } from '../src/audit/incident-export.js';
import type { IncidentLinkSigner } from '../src/evidence/evidence-links.js';
import { CHECK_ID } from '../src/model/check-id.js';
import { isSafeEvidenceName, MEDIA } from '../src/model/evidence.js';

const INCIDENT_PATH = /^\/i\/(\d{1,12})\/([^/]*)\/([A-Za-z0-9_-]{1,2000})\/(?:incident\.md|([^/]+)\/([^/]+))$/;

/** A plain-text refusal; true: the request was this route's. */
function done(res: ServerResponse, status: number, text: string): true {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
  return true;
}

/** The ids a (verified) segment names, or undefined when it is not a JSON list of strings. */
function idsOf(segment: string): string[] | undefined {
  try {
    const ids: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return Array.isArray(ids) && ids.every((i) => typeof i === 'string') ? ids : undefined;
  } catch {
    return undefined;
  }
}

/** The file a path names inside the export: incident.md, or <check id>/<name> of its page set. */
function wantedPath(checkId: string | undefined, raw: string | undefined): string | undefined {
  if (checkId === undefined) return 'incident.md';
  let name: string;
  try {
    name = decodeURIComponent(raw ?? '');
  } catch {
    return undefined;
  }
  return CHECK_ID.test(checkId) && isSafeEvidenceName(name) ? `${checkId}/${name}` : undefined;
}

function send(req: IncomingMessage, res: ServerResponse, path: string, data: Buffer): void {
  const name = path.slice(path.lastIndexOf('/') + 1);
  // Markdown is shown as text (a browser would download text/markdown); the page set keeps its own types.
  const type = name.endsWith('.md') || name.endsWith('.txt') ? MEDIA.text : name.endsWith('.html') ? MEDIA.html : '';
  res.writeHead(200, {
    'content-type': type || 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    'x-sha256': createHash('sha256').update(data).digest('hex'),
    'cache-control': 'private, no-store',
    'content-length': String(data.length),
    ...(name.endsWith('.html')
      ? { 'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'" }
      : {}),
    ...(type ? {} : { 'content-disposition': `attachment; filename="${name}"` }),
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

/**
 * Answers a GET of an incident link; false when the request is not one (another route's); a promise while the
 * answer waits for the audit log (read through its index, never whole and synchronously in the bot process).
 */
export function incidentRoute(
  links: IncidentLinkSigner,
  audit: AuditLog,
): (req: IncomingMessage, res: ServerResponse) => boolean | Promise<void> {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://evidence');
    if (!url.pathname.startsWith('/i/')) return false;
    const m = req.method === 'GET' || req.method === 'HEAD' ? INCIDENT_PATH.exec(url.pathname) : null;
    const [, exp = '', sig = '', segment = '', checkId, raw] = m ?? [];
    const path = m ? wantedPath(checkId, raw) : undefined;
    if (!path) return done(res, 404, 'no such incident page');
    const verdict = links.verify(segment, exp, sig);
    if (verdict === 'bad-signature') return done(res, 403, 'this incident link is not valid');
    if (verdict === 'expired')
      return done(res, 410, 'this incident link has expired; ask the bot again or use lbcheck audit export');
    const ids = idsOf(segment);
    if (!ids) return done(res, 404, 'the audit log holds no check of this incident');
    return serveIncidentFile(audit, ids, path, req, res);
  };
}

async function serveIncidentFile(
  audit: AuditLog,
  ids: string[],
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const records = await audit.index.current();
  const incident = incidentExport({ records: () => records, evidence: audit.evidence }, ids);
  if (incident.checks.length === 0) {
    done(res, 404, 'the audit log holds no check of this incident');
    return;
  }
  const data =
    path === 'incident.md' ? Buffer.from(incident.markdown) : incident.files.find((f) => f.path === path)?.data;
  if (!data) {
    done(res, 404, 'no such file in this incident (or no longer stored)');
    return;
  }
  send(req, res, path, data);
}
