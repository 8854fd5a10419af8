// Which product answered, where the evidence allows it: error pages and
// header conventions of common proxies. A guess is labelled as evidence-based
// only when something distinctive was seen.
import type { HttpExchange } from '../probe/http-exchange.js';

export function fingerprintProxy(x: HttpExchange): string | undefined {
  const server = x.headers.server ?? '';
  const body = x.bodyExcerpt;
  if (/no server is available to handle this request/i.test(body) || /haproxy/i.test(server)) {
    return 'HAProxy (its own error page)';
  }
  if (/no healthy upstream|upstream connect error/i.test(body) || /^envoy/i.test(server)) return 'Envoy';
  if (/^nginx/i.test(server) || /<center>nginx[^<]*<\/center>/i.test(body))
    return `nginx${/nginx\/[\d.]+/.exec(server) ? ` (${/nginx\/[\d.]+/.exec(server)?.[0]})` : ''}`;
  if (/^BigIP|^BIG-IP/i.test(server)) return 'F5 BIG-IP';
  if (/^awselb/i.test(server)) return 'AWS ELB';
  if (/^cloudflare/i.test(server)) return 'Cloudflare';
  if (/^Apache/i.test(server)) return 'Apache httpd';
  return undefined;
}
