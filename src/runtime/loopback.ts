// Whether a host name or address stays on this machine: the Redis URL (an
// unsealed queue is tolerated only there) and Teams local mode's Host header
// and serviceUrl (nothing else may drive it or receive its replies).
import { isIP } from 'node:net';

/**
 * "localhost", 127.0.0.0/8, ::1 (bracketed or not) and ::ffff:127.x. Names other than "localhost" are not
 * resolved: a name that resolves to loopback today may not tomorrow (DNS rebinding), so it does not count.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // WHATWG URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  return h === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(h);
}

/** The host of a URL when it is one on loopback; undefined for any other URL or text. */
export function loopbackUrlHost(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return isLoopbackHost(host) ? host : undefined;
  } catch {
    return undefined;
  }
}
