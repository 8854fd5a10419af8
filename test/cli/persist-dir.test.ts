// Where `lbcheck run --persist` looks for its kept process: a socket in a
// directory only this user can enter (whoever connects runs checks with this
// user's SSH keys), named by the environment a check reads and by the build.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PersistUnavailable, persistSocket, privateDir } from '../../src/cli/persist-dir.js';

const base = mkdtempSync(join(tmpdir(), 'lbcheck-persist-dir-'));
const uid = userInfo().uid;
after(() => rmSync(base, { recursive: true, force: true }));

describe("the kept process's socket directory", () => {
  it('is created private (0700) and used again', () => {
    const root = join(base, 'fresh');
    mkdirSync(root);
    const dir = privateDir(root, uid);
    assert.equal(dir, join(root, `lbcheck-${uid}`));
    assert.equal(privateDir(root, uid), dir);
  });

  it('is refused when others may enter it, when it is a symlink, or when it is not this user’s', () => {
    const open = join(base, 'open');
    mkdirSync(join(open, `lbcheck-${uid}`), { recursive: true });
    chmodSync(join(open, `lbcheck-${uid}`), 0o755);
    assert.throws(() => privateDir(open, uid), PersistUnavailable);
    assert.throws(() => privateDir(open, uid), /can be entered by others \(mode 755\)/);

    const linked = join(base, 'linked');
    mkdirSync(linked);
    mkdirSync(join(base, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(base, 'elsewhere'), join(linked, `lbcheck-${uid}`));
    assert.throws(() => privateDir(linked, uid), /is not a directory/);

    const theirs = join(base, 'theirs');
    mkdirSync(join(theirs, `lbcheck-${uid}`), { recursive: true, mode: 0o700 });
    chmodSync(join(theirs, `lbcheck-${uid}`), 0o700);
    if (uid === 0) {
      // Root can hand it to someone else: the directory another user made is not trusted.
      chownSync(join(theirs, `lbcheck-${uid}`), 65534, 65534);
      assert.throws(() => privateDir(theirs, uid), /belongs to uid 65534, not to this user/);
    } else {
      // Without root, a directory of this user's own asked for as another uid is refused the same way.
      assert.throws(() => privateDir(theirs, uid + 1), /belongs to uid/);
    }
  });
});

describe("the kept process's socket", () => {
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    XDG_RUNTIME_DIR: join(base, 'runtime'),
    PATH: '/usr/bin:/bin',
    HOME: '/root',
    ...extra,
  });
  mkdirSync(join(base, 'runtime'), { recursive: true });

  it('is one per environment a check reads, and --persist’s own variable does not count', () => {
    const plain = persistSocket(env());
    assert.equal(persistSocket(env()), plain);
    assert.equal(persistSocket(env({ LBCHECK_PERSIST: '60' })), plain);
    assert.notEqual(persistSocket(env({ LBCHECK_CONFIG: '/etc/lbcheck/other.yaml' })), plain);
    assert.notEqual(persistSocket(env({ PATH: '/opt/tcpdump/bin:/usr/bin' })), plain);
    assert.notEqual(persistSocket(env({ NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem' })), plain);
    // Something a check does not read changes nothing.
    assert.equal(persistSocket(env({ TERM: 'xterm' })), plain);
  });

  it('lies in the private directory, within the length a Unix socket path may have', () => {
    const socket = persistSocket(env());
    assert.ok(socket.startsWith(join(base, 'runtime', `lbcheck-${uid}`, 'run-')), socket);
    assert.ok(Buffer.byteLength(socket) < 108, socket);
  });
});
