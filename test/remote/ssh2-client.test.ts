// How ssh2's Client is loaded (src/remote/ssh2-client.ts): from the build's bundle with a code cache a fresh
// node accepts, from the bundle alone when the cache is not this node's, from the package without a bundle. The
// lab tests (ssh-lab.test.ts and every check) run whole sessions against a real sshd with the bundled client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { SSH2_BUNDLE, codeCacheFileOf, loadBundledClient, loadSshClient } from '../../src/remote/ssh2-client.js';

const scratch = mkdtempSync(join(tmpdir(), 'lbcheck-ssh2-client-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const sshSessionUrl = new URL('../../src/remote/ssh-session.js', import.meta.url).href;

describe('ssh2 client loading', () => {
  it('the build bundled the client with a code cache that a new lbcheck process accepts', () => {
    assert.ok(existsSync(SSH2_BUNDLE), `no ${SSH2_BUNDLE}: the build did not bundle ssh2`);
    assert.ok(existsSync(codeCacheFileOf(SSH2_BUNDLE)), 'the build recorded no code cache');
    // A process started as lbcheck is (no flags; V8 rejects a cache recorded under other flags).
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { sshClientSource } from '${sshSessionUrl}'; console.log(sshClientSource);`,
      ],
      { encoding: 'utf8', env },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'bundle+code-cache');
  });

  it('is the installed ssh2, and loads its native crypto from where npm built it', () => {
    const bundleText = readFileSync(SSH2_BUNDLE, 'utf8');
    const version = (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
    assert.match(bundleText.split('\n')[0] ?? '', new RegExp(`ssh2 ${version.replace(/\./g, '\\.')}'s client`));
    const native = /require\("([^"]+sshcrypto\.node)"\)/.exec(bundleText)?.[1];
    assert.ok(native, 'the bundle does not require the native crypto binding');
    const built = createRequire(import.meta.url)
      .resolve('ssh2/package.json')
      .replace(/package\.json$/, '');
    // Where npm's install built it (a machine without a compiler has none; then ssh2 uses its JavaScript).
    if (existsSync(join(built, 'lib/protocol/crypto/build/Release/sshcrypto.node')))
      assert.equal(
        resolve(dirname(SSH2_BUNDLE), native),
        join(built, 'lib/protocol/crypto/build/Release/sshcrypto.node'),
      );
  });

  it("a code cache that is not this node's is rejected, and the bundle still gives a working Client", () => {
    const foreign = join(scratch, 'foreign.v8-cache');
    writeFileSync(foreign, Buffer.alloc(4096, 7));
    const loaded = loadBundledClient(SSH2_BUNDLE, foreign);
    assert.equal(loaded.source, 'bundle');
    assert.equal(typeof new loaded.Client().connect, 'function');
  });

  it('without a bundle, the Client comes from the package', () => {
    const loaded = loadSshClient(join(scratch, 'no-such-bundle.cjs'));
    assert.equal(loaded.source, 'package');
    assert.equal(typeof new loaded.Client().exec, 'function');
  });

  it('a bundle that does not export a Client is an error, not a broken session later', () => {
    const bad = join(scratch, 'bad.cjs');
    writeFileSync(bad, 'module.exports = 42;');
    assert.throws(() => loadBundledClient(bad), /does not export ssh2's Client/);
  });
});
