// TCP proxy or HTTP proxy, from recorded lab captures with one fact changed:
// connecting before the request proves a TCP proxy, rewriting the request
// proves an HTTP proxy, and a request passed on unchanged after it arrived
// proves neither, so the report says so instead of guessing (step 2 waits only
// briefly for a TCP proxy's connection; a slow one must not become "HTTP").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import { httpRequest } from '../../src/probe/http-exchange.js';
import { readFixture } from '../fixtures/fixture-files.js';

function modeOf(obs: CheckObservation): ModeStep {
  const s = decideCheck(obs).steps.find((x) => x.step === 2);
  assert.ok(s && s.name === 'mode');
  return s;
}

interface Sides {
  obs: CheckObservation;
  packets: Packet[];
  /** The client's request segment as it reached the LB. */
  clientRequest: Packet;
  /** The proxied request as it left the LB for the server. */
  proxied: Packet;
  /** The proxied connection's SYN. */
  proxiedSyn: Packet;
}

function sides(name: string): Sides {
  const obs = readFixture(name).observation;
  const marker = obs.mode?.request?.marker ?? '';
  const vip = obs.target.vip;
  const packets = obs.mode?.lb?.packets ?? [];
  // The client's first data segment (for TLS, ciphertext: the marker is not readable there).
  const clientRequest = packets.find((p) => p.ip?.dst === vip && (p.tcp?.payloadLength ?? 0) > 0);
  const proxied = packets.find((p) => p.ip?.dst !== vip && p.tcp?.payload.includes(marker));
  const proxiedSyn = packets.find(
    (p) =>
      p.tcp?.flags.syn &&
      !p.tcp.flags.ack &&
      p.ip?.dst === proxied?.ip?.dst &&
      p.tcp.srcPort === proxied?.tcp?.srcPort &&
      p.tcp.dstPort === proxied.tcp.dstPort,
  );
  assert.ok(clientRequest && proxied && proxiedSyn, `${name}: no proxied request in the capture`);
  return { obs, packets, clientRequest, proxied, proxiedSyn };
}

/** The proxied request's bytes replaced (its TCP header kept). */
function forwardAs(p: Packet, bytes: Buffer): void {
  if (!p.tcp) throw new Error('not TCP');
  p.tcp = { ...p.tcp, payload: bytes, payloadLength: bytes.length };
}

