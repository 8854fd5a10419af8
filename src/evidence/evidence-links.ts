// Signed, expiring links to evidence the bot serves itself (HMAC-SHA256 over
// what the link names and its expiry). Two kinds:
// - a file link, /evidence/<sha256>/<name>?exp=&sig= (Teams cards' downloads):
//   it names the exact sha256-addressed bytes;
// - a check link, /c/<checkId>/<exp>/<sig>/<checkId>/check.html: it opens a
//   chat check's evidence page and, relative to it, every file of that check
//   (./<name>) and the page of another check of the same conversation
//   (../<otherId>/check.html), so the page's relative links work online as
//   they do in an export or an --evidence-dir folder.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type LinkVerdict = 'ok' | 'expired' | 'bad-signature';

export interface EvidenceLinkSigner {
  url(sha256: string, name: string, now?: number): string;
  verify(sha256: string, name: string, exp: string, sig: string, now?: number): LinkVerdict;
}

export interface CheckLinkSigner {
  /** The signed link to a check's page (or another file of it, by name). */
  url(checkId: string, name?: string, now?: number): string;
  verify(checkId: string, exp: string, sig: string, now?: number): LinkVerdict;
}

function macOf(secret: string): (...parts: string[]) => string {
  return (...parts) => createHmac('sha256', secret).update(parts.join('\n')).digest('hex');
}

function verdictOf(want: string, sig: string, exp: string, now: number): LinkVerdict {
  const wanted = Buffer.from(want, 'hex');
  const got = Buffer.from(/^[0-9a-f]{64}$/.test(sig) ? sig : '', 'hex');
  if (got.length !== wanted.length || !timingSafeEqual(got, wanted)) return 'bad-signature';
  return Number(exp) * 1000 < now ? 'expired' : 'ok';
}

const expiry = (now: number, ttlSeconds: number): string => String(Math.floor(now / 1000) + ttlSeconds);
const trimmed = (baseUrl: string): string => baseUrl.replace(/\/$/, '');

export function evidenceLinks(baseUrl: string, secret: string, ttlSeconds: number): EvidenceLinkSigner {
  const mac = macOf(secret);
  return {
    url(sha, name, now = Date.now()) {
      const exp = expiry(now, ttlSeconds);
      const path = `/evidence/${sha}/${encodeURIComponent(name)}`;
      return `${trimmed(baseUrl)}${path}?exp=${exp}&sig=${mac(sha, name, exp)}`;
    },
    verify: (sha, name, exp, sig, now = Date.now()) => verdictOf(mac(sha, name, exp), sig, exp, now),
  };
}

/** The "c" part keeps a check link's signature from ever being valid as a file link's, and the reverse. */
export function checkLinks(baseUrl: string, secret: string, ttlSeconds: number): CheckLinkSigner {
  const mac = macOf(secret);
  return {
    url(checkId, name = 'check.html', now = Date.now()) {
      const exp = expiry(now, ttlSeconds);
      return `${trimmed(baseUrl)}/c/${checkId}/${exp}/${mac('c', checkId, exp)}/${checkId}/${encodeURIComponent(name)}`;
    },
    verify: (checkId, exp, sig, now = Date.now()) => verdictOf(mac('c', checkId, exp), sig, exp, now),
  };
}

export interface IncidentLinkSigner {
  /** The signed link to the incident export of these thread or check ids (incident.md, or a file of its page set). */
  url(ids: readonly string[], name?: string, now?: number): string;
  /** The ids a link's segment names when its signature matches and it has not expired. */
  verify(segment: string, exp: string, sig: string, now?: number): LinkVerdict;
}

/** The ids as one path segment (base64url of their JSON): a Teams thread id holds ";", ":" and "@". */
export const incidentSegment = (ids: readonly string[]): string =>
  Buffer.from(JSON.stringify(ids)).toString('base64url');

/** The "i" part keeps an incident link's signature from being valid as a check or file link's. */
export function incidentLinks(baseUrl: string, secret: string, ttlSeconds: number): IncidentLinkSigner {
  const mac = macOf(secret);
  return {
    url(ids, name = 'incident.md', now = Date.now()) {
      const exp = expiry(now, ttlSeconds);
      const segment = incidentSegment(ids);
      return `${trimmed(baseUrl)}/i/${exp}/${mac('i', segment, exp)}/${segment}/${name}`;
    },
    verify: (segment, exp, sig, now = Date.now()) => verdictOf(mac('i', segment, exp), sig, exp, now),
  };
}
