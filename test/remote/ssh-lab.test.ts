// SSH against the lab's real OpenSSH: pinning, refusals with actionable
// messages, hostile arguments arriving verbatim, forwarding fallback.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { runOk } from '../lab/run-command.js';
import { probeFromLb } from '../../src/probe/member-probe.js';
import { pinsFromKnownHosts } from '../../src/remote/host-keys.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { labLbAccess } from '../checklist/lab-target.js';

let lab: Lab;
let dir: string;

before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-ssh-'));
});
after(() => {
  lab.teardown();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

describe('host key pinning', () => {
  it('connects when the key matches the known_hosts pin', async () => {
    const s = await SshSession.open(labLbAccess(lab));
    assert.equal(s.hostKeyFingerprint, lab.sshInfo.hostKeyFingerprint);
    s.close();
  });

  it('refuses a changed key, naming the fingerprint seen and the one expected', async () => {
    const expected = `SHA256:${'A'.repeat(43)}`;
    await assert.rejects(SshSession.open({ ...labLbAccess(lab), pins: { fingerprints: [expected] } }), (err: Error) => {
      assert.equal(err.name, 'HostKeyMismatchError');
      assert.ok(err.message.includes(lab.sshInfo.hostKeyFingerprint), err.message);
      assert.ok(err.message.includes(expected));
      assert.match(err.message, /man-in-the-middle/);
      return true;
    });
  });

  it('refuses an unknown key and says how to pin it', async () => {
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const pins = pinsFromKnownHosts(empty, lab.sshInfo.host, 22);
    await assert.rejects(SshSession.open({ ...labLbAccess(lab), pins }), (err: Error) => {
      assert.equal(err.name, 'HostKeyUnknownError');
      assert.ok(err.message.includes(`hostKey: ${lab.sshInfo.hostKeyFingerprint}`), err.message);
      return true;
    });
  });

  it('reads hashed known_hosts entries (ssh-keygen -H)', async () => {
    const hashed = join(dir, 'hashed_known_hosts');
    writeFileSync(hashed, readFileSync(lab.sshInfo.knownHostsFile));
    await runOk(['ssh-keygen', '-H', '-f', hashed]);
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const pins = pinsFromKnownHosts(hashed, lab.sshInfo.host, 22);
    assert.deepEqual(pins.fingerprints, [lab.sshInfo.hostKeyFingerprint]);
  });
});

describe('refusals', () => {
  it('a key the LB does not accept: SshAuthError telling which key to check', async () => {
    const other = join(dir, 'other_key');
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', other]);
    await assert.rejects(SshSession.open({ ...labLbAccess(lab), privateKey: readFileSync(other) }), (err: Error) => {
      assert.equal(err.name, 'SshAuthError');
      assert.match(err.message, /authorized_keys/);
      return true;
    });
  });

  it('nothing listening on the SSH port: SshUnreachableError with the address', async () => {
    await assert.rejects(SshSession.open({ ...labLbAccess(lab), port: 2222 }), (err: Error) => {
      assert.equal(err.name, 'SshUnreachableError');
      assert.ok(err.message.includes(`${lab.sshInfo.host}:2222`));
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });
});

describe('remote commands', () => {
  it('hostile arguments reach the LB verbatim and nothing in them is executed', async () => {
    const marker = join(dir, 'pwned');
    const hostile = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      `' ; touch ${marker} ; '`,
      `" && touch ${marker} && "`,
      'a\nb',
      '*',
      '~root',
      '$HOME',
      'tab\there',
      'ünïcødé',
      '--help',
    ];
    const s = await SshSession.open(labLbAccess(lab));
    const r = await s.run(['printf', '%s\\0', ...hostile]);
    s.close();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), hostile);
    assert.equal(existsSync(marker), false);
  });

  it('when the LB forbids forwarding, members are probed by a remote one-liner instead', async () => {
    await lab.faults.sshForwardingDisabled();
    const s = await SshSession.open(labLbAccess(lab));
    try {
      const [s1] = lab.servers;
      assert.ok(s1);
      const ok = await probeFromLb(s, { host: s1.address, port: s1.port, protocol: 'http', path: '/' }, 1000);
      assert.equal(ok.via, 'remote-command', JSON.stringify(ok));
      assert.equal(ok.outcome, 'connected');
      assert.equal(ok.httpStatus, 200);
      await lab.faults.serverDown('s1');
      const refused = await probeFromLb(s, { host: s1.address, port: s1.port, protocol: 'http', path: '/' }, 1000);
      assert.equal(refused.outcome, 'refused');
      assert.equal(refused.code, 'L4CON');
      assert.ok(s.commands.some((c) => c.startsWith("timeout 1 bash -c 'exec 3<>")));
    } finally {
      s.close();
    }
  });
});
