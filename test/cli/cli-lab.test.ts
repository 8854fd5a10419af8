// `lbcheck run` as a user runs it: a real process against the lab, JSON and
// human output, exit codes, evidence written to disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { PROBE_PORTS } from '../../src/capture/capture-hubs.js';
import type { ReachStep, Report } from '../../src/model/report.js';
import { startLab, type Lab } from '../lab/lab.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let lab: Lab;
let dir: string;

function lbcheck(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sshArgs = (): string[] => [
  '--lb',
  `ssh://root@${lab.sshInfo.host}`,
  '--identity',
  lab.sshInfo.identityFile,
  '--known-hosts',
  lab.sshInfo.knownHostsFile,
];

before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-cli-'));
});
after(() => {
  lab.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('lbcheck run', () => {
  it('--json prints the versioned report and exits 0', async () => {
    const v = lab.vips['haproxy-http'];
    const members = lab.servers.flatMap((s) => ['--member', `${s.address}:${s.port}`]);
    const r = await lbcheck(['run', `${v.address}:${v.port}`, ...sshArgs(), ...members, '--json', '--timeout', '1']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.schemaVersion, 1);
    assert.match(report.id, /^chk-[0-9a-f]{10}$/);
    assert.deepEqual(report.target, { vip: v.address, port: 80, lb: `${lab.sshInfo.host}:22` });
    assert.deepEqual(
      report.steps.map((s) => [s.step, s.name, s.verdict]),
      [
        [1, 'reach', 'pass'],
        [2, 'mode', 'pass'],
        [3, 'servers', 'pass'],
      ],
    );
    assert.equal(report.diagnosis.culprit, 'none');
    for (const s of report.steps) for (const e of s.evidence) assert.match(e.sha256, /^[0-9a-f]{64}$/);
    // Leased captures (capture-hubs.ts hubsForOneCheck): the probe comes from their port range.
    const reach = report.steps[0] as ReachStep;
    assert.ok(reach.probe.sourcePort >= PROBE_PORTS.first && reach.probe.sourcePort <= PROBE_PORTS.last);
  });

  it('human output: a verdict line per step and the diagnosis; evidence saved with matching sha256', async () => {
    await lab.faults.allServersDown();
    try {
      const v = lab.vips.dnat;
      const evidenceDir = join(dir, 'evidence');
      const r = await lbcheck([
        'run',
        `${v.address}:${v.port}`,
        ...sshArgs(),
        '--member',
        `${lab.servers[0]?.address}:8080`,
        '--evidence-dir',
        evidenceDir,
        '--timeout',
        '1',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^✔ Step 1 · Does the connection reach the LB\? PASS/m);
      assert.match(r.stdout, /^⚠ Step 2 · How does the LB handle it\? WARN/m);
      assert.match(r.stdout, /^✘ Step 3 · Can the LB reach the servers\? FAIL/m);
      assert.match(r.stdout, /^Diagnosis: SERVERS → server \/ application team/m);
      const [checkDir] = readdirSync(evidenceDir);
      assert.ok(checkDir);
      const report = JSON.parse(readFileSync(join(evidenceDir, checkDir, 'report.json'), 'utf8')) as Report;
      const refs = report.steps.flatMap((s) => s.evidence);
      assert.ok(refs.some((e) => e.name === 'step2-lb.pcap'));
      // The LB capture the check leased, as it ran: tcpdump behind the relay that answers each sync.
      const commands = readFileSync(join(evidenceDir, checkDir, 'step1-commands.txt'), 'utf8');
      assert.match(commands, /tcpdump .*kill -USR1/s);
      // The console says where each step's ladder diagram was saved, and it is a PNG.
      const ladder = /^ {2}ladder diagram: (\S+step2-ladder\.png)$/m.exec(r.stdout)?.[1];
      assert.ok(ladder, r.stdout);
      assert.equal(readFileSync(ladder).subarray(1, 4).toString(), 'PNG');
      for (const e of refs) {
        const bytes: Buffer = readFileSync(join(evidenceDir, checkDir, e.name));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256, e.name);
        assert.ok(r.stdout.includes(`sha256:${e.sha256.slice(0, 12)}`));
      }
    } finally {
      await lab.faults.clear();
    }
  });

  it('runs an inventory target by name (LBCHECK_CONFIG)', async () => {
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(
      inv,
      [
        'loadBalancers:',
        '  lab-lb:',
        `    ssh: ssh://root@${lab.sshInfo.host}`,
        `    identity: ${lab.sshInfo.identityFile}`,
        `    hostKey: ${lab.sshInfo.hostKeyFingerprint}`,
        'vips:',
        '  web-vip:',
        `    address: ${lab.vips.nginx.address}`,
        '    port: 80',
        '    lb: lab-lb',
        `    members: [${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`,
      ].join('\n'),
    );
    const r = await lbcheck(['run', 'web-vip', '--json'], { LBCHECK_CONFIG: inv });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.target.name, 'web-vip');
    assert.equal(report.diagnosis.culprit, 'none');
  });

  it('usage errors exit 2 with the exact problem and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['run'], /missing <target>/],
      [['run', '198.18.0.1'], /has no port/],
      [['run', '198.18.0.1:80', '--member', '198.18.0.2:99999'], /out of range/],
      [['run', '198.18.0.1:80', '--bogus'], /unknown option --bogus/],
      [['run', '198.18.0.1:80', '--timeout', 'soon'], /not a number of seconds/],
      [['run', 'no-such-vip'], /unknown target "no-such-vip"/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await lbcheck(args, { LBCHECK_CONFIG: '' });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('a changed host key: exit 3 naming the fingerprints, nothing captured', async () => {
    const v = lab.vips.nginx;
    const r = await lbcheck([
      'run',
      `${v.address}:80`,
      '--lb',
      `ssh://root@${lab.sshInfo.host}`,
      '--identity',
      lab.sshInfo.identityFile,
      '--host-key',
      `SHA256:${'C'.repeat(43)}`,
    ]);
    assert.equal(r.code, 3);
    assert.ok(r.stderr.includes(lab.sshInfo.hostKeyFingerprint), r.stderr);
    assert.match(r.stderr, /refusing to connect/);
  });

  it('--help lists the run command and its options', async () => {
    const top = await lbcheck(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /lbcheck run <target>/);
    const run = await lbcheck(['run', '--help']);
    assert.match(run.stdout, /--evidence-dir DIR/);
  });
});
