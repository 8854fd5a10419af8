// What the Teams endpoint checks before botbuilder sees a request, so that an
// unauthenticated caller costs little and learns nothing: the Authorization
// header first, then a capped body, then where the activity claims to come
// from (channel, tenant) and where replies would go (serviceUrl).
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost, loopbackUrlHost } from '../../src/runtime/loopback.js';

/** Bot Framework activities are a few KB; anything near this is not one. */
export const MAX_ACTIVITY_BYTES = 256 * 1024;

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

export function hasBearerToken(req: IncomingMessage): boolean {
  return /^Bearer [A-Za-z0-9._~+/=-]+$/.test(req.headers.authorization ?? '');
}

/** Reads at most `limit` bytes; stops reading (and rejects) as soon as the body is larger. */
export function readCappedBody(req: IncomingMessage, limit = MAX_ACTIVITY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface ActivityAllowList {
  tenants: readonly string[];
  serviceUrlHosts: readonly string[];
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((a) => {
    const p = a.toLowerCase();
    return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
  });
}

/** Why an (authenticated-mode) activity is refused, or undefined when it may proceed. */
export function activityRefusal(body: Record<string, unknown>, allow: ActivityAllowList): string | undefined {
  if (body.channelId !== 'msteams') return `channelId ${JSON.stringify(body.channelId)} is not msteams`;
  const conversation = body.conversation as { tenantId?: unknown } | undefined;
  const channelData = body.channelData as { tenant?: { id?: unknown } } | undefined;
  const tenants = [conversation?.tenantId, channelData?.tenant?.id].filter((t) => t !== undefined);
  if (tenants.length === 0) return 'the activity names no tenant';
  const outside = tenants.find((t) => typeof t !== 'string' || !allow.tenants.includes(t));
  if (outside !== undefined) return `tenant ${JSON.stringify(outside)} is not in LBCHECK_TEAMS_TENANTS`;
  let host: string;
  try {
    host = new URL(String(body.serviceUrl)).hostname;
  } catch {
    return 'serviceUrl is not a URL';
  }
  if (!hostAllowed(host, allow.serviceUrlHosts)) return `serviceUrl host ${host} is not in LBCHECK_TEAMS_SERVICE_HOSTS`;
  return undefined;
}

/** A refused request: the status and the text that says why (plain text, never the caller's input). */
export interface LocalRefusal {
  status: number;
  text: string;
}

/**
 * Local mode (TEAMS_LOCAL=1) has no authentication, so only a program on this machine may drive it, never a web
 * page the operator has open: a page can POST text/plain without a CORS preflight (refused: JSON only), and
 * its requests carry Origin (refused); a DNS-rebinding page reaches 127.0.0.1 under its own host name (refused:
 * Host must be a loopback name or address with the bound port).
 */
export function localRequestRefusal(req: IncomingMessage, port: number, isMessage: boolean): LocalRefusal | undefined {
  const host = req.headers.host ?? '';
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  if (!m || !isLoopbackHost(m[1] ?? '') || Number(m[2]) !== port)
    return {
      status: 421,
      text:
        `Teams local mode answers only requests addressed to this machine: the Host header must be ` +
        `127.0.0.1:${port}, localhost:${port} or [::1]:${port}`,
    };
  if (!isMessage) return undefined;
  if (req.headers.origin !== undefined)
    return {
      status: 403,
      text:
        'Teams local mode refuses requests from web pages (this one carries an Origin header); use the Bot ' +
        'Framework Emulator or another local program',
    };
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    return { status: 415, text: 'Teams local mode accepts only content-type application/json' };
  return undefined;
}

/** Local mode posts its replies to the activity's serviceUrl: only one on this machine. */
export function localServiceUrlRefusal(body: Record<string, unknown>): LocalRefusal | undefined {
  const url = typeof body.serviceUrl === 'string' ? body.serviceUrl : '';
  if (/^https?:\/\//i.test(url) && loopbackUrlHost(url) !== undefined) return undefined;
  return {
    status: 403,
    text:
      'Teams local mode replies only to a serviceUrl on this machine (http://127.0.0.1:…, http://localhost:… or ' +
      'http://[::1]:…); this activity names another',
  };
}
