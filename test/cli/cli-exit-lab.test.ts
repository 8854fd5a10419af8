// `lbcheck run` ends right after its report, whatever state the probes were
// in. The stalled case: the LB host drops every data segment to the VIP, so
// the GET stays in flight, never acknowledged (the case that once kept the
// process alive for minutes). No timing thresholds: we check that nothing is
// left holding the process, and that the process ends before the remote
// capture's own bound would have ended it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import { addRule, deleteRule, rule, type IptablesRule } from '../lab/iptables.js';
import { startLab, type Lab } from '../lab/lab.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
const inProcess = fileURLToPath(new URL('./run-in-process.js', import.meta.url));
const recordImports = new URL('./record-imports.js', import.meta.url).href;
let lab: Lab;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** 'exit' when the process ended by itself, 'bound' when we had to kill it. */
  ended: 'exit' | 'bound';
}

function runNode(argv: string[], boundMs: number, env: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let ended: Finished['ended'] = 'exit';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const bound = setTimeout(() => {
      ended = 'bound';
      child.kill('SIGKILL');
    }, boundMs);
    child.on('close', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr, ended });
    });
  });
}

const TIMEOUT_S = 1;
const SILENT_S = 1;
/** run-check bounds the remote tcpdump at ceil(timeout + silent) + 10 s: a process alive that long waited for it. */
const CAPTURE_BOUND_MS = (Math.ceil(TIMEOUT_S + SILENT_S) + 10) * 1000;

/** `lbcheck run`'s arguments (without the word run, which the in-process harness does not take). */
function checkArgs(kind: 'nginx' | 'haproxy-http'): string[] {
  const v = lab.vips[kind];
  return [
    `${v.address}:${v.port}`,
    '--lb',
    `ssh://root@${lab.sshInfo.host}`,
    '--identity',
    lab.sshInfo.identityFile,
    '--known-hosts',
    lab.sshInfo.knownHostsFile,
    ...lab.servers.flatMap((s) => ['--member', `${s.address}:${s.port}`]),
    '--timeout',
    String(TIMEOUT_S),
    '--silent',
    String(SILENT_S),
    '--all',
  ];
}

/** Drops every data segment (PSH) to the VIP on the LB host: the handshake completes, the GET never gets acknowledged. */
function stallData(kind: 'nginx'): IptablesRule {
  const v = lab.vips[kind];
  return rule('filter', 'INPUT', [
    '-d',
    `${v.address}/32`,
    '-p',
    'tcp',
    '--dport',
    String(v.port),
    '--tcp-flags',
    'PSH',
    'PSH',
    '-j',
    'DROP',
  ]);
}

let dir: string;
before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-cli-exit-'));
});
after(() => {
  lab.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('lbcheck run ends when the check ends', () => {
  it('healthy VIP: no socket, channel, child process or timer is left when the check returns', async () => {
    const r = await runNode([inProcess, ...checkArgs('haproxy-http')], CAPTURE_BOUND_MS);
    assert.equal(r.ended, 'exit', r.stderr);
    assert.match(r.stdout, /No fault found/);
    assert.match(r.stderr, /^leftover \[\]$/m, r.stderr);
  });

  it('with --evidence-dir (PNGs drawn on the render thread): nothing left either, the PNGs saved', async () => {
    const out = join(dir, 'with-pngs');
    const r = await runNode([inProcess, ...checkArgs('haproxy-http'), '--evidence-dir', out], CAPTURE_BOUND_MS);
    assert.equal(r.ended, 'exit', r.stderr);
    assert.match(r.stderr, /^leftover \[\]$/m, r.stderr);
    const saved = readdirSync(out, { recursive: true }).map(String);
    assert.ok(
      saved.some((f) => f.endsWith('step2-ladder.png')),
      `saved: ${saved.join(', ')}`,
    );
  });

  it('stalled GET (data never acknowledged): nothing left either, and the report says silent', async () => {
    const stall = stallData('nginx');
    await addRule(lab.ns.lb, stall, 'insert');
    try {
      const r = await runNode([inProcess, ...checkArgs('nginx'), '--json'], CAPTURE_BOUND_MS);
      assert.equal(r.ended, 'exit', r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      const mode = report.steps.find((s) => s.name === 'mode');
      assert.equal(mode?.name === 'mode' ? mode.behaviour : undefined, 'silent', r.stdout);
      assert.match(r.stderr, /^leftover \[\]$/m, r.stderr);
    } finally {
      await deleteRule(lab.ns.lb, stall);
    }
  });

  it('the real CLI after a stalled GET exits 0 by itself, before the capture bound, with the report printed', async () => {
    const stall = stallData('nginx');
    await addRule(lab.ns.lb, stall, 'insert');
    try {
      const r = await runNode([cli, 'run', ...checkArgs('nginx')], CAPTURE_BOUND_MS);
      assert.equal(r.ended, 'exit', `still running at the capture bound; stdout: ${r.stdout}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /GET \/: silent/);
      assert.match(r.stdout, /^(Diagnosis: |No fault found)/m);
    } finally {
      await deleteRule(lab.ns.lb, stall);
    }
  });

  it('human output streams: the header comes first, then steps in order, and says how to keep the evidence', async () => {
    const r = await runNode([cli, 'run', ...checkArgs('haproxy-http')], CAPTURE_BOUND_MS);
    assert.equal(r.code, 0, r.stderr);
    const at = (re: RegExp): number => r.stdout.search(re);
    assert.equal(at(/^lbcheck chk-[0-9a-f]{10} · /), 0, r.stdout);
    assert.ok(at(/^✔ Step 1 /m) < at(/^✔ Step 2 /m) && at(/^✔ Step 2 /m) < at(/^✔ Step 3 /m), r.stdout);
    assert.ok(at(/^✔ Step 3 /m) < at(/^No fault found/m), r.stdout);
    assert.doesNotMatch(r.stdout, /evidence step\d/, 'lists evidence files that were not saved');
    assert.match(r.stdout, /Evidence not saved \(\d+ files.*\n.*--evidence-dir DIR/);
  });

  it('a real run loads SSH, and no chat SDK or queue', async () => {
    const log = join(dir, 'imports.log');
    const r = await runNode(['--import', recordImports, cli, 'run', ...checkArgs('haproxy-http')], CAPTURE_BOUND_MS, {
      LBCHECK_IMPORT_LOG: log,
    });
    assert.equal(r.code, 0, r.stderr);
    const loaded = readFileSync(log, 'utf8');
    // ssh2's client comes from the build's bundle (read by ssh2-client.ts, not imported), or the package.
    assert.match(loaded, /\/dist\/src\/remote\/ssh-session\.js/);
    assert.match(loaded, /\/dist\/src\/remote\/ssh2-client\.js/);
    for (const p of ['@slack/bolt', '@slack/web-api', 'botbuilder', 'bullmq', 'ioredis'])
      assert.ok(!loaded.includes(`/node_modules/${p}/`), `run loaded ${p}`);
  });

  it('an LB whose SSH port refuses (the early TCP connection fails before SSH loads): exit 3 saying so', async () => {
    const v = lab.vips.nginx;
    const r = await runNode(
      [
        cli,
        'run',
        `${v.address}:${v.port}`,
        '--lb',
        `ssh://root@${lab.sshInfo.host}:2222`,
        '--identity',
        lab.sshInfo.identityFile,
        '--known-hosts',
        lab.sshInfo.knownHostsFile,
      ],
      CAPTURE_BOUND_MS,
    );
    assert.equal(r.ended, 'exit');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot reach SSH on root@[\d.]+:2222 \(ECONNREFUSED\)/);
  });
});
