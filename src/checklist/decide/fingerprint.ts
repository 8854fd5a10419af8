// Which product answered, where the evidence allows it: error pages and
// header conventions of common proxies. A guess is labelled as evidence-based
// only when something distinctive was seen.
import type { HttpExchange } from '../../probe/http-exchange.js';

const has = (x: HttpExchange, name: string): boolean => x.headers[name] !== undefined;

/** Headers and error pages that name a proxy, most distinctive first. */
function proxyByPage(x: HttpExchange, server: string, body: string): string | undefined {
  if (/no server is available to handle this request/i.test(body) || /haproxy/i.test(server)) {
    return 'HAProxy (its own error page)';
  }
  if (
    /no healthy upstream|upstream connect error/i.test(body) ||
    /^envoy/i.test(server) ||
    Object.keys(x.headers).some((h) => h.startsWith('x-envoy-'))
  )
    return 'Envoy';
  if (/^nginx/i.test(server) || /<center>nginx[^<]*<\/center>/i.test(body))
    return `nginx${/nginx\/[\d.]+/.exec(server) ? ` (${/nginx\/[\d.]+/.exec(server)?.[0]})` : ''}`;
  if (/^Caddy/i.test(server)) return 'Caddy';
  if (/^Varnish/i.test(server) || has(x, 'x-varnish') || /\bvarnish\b/i.test(x.headers.via ?? '')) return 'Varnish';
  if (/Guru Meditation/i.test(body)) return 'Varnish (its error page)';
  if (/^Apache/i.test(server) || /<address>Apache\/[\d.]+[^<]*Server at /i.test(body)) return 'Apache httpd';
  // Traefik sets no Server header; "no available server" is its own 503 (its 502 "Bad Gateway" names nobody).
  if (!server && /^no available server\s*$/.test(body)) return 'Traefik (its error page)';
  return undefined;
}

export function fingerprintProxy(x: HttpExchange): string | undefined {
  const server = x.headers.server ?? '';
  const found = proxyByPage(x, server, x.bodyExcerpt);
  if (found) return found;
  if (/^BigIP|^BIG-IP/i.test(server)) return 'F5 BIG-IP';
  if (/^awselb/i.test(server)) return 'AWS ELB';
  if (/^cloudflare/i.test(server)) return 'Cloudflare';
  if (/^traefik/i.test(server)) return 'Traefik';
  return undefined;
}
