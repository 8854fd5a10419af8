// SSH against the lab's real OpenSSH: pinning, refusals with actionable
// messages, hostile arguments arriving verbatim, forwarding fallback.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { runOk } from '../lab/run-command.js';
import { probeFromLb } from '../../src/probe/member-probe.js';
import { pinsFromKnownHosts } from '../../src/remote/host-keys.js';
import { SshSession, WARM_CHANNELS } from '../../src/remote/ssh-session.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { checkOptions, labLbAccess, labTarget } from '../checklist/lab-target.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';

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
      // The one-liner reads the whole response too, not just the status line.
      assert.equal(ok.body?.end, 'complete', JSON.stringify(ok.body));
      assert.equal(ok.body?.bytes, ok.body?.expected);
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

describe('warm channels (the LB login shell started before the command)', () => {
  /** Every login shell the LB starts appends its PID here (set up by each test). */
  let shellLog: string;
  const shellsStarted = (): number[] =>
    existsSync(shellLog) ? readFileSync(shellLog, 'utf8').split('\n').filter(Boolean).map(Number) : [];
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** Waits for a condition that the behaviour under test makes true; fails if it never does. */
  async function until(what: string, test: () => boolean, boundMs = 10_000): Promise<void> {
    const end = Date.now() + boundMs;
    while (!test()) {
      if (Date.now() > end) assert.fail(`never happened: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('a command runs in a shell the LB started before the command was given', async () => {
    shellLog = join(dir, 'shells-started');
    rmSync(shellLog, { force: true });
    await lab.faults.loginShellStartup(`echo $$ >> ${shellLog}`);
    const s = await SshSession.open(labLbAccess(lab));
    try {
      await s.warmed();
      await until(`${WARM_CHANNELS} login shells started`, () => shellsStarted().length >= WARM_CHANNELS);
      const before = shellsStarted();
      const r = await s.run(['sh', '-c', 'echo $PPID']);
      assert.equal(r.code, 0, r.stderr);
      // sh's parent is the login shell that ran the command line.
      assert.ok(
        before.includes(Number(r.stdout.trim())),
        `ran in ${r.stdout.trim()}, started before: ${before.join(' ')}`,
      );
      assert.deepEqual(s.commands, ["sh -c 'echo $PPID'"]);
    } finally {
      s.close();
    }
  });

  it('exit codes, stdout and stderr as with exec; the command still reads the rest of stdin itself', async () => {
    const s = await SshSession.open(labLbAccess(lab));
    try {
      const r = await s.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [3, 'out\n', 'err\n', false]);
      // The capture's protocol: the command line, then the command's own stdin up to EOF.
      const h = await s.execLine('read a; read b; read c || echo "$a|$b|eof"; printf %s "${lbcheck_line:+warm}"');
      let out = '';
      h.channel.on('data', (d: Buffer) => (out += d.toString()));
      h.channel.stderr.resume();
      h.channel.end('one\ntwo\n');
      assert.equal((await h.exit).code, 0);
      assert.equal(out, 'one|two|eof\nwarm', 'the line reached a warm loader, and the loader took nothing more');
    } finally {
      s.close();
    }
  });

  it('at most WARM_CHANNELS wait at a time; they end with the session', async () => {
    shellLog = join(dir, 'shells-ended');
    rmSync(shellLog, { force: true });
    await lab.faults.loginShellStartup(`echo $$ >> ${shellLog}`);
    const s = await SshSession.open(labLbAccess(lab));
    try {
      const all = await Promise.all([1, 2, 3, 4, 5].map((n) => s.run(['echo', String(n)])));
      assert.deepEqual(
        all.map((r) => r.stdout),
        ['1\n', '2\n', '3\n', '4\n', '5\n'],
      );
      assert.ok(s.warmChannels <= WARM_CHANNELS, `${s.warmChannels} waiting`);
      await s.warmed();
      await until('the waiting shells started', () => shellsStarted().length >= 5 + s.warmChannels);
    } finally {
      s.close();
    }
    await until('every shell the session started ended', () => !shellsStarted().some(alive));
  });

  it('a key with a forced command that vets each command: with warmChannels 0 a whole check runs through it', async () => {
    // The vetting wrapper refuses lbcheck's loader (it is not a command the account's owner listed) and logs
    // every command it is asked to run.
    const key = join(dir, 'forced_ed25519');
    const vet = join(dir, 'vet.sh');
    const seen = join(dir, 'vetted');
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(
      vet,
      `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> ${seen}\n` +
        'case "$SSH_ORIGINAL_COMMAND" in *lbcheck_line*) echo "not allowed" >&2; exit 1;; esac\n' +
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n',
      { mode: 0o755 },
    );
    const authorized = join(dirname(lab.sshInfo.identityFile), 'authorized_keys_root');
    const before = readFileSync(authorized);
    writeFileSync(
      authorized,
      Buffer.concat([before, Buffer.from(`command="${vet}" ${readFileSync(`${key}.pub`, 'utf8')}`)]),
    );
    try {
      const access = { ...labLbAccess(lab), privateKey: readFileSync(key), warmChannels: 0 };
      const { report } = await runCheck(labTarget(lab, 'nginx'), checkOptions(), {
        session: () => SshSession.open(access),
      });
      assert.equal(report.diagnosis.culprit, 'none', report.diagnosis.summary);
      const vetted = readFileSync(seen, 'utf8');
      assert.match(vetted, /tcpdump/);
      assert.doesNotMatch(vetted, /lbcheck_line/);
    } finally {
      writeFileSync(authorized, before);
    }
  });

  it('an LB allowing fewer sessions than lbcheck keeps warm (MaxSessions 2): every command still runs', async () => {
    await lab.faults.sshMaxSessions(2);
    const s = await SshSession.open(labLbAccess(lab));
    try {
      await s.warmed();
      // Both slots are held by waiting warm channels; a line with a newline cannot go through one, so they
      // give it their slots.
      assert.equal(s.warmChannels, 2);
      assert.deepEqual((await s.run(['printf', '%s', 'a\nb'])).stdout, 'a\nb');
      for (let i = 0; i < 4; i++) assert.equal((await s.run(['echo', String(i)])).stdout, `${i}\n`);
      const pair = await Promise.all([s.run(['echo', 'a']), s.run(['echo', 'b'])]);
      assert.deepEqual(
        pair.map((r) => [r.code, r.stdout]),
        [
          [0, 'a\n'],
          [0, 'b\n'],
        ],
      );
    } finally {
      s.close();
    }
  });
});
