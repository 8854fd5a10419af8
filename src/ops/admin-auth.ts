// The operators' token (LBCHECK_ADMIN_TOKEN) in front of the queue dashboard:
// `Authorization: Bearer <token>`, or Basic auth with the token as the password
// (any user name), which is what a browser prompt sends.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

function sameSecret(given: string, expected: string): boolean {
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The secret an Authorization header carries (bearer token, or a Basic password), if any. */
export function presentedSecret(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

export function adminAuthorized(headers: IncomingHttpHeaders, token: string): boolean {
  const secret = presentedSecret(headers);
  return secret !== undefined && sameSecret(secret, token);
}
