// Which proxy answered, from what the common proxies put in their own error answers: the Server header, their
// own headers, and their error pages (texts as the products send them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintProxy } from '../../src/checklist/decide/fingerprint.js';
import type { HttpExchange } from '../../src/probe/http-exchange.js';

function answer(status: number, headers: Record<string, string>, body = ''): HttpExchange {
  return {
    behaviour: 'http-response',
    endMs: 1,
    status,
    statusLine: `HTTP/1.1 ${status}`,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawHeaderNames: Object.keys(headers),
    bodyExcerpt: body,
    bytes: body.length,
  };
}

const CASES: [string, HttpExchange, RegExp][] = [
  ['Caddy 502 (empty body, Server: Caddy)', answer(502, { Server: 'Caddy' }), /^Caddy$/],
  ['Envoy 503', answer(503, { server: 'envoy' }, 'no healthy upstream'), /^Envoy$/],
  ['Envoy behind another Server header', answer(503, { 'x-envoy-upstream-service-time': '3' }, ''), /^Envoy$/],
  ['Traefik 503', answer(503, {}, 'no available server\n'), /^Traefik/],
  [
    'Apache 503 page',
    answer(503, {}, '<hr>\n<address>Apache/2.4.62 (Debian) Server at web.example Port 80</address>'),
    /^Apache httpd$/,
  ],
  ['Apache by Server header', answer(503, { Server: 'Apache/2.4.62 (Debian)' }), /^Apache httpd$/],
  [
    'nginx 502',
    answer(502, { Server: 'nginx/1.24.0' }, '<center>nginx/1.24.0</center>'),
    /^nginx \(nginx\/1\.24\.0\)$/,
  ],
  [
    'HAProxy 503',
    answer(503, {}, '<h1>503 Service Unavailable</h1>\nNo server is available to handle this request.'),
    /^HAProxy/,
  ],
  ['Varnish 503', answer(503, { Server: 'Varnish', 'X-Varnish': '32770' }, 'Guru Meditation'), /^Varnish$/],
  ['Varnish by X-Varnish alone', answer(503, { 'X-Varnish': '32770' }), /^Varnish$/],
  [
    'Varnish page alone',
    answer(503, {}, '<h1>Error 503 Backend fetch failed</h1><h3>Guru Meditation:</h3>'),
    /^Varnish/,
  ],
];

describe('proxy fingerprints', () => {
  for (const [name, x, want] of CASES) it(name, () => assert.match(fingerprintProxy(x) ?? '(none)', want));

  it('an answer that names nobody gets no fingerprint (a bare Bad Gateway, an application server)', () => {
    assert.equal(fingerprintProxy(answer(502, {}, 'Bad Gateway')), undefined);
    assert.equal(fingerprintProxy(answer(200, { 'X-Lab-Server': 's1' }, 'served by s1')), undefined);
  });
});
