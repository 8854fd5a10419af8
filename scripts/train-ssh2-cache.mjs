// Records V8's code cache for dist/vendor/ssh2-client.cjs (bundle-ssh2.mjs):
// loads the bundle the way lbcheck does (src/remote/ssh2-client.ts), runs one
// SSH session with it against ssh2's own server in this process (key
// exchange, public-key auth, host key check, exec channels with output and
// exit status, a refused channel, a global request, the close), then saves
// the cache, which then holds every function that session compiled. The two
// ends meet on a Unix socket in a private temporary directory: no network.
// Usage: node scripts/train-ssh2-cache.mjs <checkout root>
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.argv[2];
if (!root) throw new Error('usage: train-ssh2-cache.mjs <checkout root>');
const loader = await import(pathToFileURL(join(root, 'dist', 'src', 'remote', 'ssh2-client.js')).href);
const { Client, script } = loader.loadBundledClient(loader.SSH2_BUNDLE);
const { Server, utils } = createRequire(join(root, 'package.json'))('ssh2');

/**
 * An ed25519 pair ssh2 can read back. ssh2's own generator now and then writes an OpenSSH private key that its
 * parser calls malformed (about one in fifty here, so a build failed to record the cache now and then): such a
 * pair is drawn again.
 */
function readableKeyPair() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error('ssh2 generated 20 ed25519 keys it cannot parse');
}

const hostKey = readableKeyPair();
const userKey = readableKeyPair();
const userPublic = utils.parseKey(userKey.public);

function acceptsUserKey(ctx) {
  if (ctx.method !== 'publickey') return false;
  if (ctx.key.algo !== userPublic.type || !ctx.key.data.equals(userPublic.getPublicSSH())) return false;
  return !ctx.signature || userPublic.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}

/** The server end: echoes each exec'd command on stdout, a byte on stderr, exit status 0. */
function serve(conn) {
  conn.on('authentication', (ctx) => (acceptsUserKey(ctx) ? ctx.accept() : ctx.reject(['publickey'])));
  conn.on('request', (_accept, reject) => reject?.());
  conn.on('ready', () => {
    conn.on('tcpip', (_accept, reject) => reject());
    conn.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec();
        channel.write(`${info.command}\n`);
        channel.stderr.write('.');
        channel.exit(0);
        channel.end();
      });
    });
  });
}

function execOnce(client, command) {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let out = '';
      channel.on('data', (d) => (out += d));
      channel.stderr.on('data', () => undefined);
      channel.on('close', () => resolve(out));
    });
  });
}

/** One session as lbcheck runs them: several commands at once, a refused channel, a global request. */
async function session(client) {
  const outs = await Promise.all(['a', 'b', 'c'].map((c) => execOnce(client, c)));
  if (outs.join('') !== 'a\nb\nc\n') throw new Error(`unexpected exec output ${JSON.stringify(outs)}`);
  // Refused by the server before anything is dialled: it only exercises the client's channel-failure path.
  await new Promise((resolve) => client.forwardOut('127.0.0.1', 0, '127.0.0.1', 9, () => resolve()));
  await new Promise((resolve) => client.unforwardIn('127.0.0.1', 0, () => resolve()));
}

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-ssh2-train-'));
const path = join(dir, 'sshd.sock');
const server = new Server({ hostKeys: [hostKey.private] }, serve);
try {
  await new Promise((resolve) => server.listen(path, resolve));
  const client = new Client();
  await new Promise((resolve, reject) => {
    client.on('ready', () => session(client).then(() => client.end(), reject));
    client.on('error', reject);
    client.on('close', resolve);
    client.connect({
      sock: connect(path),
      username: 'lbcheck',
      privateKey: userKey.private,
      authHandler: ['publickey'],
      hostVerifier: (key) => Buffer.isBuffer(key),
      readyTimeout: 20_000,
    });
  });
  const cacheFile = loader.codeCacheFileOf(loader.SSH2_BUNDLE);
  // Renamed into place: a run starting meanwhile reads no half-written cache.
  writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
  renameSync(`${cacheFile}.tmp`, cacheFile);
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
