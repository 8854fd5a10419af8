// The lab's real server: a tiny HTTP service whose every response names the
// server, so a test can tell which pool member (or impostor) answered.
// Usage: node http-server.js <address> <port> <name>
import { createServer } from 'node:http';

const [address, portText, name] = process.argv.slice(2);
if (address === undefined || portText === undefined || name === undefined) {
  console.error('usage: http-server.js <address> <port> <name>');
  process.exit(2);
}
const port = Number(portText);

const server = createServer((req, res) => {
  const body = `served by ${name} (${address}:${port}) for ${req.socket.remoteAddress ?? '?'}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'x-lab-server': name, 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 1000;
server.listen(port, address);
