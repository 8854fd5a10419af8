// `lbcheck run --persist` as a user runs it, whole processes against the lab:
// the first run starts the kept process and checks on its own, the next ones
// are answered by it on its warm session and shared capture (the evidence says
// so), errors come back as the one-shot run prints them, a run while it is busy
// checks on its own, a client that goes away cancels its check (the LB's
// capture stops), and at the end of its idle time the kept process closes
// everything it held on the LB and removes its socket.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let lab: Lab;
const runtimeDir = mkdtempSync(join(tmpdir(), 'lbcheck-persist-'));
const keptPids = new Set<number>();

useLab({ serverCount: 2 }, (started) => {
  lab = started;
});
after(() => {
  // Only the kept processes these runs started, by the pid they announced; SIGTERM lets one close what it holds.
  for (const pid of keptPids) if (alive(pid)) process.kill(pid, 'SIGTERM');
  rmSync(runtimeDir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; output: () => string; done: Promise<Ran> } {
  // Its own runtime directory: the kept process's socket is this test's, not the machine's.
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, LBCHECK_CONFIG: '' };
  const child = spawn(process.execPath, [cli, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Ran>((resolve) => {
    child.on('close', (code) => {
      const pid = /background process \(pid (\d+)\)/.exec(stderr)?.[1];
      if (pid) keptPids.add(Number(pid));
      resolve({ code, stdout, stderr });
    });
  });
  return { child, output: () => stdout, done };
}

const lbcheck = (args: string[]): Promise<Ran> => start(args).done;

interface RunOptions {
  kind?: 'nginx' | 'haproxy-http';
  /** --persist's value; null: a one-shot run. */
  persist?: string | null;
  identity?: string;
}

function runArgs(o: RunOptions = {}): string[] {
  const v = lab.vips[o.kind ?? 'nginx'];
  const s = lab.sshInfo;
  const persist = o.persist === undefined ? '30' : o.persist;
  return [
    'run',
    `${v.address}:${v.port}`,
    '--lb',
    `ssh://root@${s.host}`,
    '--identity',
    o.identity ?? s.identityFile,
    '--known-hosts',
    s.knownHostsFile,
    ...lab.servers.flatMap((m) => ['--member', `${m.address}:${m.port}`]),
    ...(persist === null ? [] : ['--persist', persist]),
  ];
}

const lbTcpdumps = (): number => lab.processes('lb').filter((p) => p.name === 'tcpdump').length;

async function until(condition: () => boolean, what: string): Promise<void> {
  // A bound for a hung test, not a speed target: the condition is the assertion.
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), what);
}

const sockets = (): string[] =>
  readdirSync(runtimeDir, { recursive: true })
    .map(String)
    .filter((f) => /\.sock$/.test(f));

/** step1-commands.txt of the one check saved under dir. */
function step1Commands(dir: string): string {
  const [check] = readdirSync(dir);
  assert.ok(check, `no check saved under ${dir}`);
  return readFileSync(join(dir, check, 'step1-commands.txt'), 'utf8');
}

describe('lbcheck run --persist', () => {
  it('the first run starts the kept process; later ones are answered by it, on its session and shared capture', async () => {
    const first = await lbcheck(runArgs());
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^No fault found/m);
    const pid = Number(/background process \(pid (\d+)\)/.exec(first.stderr)?.[1]);
    assert.ok(alive(pid), `the kept process ${pid} is not running:\n${first.stderr}`);
    await until(() => sockets().length === 1, 'the kept process never listened');
    // Its first check starts the capture it keeps; the one after leases it: only a kept process can.
    const second = await lbcheck([...runArgs(), '--evidence-dir', join(runtimeDir, 'ev2')]);
    const third = await lbcheck([...runArgs(), '--evidence-dir', join(runtimeDir, 'ev3')]);
    for (const r of [second, third]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', 'a run answered by the kept process starts no other');
      assert.match(r.stdout, /^✔ Step 1 · Does the connection reach the LB\? PASS/m);
      assert.match(r.stdout, /^No fault found/m);
    }
    assert.doesNotMatch(step1Commands(join(runtimeDir, 'ev2')), /# capture shared/);
    assert.match(step1Commands(join(runtimeDir, 'ev3')), /# capture shared by this target's checks, already running/);
    assert.equal(lbTcpdumps(), 1, 'the kept capture runs on between checks');
    const json = await lbcheck([...runArgs(), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.diagnosis.culprit, 'none', report.diagnosis.summary);
    assert.ok(alive(pid), 'the same kept process answered them all');
  });

  it("a failure in the kept process comes back as the one-shot run's message and exit code", async () => {
    const missing = join(runtimeDir, 'no-such-key');
    const oneShot = await lbcheck(runArgs({ identity: missing, persist: null }));
    const kept = await lbcheck(runArgs({ identity: missing }));
    assert.equal(oneShot.code, 3, oneShot.stderr);
    assert.equal(kept.code, oneShot.code);
    assert.equal(kept.stderr, oneShot.stderr);
    assert.match(kept.stderr, /no-such-key/);
  });

  it('a run while the kept process is busy checks on its own; a client that goes away cancels its check', async () => {
    await lbcheck(runArgs()); // the kept process is running and idle
    await lab.faults.serversMisbehave('hang');
    try {
      // Step 2's request hangs on the members (up to --silent): the kept process is busy with it.
      const slow = start([...runArgs(), '--silent', '20']);
      // Step 1's verdict, relayed as the kept process decides it: the kept process is now in step 2, busy.
      await until(() => /Step 1 · /.test(slow.output()), 'the slow check never reached step 2');
      const meanwhile = await lbcheck([
        ...runArgs({ kind: 'haproxy-http' }),
        '--json',
        '--timeout',
        '1',
        '--silent',
        '1',
      ]);
      assert.equal(meanwhile.code, 0, meanwhile.stderr);
      assert.equal(meanwhile.stderr, '', 'busy: this run checks on its own and starts no second kept process');
      assert.ok((JSON.parse(meanwhile.stdout) as Report).steps.length > 0);
      slow.child.kill('SIGKILL'); // Ctrl-C as the harshest client exit: the socket closes
      await slow.done;
      // The kept process cancels the check: its lease was the capture's only one, so the LB's tcpdump stops.
      await until(() => lbTcpdumps() === 0, 'the cancelled check left its capture running on the LB');
    } finally {
      await lab.faults.clear();
    }
    const next = await lbcheck(runArgs());
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stderr, '', 'the kept process serves again after the cancel');
  });

  it('at the end of its idle time the kept process closes what it held on the LB and removes its socket', async () => {
    const first = await lbcheck(runArgs({ kind: 'haproxy-http', persist: '1' }));
    assert.equal(first.code, 0, first.stderr);
    const pids = [...keptPids];
    await until(() => pids.every((pid) => !alive(pid)), 'a kept process outlived its idle time');
    assert.deepEqual(sockets(), [], 'a socket was left behind');
    assert.equal(lbTcpdumps(), 0, 'a capture was left running on the LB');
    assert.ok(existsSync(runtimeDir));
  });
});
