// A probe reads the whole response it asked for: the body's end as its head announces it (Content-Length, the last
// chunk, or the close), bounded by size and time. Real sockets on loopback, a real server writing what a real one
// would, including one that sends its head and then nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { BodyTracker, framingOf } from '../../src/probe/http-body.js';
import { httpExchange, httpRequest } from '../../src/probe/http-exchange.js';
import { tcpConnect } from '../../src/probe/tcp-connect.js';

describe('body framing', () => {
  it('Content-Length: complete when the announced bytes arrived, however they were split', () => {
    const t = new BodyTracker('content-length', { 'content-length': '10' });
    assert.equal(t.push(Buffer.from('12345')), false);
    assert.equal(t.push(Buffer.from('67890')), true);
    assert.deepEqual(t.state, { framing: 'content-length', bytes: 10, expected: 10, complete: true, limited: false });
  });

  it('chunked: complete only at the last chunk and the empty line after its trailer', () => {
    const wire = Buffer.from('5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n');
    const t = new BodyTracker('chunked', {});
    // One byte at a time: the parser keeps its state across pushes.
    for (let i = 0; i < wire.length - 1; i++) assert.equal(t.push(wire.subarray(i, i + 1)), false, `byte ${i}`);
    assert.equal(t.push(wire.subarray(wire.length - 1)), true);
    assert.equal(t.state.bytes, 11);
    assert.equal(t.state.complete, true);
  });

  it('chunked without the last chunk is not complete, and a close does not complete it', () => {
    const t = new BodyTracker('chunked', {});
    t.push(Buffer.from('5\r\nhello\r\n'));
    t.closed();
    assert.equal(t.state.complete, false);
  });

  it('framed by the close: complete when the connection closes', () => {
    const t = new BodyTracker('close', {});
    t.push(Buffer.from('abc'));
    assert.equal(t.state.complete, false);
    t.closed();
    assert.equal(t.state.complete, true);
  });

  it('stops at the limit and says so (limited, not complete)', () => {
    const t = new BodyTracker('content-length', { 'content-length': '100' }, 16);
    assert.equal(t.push(Buffer.alloc(20)), true);
    assert.equal(t.state.limited, true);
    assert.equal(t.state.complete, false);
  });

  it('HEAD, 204 and 304 have no body; chunked wins over Content-Length', () => {
    assert.equal(framingOf(200, 'HEAD', { 'content-length': '4052' }), 'none');
    assert.equal(framingOf(204, 'GET', {}), 'none');
    assert.equal(framingOf(304, 'GET', {}), 'none');
    assert.equal(framingOf(200, 'GET', { 'transfer-encoding': 'chunked', 'content-length': '3' }), 'chunked');
    assert.equal(framingOf(200, 'GET', {}), 'close');
    assert.equal(new BodyTracker('none', {}).state.complete, true);
  });
});

/** A loopback server that answers each connection with `reply` (and may keep the connection open). */
function serve(reply: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.once('data', () => reply(s)));
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => {
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return { server, port: a.port };
  });
}

const HEAD = (length: number): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`;
const BODY = 'x'.repeat(4000);

describe('httpExchange reads the whole response', () => {
  const servers: Server[] = [];
  const open: Socket[] = [];
  after(() => {
    for (const s of open) s.destroy();
    for (const s of servers) s.close();
  });

  async function exchange(reply: (s: Socket) => void, method: 'GET' | 'HEAD' = 'GET', silentMs = 300) {
    const { server, port } = await serve((s) => {
      open.push(s);
      reply(s);
    });
    servers.push(server);
    const c = await tcpConnect('127.0.0.1', port, 1000);
    assert.ok(c.socket);
    try {
      return await httpExchange(c.socket, httpRequest('127.0.0.1', { method }), silentMs);
    } finally {
      c.socket.destroy();
    }
  }

  it('complete: the head and the announced body, on a connection left open', async () => {
    const x = await exchange((s) => s.write(HEAD(BODY.length) + BODY));
    assert.equal(x.status, 200);
    assert.equal(x.body?.end, 'complete');
    assert.equal(x.body?.bytes, BODY.length);
    assert.equal(x.body?.expected, BODY.length);
  });

  it('the head, then nothing: stalled, with the bytes that came', async () => {
    const x = await exchange((s) => s.write(HEAD(BODY.length) + BODY.slice(0, 100)));
    assert.equal(x.behaviour, 'http-response');
    assert.equal(x.status, 200);
    assert.equal(x.body?.end, 'stalled');
    assert.equal(x.body?.bytes, 100);
  });

  it('closed before the announced end: closed-early', async () => {
    const x = await exchange((s) => s.end(HEAD(BODY.length) + BODY.slice(0, 10)));
    assert.equal(x.body?.end, 'closed-early');
    assert.equal(x.body?.bytes, 10);
  });

  it('chunked, in pieces: complete at the last chunk', async () => {
    const x = await exchange((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n');
      setTimeout(() => s.write('3\r\nefg\r\n0\r\n\r\n'), 20);
    });
    assert.equal(x.body?.framing, 'chunked');
    assert.equal(x.body?.end, 'complete');
    assert.equal(x.body?.bytes, 7);
  });

  it('a hostile status line is quoted as printable ASCII, bounded: no terminal escape, no line break, no 16 KB', async () => {
    const hostile = `HTTP/1.1 503 \x1b]8;;https://evil.example\x07sign in\x1b]8;;\x07 \x1b[2J${'<'.repeat(5000)}`;
    const x = await exchange((s) => s.end(`${hostile}\r\nContent-Length: 0\r\n\r\n`));
    assert.equal(x.status, 503);
    const line = x.statusLine ?? assert.fail('no status line');
    assert.match(line, /^HTTP\/1\.1 503 \?\]8;;https:\/\/evil\.example\?sign in\?\]8;;\? \?\[2J<+…$/);
    assert.equal(line.length, 200);
  });

  it('HEAD: complete with the head alone', async () => {
    const x = await exchange((s) => s.write(HEAD(BODY.length)), 'HEAD');
    assert.equal(x.body?.end, 'complete');
    assert.equal(x.body?.bytes, 0);
  });

  it('no head at all: silent, and no body judged', async () => {
    const x = await exchange(() => undefined);
    assert.equal(x.behaviour, 'silent');
    assert.equal(x.body, undefined);
  });
});
