// `lbcheck sudoers` as an operator runs it: one install script per LB account,
// and with several accounts in the inventory it asks which (two scripts would
// install over each other's helpers and rule).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lbcheck-sudoers-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = `SHA256:${'d'.repeat(43)}`;
const inventory = join(dir, 'inventory.yaml');
writeFileSync(
  inventory,
  [
    'loadBalancers:',
    `  a: { ssh: ssh://ops@198.18.1.2, identity: /k, hostKey: ${key}, sudo: true }`,
    `  b: { ssh: ssh://netops@198.18.1.3, identity: /k, hostKey: ${key}, sudo: true, captureInterface: bond0 }`,
    'vips:',
    '  web: { address: 198.18.2.1, port: 80, lb: a, lbView: { kind: haproxy, socket: /run/haproxy/lbcheck.sock, backend: web } }',
    '  l4: { address: 198.18.2.2, port: 80, lb: b, lbView: { kind: iptables } }',
  ].join('\n'),
);

const lbcheck = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, 'sudoers', '--config', inventory, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('lbcheck sudoers', () => {
  it('with several sudo accounts, asks for --account and names them', () => {
    const r = lbcheck([]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /several accounts: pass --account, one of ops \(a\); netops \(b\)/);
    assert.match(lbcheck(['--account', 'nobody']).stderr, /no sudo: true LB logs in as nobody/);
  });

  it("--account prints that account's install script: its LBs' interfaces and views only", () => {
    const ops = lbcheck(['--account', 'ops']);
    assert.equal(ops.code, 0, ops.stderr);
    assert.match(ops.stdout, /^#!\/bin\/bash\n# lbcheck: access for the LB account ops on a, /);
    assert.match(ops.stdout, /^INTERFACES=\(any\)$/m);
    assert.match(ops.stdout, /^HAPROXY_SOCKETS=\(\/run\/haproxy\/lbcheck\.sock\)$/m);
    assert.match(ops.stdout, /^IPTABLES=no$/m);
    assert.match(ops.stdout, /^ops ALL=\(root\) NOPASSWD: sha256:[0-9a-f]{64} \/usr\/local\/sbin\/lbcheck-capture, /m);
    const netops = lbcheck(['--account', 'netops']).stdout;
    assert.match(netops, /^INTERFACES=\(bond0\)$/m);
    assert.match(netops, /^IPTABLES=yes$/m);
    assert.match(netops, /^HAPROXY_SOCKETS=\(\)$/m);
  });

  it('the script is valid bash', () => {
    const script = join(dir, 'lb-access.sh');
    writeFileSync(script, lbcheck(['--account', 'ops']).stdout);
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
