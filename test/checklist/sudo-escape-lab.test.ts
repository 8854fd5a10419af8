// The escape of issue 25 item 1, performed as the LB's unprivileged account
// against real sudo (Debian 12's) on the lab LB: under the rule earlier
// versions printed sudo allows it; with the access `lbcheck sudoers` installs
// now, it and its variants are refused (by sudo, or by the helper before it
// runs anything), and the proof is on the LB: no file written, no script run
// as root, no tcpdump left, HAProxy's servers untouched, sudo's own log.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseHaproxyStat, viewCommand } from '../../src/checklist/lb-view.js';
import { CAPTURE_HELPER, VIEW_HELPER } from '../../src/remote/lb-helpers.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { startLab, type Lab } from '../lab/lab.js';
import { haproxyLevelSocket, haproxySocket } from '../lab/lb-configs.js';
import { LAB_SUDO_USER } from '../lab/sshd.js';
import { labLbAccess, sudoLbAccess } from './lab-target.js';
import { allowLbcheckSudo, labGrants, removeLbAccess, runAsLbRoot } from './sudo-rules.js';
import { lbAccessInstallScript } from '../../src/remote/sudo.js';

let lab: Lab;
let account: SshSession;
/** Where the escape writes and what it runs: a root-only directory, and a script that leaves a mark if run. */
let rootOnly: string;
let marker: string;
let script: string;

before(async () => {
  lab = await startLab();
  rootOnly = join(lab.dir, 'root-only-dir');
  mkdirSync(rootOnly, { mode: 0o700 });
  marker = join(lab.dir, 'ran-as-root');
  script = join(lab.dir, 'x.sh');
  writeFileSync(script, `#!/bin/sh\nid -u > ${marker}\n`);
  chmodSync(script, 0o755);
  account = await SshSession.open(sudoLbAccess(lab));
});
after(() => {
  account.close();
  lab.teardown();
});
afterEach(async () => {
  await lab.faults.clear();
  removeLbAccess(lab);
  assert.equal(existsSync(marker), false, 'a script ran as root');
  assert.deepEqual(
    lab.processNames('lb').filter((n) => n === 'tcpdump'),
    [],
  );
});

const sudoLog = (): string => readFileSync(lab.sshd?.sudo?.logFile ?? '', 'utf8');
const clearSudoLog = (): void => writeFileSync(lab.sshd?.sudo?.logFile ?? '', '');

/** The escape exactly as the issue ran it (its paths in the lab's directory). */
const escapeArgv = (): string[] => [
  '/usr/bin/timeout',
  '-s',
  'INT',
  '-k',
  '2',
  '8',
  'tcpdump',
  '-i',
  'any',
  '-nn',
  '-U',
  '--immediate-mode',
  '-s',
  '262',
  '-c',
  '1000',
  '-w',
  '- --',
  '-w',
  join(rootOnly, 'x.pcap'),
  '-G',
  '1',
  '-W',
  '3',
  '-z',
  script,
  '-Z',
  'root',
  'tcp port 80',
];

/** The capture rule the earlier `lbcheck sudoers` printed, where its docs told owners to put it. */
function installEarlierRule(): void {
  const dir = lab.sshd?.sudo?.sudoersDir ?? '';
  writeFileSync(
    join(dir, 'lbcheck'),
    [
      `Defaults:${LAB_SUDO_USER} !requiretty`,
      `${LAB_SUDO_USER} ALL=(root) NOPASSWD: /usr/bin/timeout ^-s INT -k 2 [0-9]+ tcpdump -i any -nn -U ` +
        '--immediate-mode -s [0-9]+ -c [0-9]+ -w - -- .+$',
      '',
    ].join('\n'),
    { mode: 0o440 },
  );
}

async function asAccount(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return account.run(argv, 20_000);
}

/** HAProxy's servers as root reads them on its operator socket: every one UP and in no maintenance. */
async function haproxyServersUntouched(): Promise<void> {
  const root = await SshSession.open(labLbAccess(lab));
  try {
    const r = await root.run(viewCommand({ kind: 'haproxy', socket: haproxySocket(lab.dir, 'http'), backend: 'x' }));
    const pool = parseHaproxyStat(r.stdout, 'pool_http');
    assert.equal(pool.length, lab.servers.length);
    for (const s of pool) assert.equal(s.state, 'UP', JSON.stringify(pool));
  } finally {
    root.close();
  }
}

