// What runs through sudo, and what `lbcheck sudoers` prints: the capture and
// the views go only to the two fixed helpers (never tcpdump, socat or nginx
// themselves), the rule names the helpers by path and sha256 with no argument
// pattern, and the install script carries the very helpers the rule pins.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_CAPTURE_LIMITS, tcpdumpArgv } from '../../src/capture/remote-capture.js';
import { lbFlowFilter } from '../../src/capture/capture-filter.js';
import { viewCommand } from '../../src/checklist/lb-view.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { sudoersForInventory } from '../../src/inventory/inventory-sudoers.js';
import { CAPTURE_HELPER, VIEW_HELPER } from '../../src/remote/lb-helpers.js';
import {
  helperRefusal,
  lbAccessInstallScript,
  lbHelpers,
  privileged,
  sudoersRules,
  sudoRefusal,
} from '../../src/remote/sudo.js';

const flow = lbFlowFilter({
  vip: '198.18.2.1',
  port: 80,
  sourcePort: 40001,
  members: [{ host: '198.18.3.1', port: 8080 }],
  sshPort: 22,
});
const limits = { ...DEFAULT_CAPTURE_LIMITS, iface: 'any', maxSeconds: 18, ...flow };
const grants = {
  captureInterfaces: ['any'],
  haproxySockets: ['/run/haproxy/lbcheck.sock'],
  nginxConfigs: [],
  iptables: true,
};

describe('sudo: the commands run and the rules printed', () => {
  it('through sudo the capture is the helper with numbers and addresses only; as root, tcpdump itself', () => {
    assert.deepEqual(tcpdumpArgv(limits, true), [
      'sudo',
      '-n',
      CAPTURE_HELPER,
      'v2',
      'any',
      '18',
      '10000',
      '262',
      'flow',
      '198.18.2.1',
      '80',
      '40001',
      '22',
      '198.18.3.1',
      '8080',
    ]);
    const root = tcpdumpArgv(limits, false);
    assert.equal(root[0], 'timeout');
    assert.equal(root.at(-1), flow.filter);
    const { helperFilter: _helperFilter, ...noHelperFilter } = limits;
    assert.throws(() => tcpdumpArgv(noHelperFilter, true), /cannot run through sudo/);
  });

  it('through sudo the views are the view helper with the socket or config; as root, the reads themselves', () => {
    const haproxy = { kind: 'haproxy' as const, socket: '/run/haproxy/lbcheck.sock', backend: 'web' };
    assert.deepEqual(viewCommand(haproxy, true), ['sudo', '-n', VIEW_HELPER, 'v1', 'haproxy', haproxy.socket]);
    assert.deepEqual(viewCommand({ kind: 'iptables' }, true), ['sudo', '-n', VIEW_HELPER, 'v1', 'iptables']);
    assert.deepEqual(viewCommand({ kind: 'nginx' }, true), ['sudo', '-n', VIEW_HELPER, 'v1', 'nginx']);
    assert.match(viewCommand(haproxy, false)[2] ?? '', /^printf "show stat;show servers state\\n" \| socat stdio/);
    assert.deepEqual(viewCommand({ kind: 'iptables' }, false), ['iptables-save', '-t', 'nat']);
    assert.deepEqual(privileged(['ip', '-o', 'addr'], false), ['ip', '-o', 'addr']);
  });

  it('the rule names each helper by full path and sha256, with no argument pattern and nothing else', () => {
    const helpers = lbHelpers(grants);
    const rules = sudoersRules('ops', helpers);
    const digest = (s: string): string => createHash('sha256').update(s).digest('hex');
    const line = rules.split('\n').find((l) => l.startsWith('ops ALL='));
    assert.equal(
      line,
      `ops ALL=(root) NOPASSWD: sha256:${digest(helpers[0]?.script ?? '')} ${CAPTURE_HELPER}, ` +
        `sha256:${digest(helpers[1]?.script ?? '')} ${VIEW_HELPER}`,
    );
    assert.match(rules, /^Defaults:ops !requiretty, env_reset$/m);
    assert.doesNotMatch(rules, /tcpdump|socat|nginx|iptables|\^|\$|\*/);
    assert.deepEqual(
      lbHelpers({ ...grants, haproxySockets: [], iptables: false }).map((h) => h.path),
      [CAPTURE_HELPER],
    );
  });

  it('the install script carries the helpers the rule pins, checks them and the rule before installing', () => {
    const script = lbAccessInstallScript({ user: 'ops', loadBalancers: ['a'], grants });
    for (const h of lbHelpers(grants)) {
      assert.ok(script.includes(h.script.trimEnd()), h.path);
      assert.match(script, new RegExp(`install -o root -g root -m 0755 "\\$tmp/[a-z-]+" ${h.path}\n`));
    }
    assert.ok(script.includes(sudoersRules('ops', lbHelpers(grants)).trimEnd()));
    assert.match(script, /sha256sum -c --quiet -/);
    assert.match(
      script,
      /visudo -c -q -f "\$tmp\/sudoers"\ninstall -o root -g root -m 0440 "\$tmp\/sudoers" \/etc\/sudoers.d\/lbcheck/,
    );
  });

  it("sudo's and the helpers' refusals are recognised; sudo's host-name warning is not a refusal", () => {
    assert.equal(sudoRefusal('sudo: a password is required\n'), 'sudo: a password is required');
    assert.equal(sudoRefusal('sh: 1: sudo: not found\n'), 'sudo: not found');
    assert.equal(sudoRefusal('sudo: unable to resolve host lb1: Name or service not known\n'), undefined);
    assert.equal(sudoRefusal('tcpdump: listening on any\n'), undefined);
    assert.equal(
      helperRefusal('lbcheck-capture: refused: VIP must be an IPv4 or IPv6 address; nothing was run\n'),
      'VIP must be an IPv4 or IPv6 address; nothing was run',
    );
  });

  it('lbcheck sudoers: one account, its LBs, their interfaces and the views of the VIPs they serve', () => {
    const inv = parseInventory(
      [
        'loadBalancers:',
        '  a: { ssh: ssh://ops@198.18.1.2, identity: /k, hostKey: SHA256:' + 'd'.repeat(43) + ', sudo: true }',
        '  b: { ssh: ssh://ops@198.18.1.3, identity: /k, hostKey: SHA256:' +
          'd'.repeat(43) +
          ', sudo: true, captureInterface: bond0 }',
        '  c: { ssh: ssh://root@198.18.1.4, identity: /k, hostKey: SHA256:' + 'd'.repeat(43) + ' }',
        'vips:',
        '  web: { address: 198.18.2.1, port: 80, lb: [a, b], lbView: { kind: nginx, config: /etc/nginx/nginx.conf } }',
        '  l4: { address: 198.18.2.2, port: 80, lb: c, lbView: { kind: iptables } }',
      ].join('\n'),
      'inv.yaml',
    );
    const [ops, ...rest] = sudoersForInventory(inv);
    assert.equal(rest.length, 0);
    assert.equal(ops?.user, 'ops');
    assert.deepEqual(ops?.loadBalancers, ['a', 'b']);
    assert.deepEqual(ops?.grants, {
      captureInterfaces: ['any', 'bond0'],
      haproxySockets: [],
      nginxConfigs: ['/etc/nginx/nginx.conf'],
      iptables: false,
    });
  });
});
