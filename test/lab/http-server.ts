// The lab's real server: a tiny HTTP service whose every response names the
// server, so a test can tell which pool member (or impostor) answered.
// Usage: node http-server.js <address> <port> <name> [ok|hang|error|hostile]
//   ok    (default) 200 with a page of realistic size (a few KB: larger than
//         one full-size segment, as real pages are, so an MTU black hole bites)
//   hang  accepts connections and reads requests, never answers (a hung application)
//   error answers every request with 500
//   hostile 200 with a status line and a Server header written as chat markup (a channel mention, a link),
//         which lbcheck must post as data
//   head-first as ok, but the head goes out on its own, in a small segment, before the body (as nginx and Apache
//         send a static file with sendfile): behind an MTU black hole the head arrives and the body never does
import { createServer } from 'node:http';

const [address, portText, name, mode = 'ok'] = process.argv.slice(2);
if (
  address === undefined ||
  portText === undefined ||
  name === undefined ||
  !['ok', 'hang', 'error', 'hostile', 'head-first'].includes(mode)
) {
  console.error('usage: http-server.js <address> <port> <name> [ok|hang|error|hostile|head-first]');
  process.exit(2);
}
const port = Number(portText);
const PADDING = `${'lbcheck lab page padding '.repeat(160)}\n`;
const HOSTILE_REASON = 'OK <!channel> <https://evil.example|click> [click](https://evil.example) *bold*';

const server = createServer((req, res) => {
  if (mode === 'hang') return; // keep the socket open, say nothing
  const status = mode === 'error' ? 500 : 200;
  const body = `served by ${name} (${address}:${port}) for ${req.socket.remoteAddress ?? '?'}\n${status === 200 ? PADDING : 'internal error\n'}`;
  if (mode === 'hostile') {
    res.writeHead(200, HOSTILE_REASON, { server: 'nginx <!here>', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain',
    'x-lab-server': name,
    'content-length': Buffer.byteLength(body),
  });
  if (mode === 'head-first') {
    res.flushHeaders();
    // A moment later, so the head leaves alone rather than coalesced with the body.
    setTimeout(() => res.end(body), 20);
    return;
  }
  res.end(body);
});
server.keepAliveTimeout = 1000;
server.requestTimeout = 0;
server.listen(port, address);