describe('the kind of proxy, from what the capture proves', () => {
  it('HAProxy (http mode) rewrote the request: an HTTP proxy, and the report says how', () => {
    const mode = modeOf(readFixture('healthy-haproxy-http').observation);
    assert.equal(mode.proxyKind, 'http');
    assert.match(mode.summary, /passed on rewritten \([^)]*lower-cased header names\): an HTTP proxy/);
  });

  it('nginx downgraded the request line and set Host: an HTTP proxy', () => {
    const mode = modeOf(readFixture('healthy-nginx').observation);
    assert.equal(mode.proxyKind, 'http');
    assert.match(mode.summary, /request line "GET \/ HTTP\/1\.1" became "GET \/ HTTP\/1\.0"; changed host/);
  });

  it('HAProxy (tcp mode) connected before the request arrived: a TCP proxy', () => {
    const mode = modeOf(readFixture('healthy-haproxy-tcp').observation);
    assert.equal(mode.proxyKind, 'tcp');
    assert.match(mode.summary, /before the request arrived \(a TCP proxy\)/);
  });

  it('connected after the request and passed it on byte for byte: kind left open, never called HTTP', () => {
    const s = sides('healthy-haproxy-http');
    forwardAs(s.proxied, Buffer.from(s.clientRequest.tcp?.payload ?? ''));
    const mode = modeOf(s.obs);
    assert.equal(mode.mode, 'L7');
    assert.equal(mode.proxyKind, null);
    assert.match(mode.summary, /passed the request on unchanged: an HTTP proxy, or a TCP proxy slower to connect/);
    assert.equal(mode.verdict, 'pass');
  });

  it('a slow TCP proxy (connected only after the request arrived) is not called an HTTP proxy', () => {
    const s = sides('healthy-haproxy-tcp');
    // The server-side SYN as it would be had the proxy taken longer to connect than the client took to send.
    s.proxiedSyn.index = s.clientRequest.index + 0.5;
    s.proxiedSyn.timeUs = s.clientRequest.timeUs + 100;
    const mode = modeOf(s.obs);
    assert.equal(mode.proxyKind, null);
    assert.match(mode.summary, /only after the request arrived, \d+ ms after its SYN-ACK, and passed the request on/);
  });

  it('a slow TCP proxy met by a check that skipped the wait (the last check found an HTTP proxy): the report says so', () => {
    const s = sides('healthy-haproxy-tcp');
    s.proxiedSyn.index = s.clientRequest.index + 0.5;
    s.proxiedSyn.timeUs = s.clientRequest.timeUs + 100;
    const mode = s.obs.mode;
    assert.ok(mode);
    s.obs.mode = { ...mode, tcpProxyWait: 'skipped' };
    const decided = modeOf(s.obs);
    assert.equal(decided.proxyKind, null);
    assert.match(decided.summary, /without waiting for a TCP proxy's own connection, as the last check of this VIP/);
    // A kind proved anyway needs no excuse.
    const http = readFixture('healthy-haproxy-http').observation;
    assert.ok(http.mode);
    http.mode = { ...http.mode, tcpProxyWait: 'skipped' };
    assert.doesNotMatch(modeOf(http).summary, /without waiting/);
  });

  it('a PROXY protocol header in front of an unchanged request is no rewrite', () => {
    const s = sides('healthy-haproxy-http');
    const header = Buffer.from('PROXY TCP4 198.18.0.1 198.18.0.2 61000 80\r\n');
    forwardAs(s.proxied, Buffer.concat([header, s.clientRequest.tcp?.payload ?? Buffer.alloc(0)]));
    assert.equal(modeOf(s.obs).proxyKind, null);
  });

  it('TLS terminated on the LB: the forwarded plaintext is compared with what the probe wrote', () => {
    assert.equal(modeOf(readFixture('healthy-tls').observation).proxyKind, 'http');
    const s = sides('healthy-tls');
    const request = s.obs.mode?.request;
    assert.ok(request);
    forwardAs(s.proxied, Buffer.from(httpRequest(request.host, request), 'latin1'));
    const mode = modeOf(s.obs);
    assert.equal(mode.proxyKind, null);
    assert.match(mode.summary, /only after the client's TLS handshake began/);
  });

  it('a proxy that passed nothing on and closed, reset or stayed silent has no kind: none is guessed', () => {
    // proxy-protocol-expected is an HAProxy http frontend; server-blocks-lb is nginx waiting on blocked servers.
    for (const name of ['proxy-protocol-expected', 'server-blocks-lb', 'vip-silent']) {
      const mode = modeOf(readFixture(name).observation);
      assert.equal(mode.mode, 'L7', name);
      assert.equal(mode.proxyKind, null, name);
    }
  });

  it('the capture cut the request before any difference: unknown, not proof', () => {
    const s = sides('healthy-haproxy-http');
    const client = s.clientRequest.tcp?.payload ?? Buffer.alloc(0);
    const marker = s.obs.mode?.request?.marker ?? '';
    // Passed on as it came, but the snaplen cut it just after the marker: nothing differs as far as it goes.
    const cut = client.indexOf(marker) + marker.length;
    forwardAs(s.proxied, client);
    s.proxied.tcp = { ...s.proxied.tcp!, payload: client.subarray(0, cut) };
    const mode = modeOf(s.obs);
    assert.equal(mode.proxyKind, null);
    assert.match(mode.summary, /the capture does not show whether it changed the request/);
  });
});
