// `lbcheck run` on a real estate, from an inventory as an operator writes it:
// an HA pair whose first node is reached as an unprivileged account with
// `sudo: true` (access installed by the script `lbcheck sudoers` prints) and whose second is the standby.
// After a failover the report names the standby and lists the group.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ReachStep, Report } from '../../src/model/report.js';
import { startLab, type Lab } from '../lab/lab.js';
import { LAB_SUDO_USER } from '../lab/sshd.js';
import { failoverToStandby, startStandby } from '../lab/standby.js';
import { runAsLbRoot } from '../checklist/sudo-rules.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let lab: Lab;
let dir: string;
let inventory: string;

function lbcheck(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, LBCHECK_CONFIG: inventory } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  lab = await startLab({ serverCount: 2 });
  const standby = await startStandby(lab);
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-cli-estate-'));
  inventory = join(dir, 'inventory.yaml');
  const ssh = lab.sshInfo;
  writeFileSync(
    inventory,
    [
      'loadBalancers:',
      '  edge-a:',
      `    ssh: ssh://${LAB_SUDO_USER}@${ssh.host}`,
      `    identity: ${ssh.identityFile}`,
      `    hostKey: ${ssh.hostKeyFingerprint}`,
      '    sudo: true',
      '  edge-b:',
      `    ssh: ssh://root@${standby.ssh.host}`,
      `    identity: ${standby.ssh.identityFile}`,
      `    hostKey: ${standby.ssh.hostKeyFingerprint}`,
      'lbGroups:',
      '  edge-pair: [edge-a, edge-b]',
      'vips:',
      '  web-vip:',
      `    address: ${lab.vips['haproxy-http'].address}`,
      '    port: 80',
      '    lb: edge-pair',
      `    members: [${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`,
    ].join('\n'),
  );
});
after(() => {
  lab.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('lbcheck run on an HA pair with a sudo account', () => {
  it('lbcheck sudoers prints the install script; run as root on the LB, the check runs through the pair', async () => {
    const printed = await lbcheck(['sudoers']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^#!\/bin\/bash\n# lbcheck: access for the LB account lbcheck-lab on edge-a,/);
    const installed = await runAsLbRoot(lab, printed.stdout);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(
      installed.stdout,
      /lbcheck: installed \/usr\/local\/sbin\/lbcheck-capture, \/etc\/sudoers.d\/lbcheck for lbcheck-lab/,
    );
    const r = await lbcheck(['run', 'web-vip', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.diagnosis.culprit, 'none', report.diagnosis.summary);
    assert.match(report.target.lb ?? '', /^edge-a /);
    assert.deepEqual(
      report.target.lbGroup?.map((n) => n.split(' ')[0]),
      ['edge-a', 'edge-b'],
    );
  });

  it('after a failover: the standby handled it, and the human output says so', async () => {
    await failoverToStandby(lab);
    try {
      const json = await lbcheck(['run', 'web-vip', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as Report;
      const reach = report.steps[0] as ReachStep;
      assert.equal(reach.finding, 'failed-over');
      assert.match(report.target.lb ?? '', /^edge-b /);
      const human = await lbcheck(['run', 'web-vip']);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /via the HA group edge-a .*, edge-b /);
      assert.match(human.stdout, /failed over/);
    } finally {
      await lab.faults.clear();
    }
  });
});
