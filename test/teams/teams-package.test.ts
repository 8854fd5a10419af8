// The sideloadable Teams package, and Bot Framework authentication when an
// app id is configured.
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { teamsPackage } from '../../adapters/teams/package-app.js';
import { startTeams } from '../../adapters/teams/teams-app.js';
import { createLogger } from '../../src/log.js';

/** Reads a zip's entries from its central directory (stored or deflated). */
function unzip(buf: Buffer): Map<string, Buffer> {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + buf.readUInt32LE(at + 20));
    out.set(name, method === 8 ? inflateRawSync(raw) : raw.subarray(0, size));
    at += 46 + nameLen + extra + comment;
  }
  return out;
}

describe('Teams app package', () => {
  it('holds the manifest with the app id and two PNG icons of the required sizes', () => {
    const id = '0f0f0f0f-1111-2222-3333-444444444444';
    const files = unzip(teamsPackage(id));
    assert.deepEqual([...files.keys()], ['manifest.json', 'color.png', 'outline.png']);
    const manifest = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '{}') as {
      id: string;
      bots: { botId: string; scopes: string[] }[];
    };
    assert.equal(manifest.id, id);
    assert.equal(manifest.bots[0]?.botId, id);
    assert.ok(manifest.bots[0]?.scopes.includes('team'));
    for (const [name, size] of [
      ['color.png', 192],
      ['outline.png', 32],
    ] as const) {
      const png = files.get(name) ?? Buffer.alloc(0);
      assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
      assert.equal(png.readUInt32BE(16), size);
      assert.equal(png.readUInt32BE(20), size);
    }
  });
  it('refuses an app id that is not a GUID', () => {
    assert.throws(() => teamsPackage('not-a-guid'), /is not the bot's Azure app id/);
  });
});

describe('Bot Framework authentication', () => {
  it('with an app id configured, an activity without a valid token is refused', async () => {
    const teams = await startTeams({
      appId: '0f0f0f0f-1111-2222-3333-444444444444',
      appPassword: 'secret',
      port: 0,
      linkSecret: 'k',
      linkTtlSeconds: 60,
      evidence: () => Promise.resolve(undefined),
      log: createLogger('silent'),
      intake: () => Promise.reject(new Error('an unauthenticated activity reached the intake')),
    });
    try {
      const activity = {
        type: 'message',
        id: '1',
        serviceUrl: 'http://127.0.0.1:9/',
        channelId: 'msteams',
        from: { id: 'x' },
        conversation: { id: 'c' },
        recipient: { id: 'b' },
        text: 'help',
      };
      const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer forged.token.here' },
        body: JSON.stringify(activity),
      });
      assert.equal(res.status, 401);
      const none = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
      });
      assert.equal(none.status, 401);
      assert.equal(teams.authenticated, true);
    } finally {
      await teams.close();
    }
  });
});