describe("the sudoers escape (issue 25 item 1), as the LB's unprivileged account", () => {
  it('the earlier rule allowed it (sudo -l says so, nothing run); the install script replaces it and sudo refuses it', async () => {
    installEarlierRule();
    // `sudo -l COMMAND` says whether the rules allow COMMAND, and runs nothing.
    const allowedBefore = await asAccount(['sudo', '-n', '-l', ...escapeArgv()]);
    assert.equal(allowedBefore.code, 0, `the control failed: ${allowedBefore.stderr}`);
    assert.match(allowedBefore.stdout, /^\/usr\/bin\/timeout -s INT .* -z \S+x\.sh -Z root tcp port 80$/m);

    await allowLbcheckSudo(lab);
    assert.doesNotMatch(readFileSync(join(lab.sshd?.sudo?.sudoersDir ?? '', 'lbcheck'), 'utf8'), /timeout|tcpdump/);
    const listed = await asAccount(['sudo', '-n', '-l', ...escapeArgv()]);
    assert.equal(listed.code, 1, listed.stdout);
    clearSudoLog();
    const run = await asAccount(['sudo', '-n', ...escapeArgv()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /sudo: a password is required/);
    assert.equal(existsSync(join(rootOnly, 'x.pcap')) || existsSync(join(rootOnly, 'x.pcap0')), false);
    assert.equal(sudoLog(), '', 'sudo ran nothing');
  });

  it('sudo refuses tcpdump, timeout, socat, nginx, a shell and a changed environment: only the helpers are granted', async () => {
    await allowLbcheckSudo(lab);
    const admin = haproxyLevelSocket(haproxySocket(lab.dir, 'http'), 'admin');
    const attempts = [
      ['sudo', '-n', '/usr/bin/tcpdump', '-i', 'any', '-c', '1', '-w', join(rootOnly, 'direct.pcap')],
      ['sudo', '-n', ...escapeArgv().slice(0, 17), '-', '--', 'tcp port 80', '-z', script],
      [
        'sh',
        '-c',
        'printf "disable server pool_http/s1\\n" | sudo -n /usr/bin/socat stdio "UNIX-CONNECT:$1"',
        'x',
        admin,
      ],
      ['sudo', '-n', '/usr/sbin/nginx', '-T', '-q', '-c', '/etc/shadow'],
      ['sudo', '-n', '/bin/sh', '-c', `id -u > ${marker}`],
      [
        'sudo',
        '-n',
        `BASH_ENV=${script}`,
        CAPTURE_HELPER,
        'v2',
        'any',
        '8',
        '10',
        '262',
        'member-syns',
        '198.18.0.1',
        '80',
      ],
      [
        'sudo',
        '-n',
        '-E',
        CAPTURE_HELPER,
        '--print-argv',
        'v2',
        'any',
        '8',
        '10',
        '262',
        'member-syns',
        '198.18.0.1',
        '80',
      ],
    ];
    for (const argv of attempts) {
      const r = await asAccount(argv);
      assert.equal(r.code, 1, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        /sudo: (a password is required|sorry, you are not allowed to (set|preserve) the (following )?environment)/,
      );
      assert.equal(r.stdout, '');
    }
    assert.equal(existsSync(join(rootOnly, 'direct.pcap')), false);
    await haproxyServersUntouched();
  });

  it('through the capture helper, sudo runs it and it refuses every variant before running anything', async () => {
    await allowLbcheckSudo(lab);
    const ok = ['v2', 'any', '8', '1000', '262', 'flow', lab.vips['haproxy-http'].address, '80', '40001', '22'];
    const at = (i: number, bad: string): string[] => ok.map((a, j) => (j === i ? bad : a));
    const variants = [
      ['v2', 'any', '8', '1000', '262', 'flow', ...escapeArgv().slice(17)],
      at(6, '- --'),
      at(6, '--'),
      [...ok, '-z', script],
      [...ok, '198.18.0.1', '80', '-Z', 'root'],
      at(1, '-w'),
      at(2, join(rootOnly, 'w.pcap')),
      at(6, `-r ${join(rootOnly, 'r.pcap')}`),
      at(3, '-F'),
      at(6, '-E'),
      at(8, '-V'),
      at(6, `${lab.vips['haproxy-http'].address} or port 22`),
      at(7, '80 or port 22'),
      at(6, '1:'.repeat(10_000)),
      at(9, '2'.repeat(20_000)),
      at(6, `$(id -u > ${marker})`),
      at(6, `\`id -u > ${marker}\``),
      at(5, `flow;id -u > ${marker}`),
      at(1, 'dbus-system'),
    ];
    clearSudoLog();
    for (const args of variants) {
      const r = await asAccount(['sudo', '-n', CAPTURE_HELPER, ...args]);
      assert.equal(r.code, 64, `${args.join(' ').slice(0, 200)}: ${r.stderr}`);
      assert.match(r.stderr, /^lbcheck-capture: refused: .*; nothing was run\n$/);
      assert.equal(r.stdout, '', 'no pcap, no argv: nothing ran');
    }
    // sudo ran the helper each time (the helper is the gate), and nothing else.
    const commands = sudoLog()
      .split('\n')
      .filter((l) => l.includes('COMMAND='));
    assert.equal(commands.length, variants.length);
    for (const c of commands) assert.match(c, new RegExp(`USER=root ; COMMAND=${CAPTURE_HELPER} `));
    for (const f of ['x.pcap', 'x.pcap0', 'w.pcap', 'r.pcap']) assert.equal(existsSync(join(rootOnly, f)), false, f);
  });

  it('through the view helper: a socket at level admin, another socket, extra commands and other configs are refused', async () => {
    await allowLbcheckSudo(lab);
    const socket = haproxySocket(lab.dir, 'http');
    const refusals: [string[], RegExp][] = [
      [['v1', 'haproxy', haproxyLevelSocket(socket, 'admin')], /is a stats socket at level admin/],
      [['v1', 'haproxy', `${socket};disable server pool_http/s1`], /SOCKET must be one of/],
      [['v1', 'haproxy', socket, 'disable server pool_http/s1'], /SOCKET must be one of/],
      [['v1', 'haproxy', join(lab.dir, 'other.sock')], /SOCKET must be one of/],
      [['v1', 'nginx', '/etc/shadow'], /CONFIG must be one of/],
      [['v1', 'nginx', '-g', 'daemon on;'], /CONFIG must be one of/],
      [['v1', 'iptables', '-t', 'filter'], /iptables takes no argument/],
    ];
    for (const [args, why] of refusals) {
      const r = await asAccount(['sudo', '-n', VIEW_HELPER, ...args]);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '');
    }
    // The granted read works: `show stat` and `show servers state`, on the operator and the user socket.
    for (const s of [socket, haproxyLevelSocket(socket, 'user')]) {
      const r = await asAccount(['sudo', '-n', VIEW_HELPER, 'v1', 'haproxy', s]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# pxname,svname,/m);
      assert.match(r.stdout, /^# be_id be_name srv_id srv_name srv_addr /m);
    }
    await haproxyServersUntouched();
  });

  it('the install script refuses a helper directory others can write to, and installs nothing', async () => {
    const helperDir = lab.sshd?.sudo?.helperDir ?? '';
    chmodSync(helperDir, 0o775);
    try {
      const grants = labGrants(lab);
      const r = await runAsLbRoot(lab, lbAccessInstallScript({ user: LAB_SUDO_USER, loadBalancers: ['lab'], grants }));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\/usr\/local\/sbin must belong to root and be writable by root only/);
      assert.deepEqual(readdirSync(helperDir), []);
      assert.deepEqual(readdirSync(lab.sshd?.sudo?.sudoersDir ?? ''), []);
    } finally {
      chmodSync(helperDir, 0o755);
    }
  });

  it('a helper changed after install no longer runs: the rule pins its sha256', async () => {
    await allowLbcheckSudo(lab);
    const helper = join(lab.sshd?.sudo?.helperDir ?? '', 'lbcheck-capture');
    writeFileSync(helper, `${readFileSync(helper, 'utf8')}\nid -u > ${marker}\n`);
    const r = await asAccount([
      'sudo',
      '-n',
      CAPTURE_HELPER,
      '--print-argv',
      'v2',
      'any',
      '8',
      '10',
      '262',
      'member-syns',
      '198.18.0.1',
      '80',
    ]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /sudo: a password is required/);
  });
});
