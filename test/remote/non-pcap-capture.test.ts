// An LB whose forced command prints a banner on stdout before tcpdump's pcap:
// only that capture fails, saying the LB printed non-pcap output; the pooled
// SSH connection stays up for the next command. A narrow case, so ssh2's own
// Server plays the LB on loopback (and plays its shell for lbcheck's warm
// channels: their command line comes as the first line on stdin).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { CaptureUnavailableError, DEFAULT_CAPTURE_LIMITS, RemoteCapture } from '../../src/capture/remote-capture.js';
import { fingerprint } from '../../src/remote/host-keys.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { LOADER } from '../../src/remote/warm-channels.js';
import { readableEd25519Pair } from './ssh2-keys.js';

const { Server, utils } = ssh2;
const hostKey = readableEd25519Pair();
const clientKey = readableEd25519Pair();
let server: InstanceType<typeof Server>;
let port = 0;

/** The command line a session runs: exec'd as is, or read by the warm-channel loader from the first line of stdin. */
function commandLineOf(stream: ssh2.ServerChannel, command: string): Promise<string> {
  if (command !== LOADER) return Promise.resolve(command);
  return new Promise((resolve) => {
    let buffered = '';
    const onData = (d: Buffer): void => {
      buffered += d.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      stream.off('data', onData);
      stream.pause();
      resolve(buffered.slice(0, end));
    };
    stream.on('data', onData);
  });
}

/** The LB's side of one command: a tcpdump behind a banner, or any other command answering at once. */
function answer(stream: ssh2.ServerChannel, line: string): void {
  if (line.includes('tcpdump')) {
    // What a forced command with a banner does: text first, then (here, never) the pcap.
    stream.write('Welcome to lb-1. Unauthorized access is prohibited.\n');
    stream.write(Buffer.alloc(64, 0x41));
    stream.stderr.write('tcpdump: listening on any, link-type LINUX_SLL2, snapshot length 262 bytes\n');
    stream.on('end', () => {
      stream.exit(0);
      stream.end();
    });
    stream.resume();
    return;
  }
  stream.write('still here\n');
  stream.exit(0);
  stream.end();
}

before(async () => {
  server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('error', () => undefined);
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          const stream = accept();
          void commandLineOf(stream, info.command).then((line) => answer(stream, line));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a capture whose stdout is not pcap', () => {
  it('fails that capture with "the LB printed non-pcap output" and leaves the SSH connection usable', async () => {
    const publicBlob = utils.parseKey(hostKey.public);
    assert.ok(!(publicBlob instanceof Error));
    const session = await SshSession.open({
      host: '127.0.0.1',
      port,
      user: 'lbcheck',
      privateKey: Buffer.from(clientKey.private),
      pins: { fingerprints: [fingerprint(publicBlob.getPublicSSH())] },
    });
    try {
      const failure = await RemoteCapture.start(session, {
        ...DEFAULT_CAPTURE_LIMITS,
        iface: 'any',
        maxSeconds: 5,
        filter: 'tcp port 80',
      }).then(
        (c) => c.stop().then(() => undefined),
        (err: unknown) => err,
      );
      assert.ok(failure instanceof CaptureUnavailableError, `expected the capture to fail, got ${String(failure)}`);
      assert.match(failure.message, /the LB printed non-pcap output on tcpdump's stdout/);
      assert.match(failure.message, /Welcome to lb-1/);
      assert.equal(session.alive, true);
      const next = await session.run(['echo', 'hello']);
      assert.match(next.stdout, /still here/);
    } finally {
      session.close();
    }
  });
});
