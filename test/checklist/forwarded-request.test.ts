// The request as the client sent it and as the LB passed it on: reassembled
// from segments, stripped of a PROXY protocol header, compared only as far as
// the capture shows both, and described in words.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import {
  compareForwarded,
  describeChanges,
  isTlsRecord,
  streamBytes,
  withoutProxyHeader,
} from '../../src/checklist/decide/forwarded-request.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: web\r\nUser-Agent: lbcheck\r\nConnection: close\r\n\r\n';

let index = 0;
function segment(seq: number, text: string, cutTo?: number): Packet {
  const payload = Buffer.from(text, 'latin1');
  const flags = { syn: false, ack: true, fin: false, rst: false, psh: true, urg: false };
  return {
    index: index++,
    timeUs: index * 10,
    tcp: {
      srcPort: 61000,
      dstPort: 80,
      seq,
      ack: 1,
      flags,
      window: 502,
      payloadLength: payload.length,
      payload: cutTo === undefined ? payload : payload.subarray(0, cutTo),
    },
  } as Packet;
}

describe('streamBytes', () => {
  it('puts segments in sequence order and keeps a retransmission once', () => {
    const a = segment(1000, 'GET / ');
    const b = segment(1006, 'HTTP/1.1\r\n');
    assert.equal(streamBytes([b, a, a]).toString(), 'GET / HTTP/1.1\r\n');
  });

  it('stops at a segment the snaplen cut, and at a gap', () => {
    assert.equal(streamBytes([segment(1, 'GET / HTTP/1.1', 5), segment(15, 'X')]).toString(), 'GET /');
    assert.equal(streamBytes([segment(1, 'GET '), segment(10, 'HTTP')]).toString(), 'GET ');
  });

  it('counts sequence numbers across the 32-bit wrap', () => {
    const a = segment(0xfffffffe, 'GE');
    const b = segment(0, 'T /');
    assert.equal(streamBytes([a, b]).toString(), 'GET /');
  });
});

describe('withoutProxyHeader', () => {
  it('drops a v1 header and a v2 header; a cut header leaves the start unknown', () => {
    assert.equal(withoutProxyHeader(Buffer.from(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n${REQUEST}`))?.toString(), REQUEST);
    const v2 = Buffer.concat([
      Buffer.from('0d0a0d0a000d0a515549540a', 'hex'),
      Buffer.from([0x21, 0x11, 0x00, 0x0c]),
      Buffer.alloc(12),
      Buffer.from(REQUEST),
    ]);
    assert.equal(withoutProxyHeader(v2)?.toString(), REQUEST);
    assert.equal(withoutProxyHeader(v2.subarray(0, 20)), undefined);
    assert.equal(withoutProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), undefined);
  });
});

describe('compareForwarded', () => {
  const sent = Buffer.from(REQUEST);

  it('the same head is verbatim, whatever body or PROXY header follows', () => {
    assert.deepEqual(compareForwarded(sent, Buffer.from(REQUEST)), { kind: 'verbatim' });
    assert.deepEqual(compareForwarded(sent, Buffer.from(`PROXY UNKNOWN\r\n${REQUEST}body`)), { kind: 'verbatim' });
  });

  it('lower-cased names and a removed header are a rewrite, described', () => {
    const haproxy = 'GET / HTTP/1.1\r\nhost: web\r\nuser-agent: lbcheck\r\n\r\n';
    const r = compareForwarded(sent, Buffer.from(haproxy));
    assert.deepEqual(r, { kind: 'rewritten', changes: ['removed connection', 'lower-cased header names'] });
  });

  it('cut before any difference is unknown; a difference inside what both show is a rewrite', () => {
    assert.deepEqual(compareForwarded(sent, Buffer.from(REQUEST.slice(0, 30))), { kind: 'unknown' });
    const r = compareForwarded(sent, Buffer.from('GET / HTTP/1.0\r\nHost: pool\r\nUser-Ag'));
    assert.equal(r.kind, 'rewritten');
    // The header beyond the cut is not reported as removed.
    assert.deepEqual(r.kind === 'rewritten' && r.changes, [
      'request line "GET / HTTP/1.1" became "GET / HTTP/1.0"',
      'changed host',
    ]);
  });

  it('nothing to compare is unknown', () => {
    assert.deepEqual(compareForwarded(sent, Buffer.alloc(0)), { kind: 'unknown' });
    assert.deepEqual(compareForwarded(Buffer.alloc(0), sent), { kind: 'unknown' });
  });
});

describe('describeChanges', () => {
  it('names added headers and never passes control characters or long lines from the wire on', () => {
    const changes = describeChanges(
      'GET / HTTP/1.1\r\nHost: a',
      `GET /${'x'.repeat(200)}\u001b[31m HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.18.0.1`,
    );
    assert.equal(changes[1], 'added x-forwarded-for');
    assert.ok(changes[0]?.endsWith('…"'));
    assert.ok(!changes.join('').includes('\u001b'));
  });

  it('spots a TLS record', () => {
    assert.ok(isTlsRecord(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
    assert.ok(!isTlsRecord(Buffer.from('GET /')));
  });
});
