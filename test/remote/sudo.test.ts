// The sudoers rules lbcheck prints allow exactly the command lines it runs:
// the capture's regular expression (as sudo matches it: the arguments joined
// by spaces) accepts the real tcpdump argv and refuses one with an option
// smuggled in; paths and socket names are escaped as sudoers needs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPTURE_LIMITS, tcpdumpArgv } from '../../src/capture/remote-capture.js';
import { viewCommand } from '../../src/checklist/lb-view.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { sudoersForInventory } from '../../src/inventory/inventory-sudoers.js';
import { privileged, sudoersSnippet, sudoRefusal } from '../../src/remote/sudo.js';

/** The capture rule's regular expression for one interface, as a JavaScript RegExp. */
function captureRule(snippet: string): RegExp {
  const m = /\/usr\/bin\/timeout (\^[^\n]*?\$)/.exec(snippet);
  assert.ok(m?.[1], snippet);
  return new RegExp(m[1]);
}

const limits = { ...DEFAULT_CAPTURE_LIMITS, iface: 'any', maxSeconds: 18, filter: '(host 198.18.2.1 and port 80)' };

describe('sudo: the printed rules and the commands run', () => {
  const snippet = sudoersSnippet({ user: 'lbcheck', haproxySockets: ['/run/haproxy/admin.sock'], iptables: true });

  it('the capture runs through sudo -n, with the filter after --', () => {
    const argv = tcpdumpArgv(limits, true);
    assert.deepEqual(argv.slice(0, 3), ['sudo', '-n', 'timeout']);
    assert.deepEqual(argv.slice(-2), ['--', limits.filter]);
    assert.ok(!tcpdumpArgv(limits, false).includes('sudo'));
  });

  it("the capture rule matches lbcheck's own argv, whatever the filter", () => {
    const rule = captureRule(snippet);
    for (const filter of [limits.filter, '(host 198.18.2.1 and port 80) or (tcp[13] & 2 != 0 and src 10.0.0.1)'])
      assert.match(
        tcpdumpArgv({ ...limits, filter }, true)
          .slice(3)
          .join(' '),
        rule,
      );
  });

  it('the capture rule refuses an extra option, another interface or a command instead of tcpdump', () => {
    const rule = captureRule(snippet);
    const args = tcpdumpArgv(limits, true).slice(3);
    const smuggled = [...args.slice(0, -2), '-z', '/bin/sh', '-G', '1', '--', limits.filter];
    assert.doesNotMatch(smuggled.join(' '), rule);
    assert.doesNotMatch(args.join(' ').replace('-i any', '-i eth0'), rule);
    assert.doesNotMatch(args.join(' ').replace(' tcpdump ', ' /bin/sh '), rule);
    // Anything after `--` is tcpdump's filter expression, never an option: that part may vary.
    assert.match([...args, '-z', '/bin/sh'].join(' '), rule);
  });

  it('the view rules are exact, with the characters sudoers needs escaped', () => {
    assert.match(snippet, /\/usr\/bin\/socat stdio UNIX-CONNECT\\:\/run\/haproxy\/admin\.sock/);
    assert.match(snippet, /\/usr\/sbin\/iptables-save -t nat/);
    assert.ok(!snippet.includes('nginx'));
    const socat = viewCommand({ kind: 'haproxy', socket: '/run/haproxy/admin.sock', backend: 'web' }, true);
    assert.match(socat[2] ?? '', /\| sudo -n socat stdio "UNIX-CONNECT:\$1"/);
    assert.deepEqual(viewCommand({ kind: 'iptables' }, true), ['sudo', '-n', 'iptables-save', '-t', 'nat']);
    assert.deepEqual(privileged(['ip', '-o', 'addr'], false), ['ip', '-o', 'addr']);
  });

  it("sudo's refusals are recognised; its host-name warning is not a refusal", () => {
    assert.equal(sudoRefusal('sudo: a password is required\n'), 'sudo: a password is required');
    assert.equal(sudoRefusal('sh: 1: sudo: not found\n'), 'sudo: not found');
    assert.equal(sudoRefusal('sudo: unable to resolve host lb1: Name or service not known\n'), undefined);
    assert.equal(sudoRefusal('tcpdump: listening on any\n'), undefined);
  });

  it('lbcheck sudoers: one snippet per sudo account, with the views of the VIPs its LBs serve', () => {
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
    assert.match(ops?.snippet ?? '', /tcpdump -i any /);
    assert.match(ops?.snippet ?? '', /tcpdump -i bond0 /);
    assert.match(ops?.snippet ?? '', /\/usr\/sbin\/nginx -T -q -c \/etc\/nginx\/nginx\.conf/);
    assert.ok(!(ops?.snippet ?? '').includes('iptables-save'), 'the root LB c is not ops');
  });
});
