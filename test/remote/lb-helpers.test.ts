// The LB helpers' own argument checks, run directly with bash (the checks need
// no root): with --print-argv the capture helper prints the tcpdump argv it
// would run, which must be exactly what lbcheck runs as root; every escape from
// the issue and its variants is refused with exit 64 before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CAPTURE_LIMITS, tcpdumpArgv } from '../../src/capture/remote-capture.js';
import { lbFlowFilter, memberAnswersFilter, type LbFilter } from '../../src/capture/capture-filter.js';
import { captureHelperScript, HELPER_REFUSED, viewHelperScript } from '../../src/remote/lb-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-helpers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'lbcheck-capture');
const view = join(dir, 'lbcheck-lb-view');
writeFileSync(capture, captureHelperScript(['any', 'bond0']), { mode: 0o755 });
writeFileSync(
  view,
  viewHelperScript({
    haproxySockets: ['/run/haproxy/lbcheck.sock'],
    nginxConfigs: ['/etc/nginx/nginx.conf'],
    iptables: false,
  }),
  { mode: 0o755 },
);

function run(file: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [file, ...args], { encoding: 'utf8', env: {} });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The helper's argv for lbcheck's own limits and filter, as it prints it. */
function printed(f: LbFilter, seconds = 18): string[] {
  const args = tcpdumpArgv({ ...DEFAULT_CAPTURE_LIMITS, maxSeconds: seconds, ...f }, true).slice(3);
  const r = run(capture, ['--print-argv', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

const OK = ['v2', 'any', '8', '1000', '262', 'flow', '198.18.2.1', '80', '40001', '22'];

function assertRefused(args: string[], why: RegExp): void {
  const r = run(capture, ['--print-argv', ...args]);
  assert.equal(r.code, HELPER_REFUSED, `${JSON.stringify(args)}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '', 'a refused call prints no argv');
  assert.match(r.stderr, /^lbcheck-capture: refused: .*; nothing was run\n$/);
  assert.match(r.stderr, why);
}

describe('lbcheck-capture', () => {
  it('builds exactly the tcpdump argv lbcheck runs as root: the LB flow with 0, 1 and 3 members, IPv6, the member SYNs', () => {
    const cases: LbFilter[] = [
      lbFlowFilter({ vip: '198.18.2.1', port: 80, sourcePort: 40001, members: [], sshPort: 22 }),
      lbFlowFilter({
        vip: '198.18.2.1',
        port: 80,
        sourcePort: 40001,
        members: [{ host: '198.18.3.1', port: 8080 }],
        sshPort: 2222,
      }),
      lbFlowFilter({
        vip: '198.18.2.1',
        port: 443,
        sourcePort: 61000,
        members: [1, 2, 3].map((i) => ({ host: `198.18.3.${i}`, port: 8443 })),
        sshPort: 22,
      }),
      lbFlowFilter({
        vip: '2001:db8:19::10',
        port: 80,
        sourcePort: 40001,
        members: [{ host: '::ffff:198.18.3.1', port: 80 }],
        sshPort: 22,
      }),
      memberAnswersFilter('198.18.3.2', 8080),
    ];
    for (const f of cases) {
      const root = tcpdumpArgv({ ...DEFAULT_CAPTURE_LIMITS, maxSeconds: 18, ...f }, false);
      // The same, with the filter after `--`: nothing in it can be read as an option.
      assert.deepEqual(printed(f), [...root.slice(0, -1), '--', f.filter], f.filter);
    }
    assert.deepEqual(run(capture, ['--print-argv', ...OK]).code, 0);
  });

  it("refuses the issue's escape: an argument carrying ` --` and tcpdump options after it", () => {
    // The arguments of the escape, put where the helper takes its free-standing values.
    const escape = [
      '- --',
      '-w',
      '/root-only-dir/x.pcap',
      '-G',
      '1',
      '-W',
      '3',
      '-z',
      '/tmp/x.sh',
      '-Z',
      'root',
      'tcp port 80',
    ];
    assertRefused(
      ['v2', 'any', '8', '1000', '262', 'flow', ...escape],
      /VIP must be an IPv4 or IPv6 address|flow takes/,
    );
    assertRefused([...OK.slice(0, 6), '198.18.2.1 --', '80', '40001', '22'], /VIP must be/);
    assertRefused([...OK, '198.18.3.1', '80 -z /tmp/x.sh'], /MEMBER_PORT must be/);
  });

  it('refuses option letters, paths, other interfaces, extra filter words and out-of-bound numbers in every place', () => {
    const options = ['--', '-z', '-Z', '-w', '/tmp/x.pcap', '-r', '-F', '-E', '-V', '-i', '-C', '-G'];
    for (let at = 1; at < OK.length; at++)
      for (const bad of [
        ...options,
        'tcp or port 22',
        '198.18.2.1 or port 22',
        '$(id)',
        '`id`',
        ';id',
        '|id',
        '&',
        '\nid',
        '',
      ])
        assertRefused(
          OK.map((a, i) => (i === at ? bad : a)),
          /must be|the capture kind|flow takes/,
        );
    assertRefused(['v2', 'eth9', ...OK.slice(2)], /IFACE must be one of: any bond0/);
    assertRefused(['v2', 'dbus-system', ...OK.slice(2)], /IFACE must be one of/);
    assertRefused(['v2', 'any', '901', ...OK.slice(3)], /SECONDS must be a whole number 1-900/);
    assertRefused(['v2', 'any', '8', '100001', ...OK.slice(4)], /PACKETS must be a whole number 1-100000/);
    assertRefused(['v2', 'any', '8', '1000', '65535', ...OK.slice(5)], /SNAPLEN must be a whole number 64-262/);
    assertRefused(['v2', 'any', '8', '1000', '262', 'flow', '010.0.0.1', '80', '40001', '22'], /VIP must be/);
    assertRefused(['v2', 'any', '08', ...OK.slice(3)], /SECONDS must be/);
    assertRefused(
      ['v2', 'any', '8', '1000', '262', 'member-syns', '198.18.3.1', '80', '-z'],
      /member-syns takes HOST PORT/,
    );
    assertRefused(['v1', ...OK.slice(1)], /another protocol than v2/);
  });

  it('refuses very long arguments and too many of them', () => {
    assertRefused([...OK.slice(0, 6), `${'1:'.repeat(4000)}1`, '80', '40001', '22'], /VIP must be/);
    assertRefused([...OK.slice(0, 6), '198.18.2.1', '8'.repeat(100_000), '40001', '22'], /PORT must be/);
    assertRefused([...OK, ...Array.from({ length: 70 }, () => ['198.18.3.1', '80']).flat()], /too many arguments/);
  });
});

describe('lbcheck-lb-view', () => {
  const refused = (args: string[], why: RegExp): void => {
    const r = run(view, args);
    assert.equal(r.code, HELPER_REFUSED, `${JSON.stringify(args)}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, why);
  };

  it('reads only the sockets and configs it was installed for, and nothing it was not granted', () => {
    refused(['v1', 'haproxy', '/run/haproxy/admin.sock'], /SOCKET must be one of: \/run\/haproxy\/lbcheck\.sock/);
    refused(['v1', 'haproxy', '/run/haproxy/lbcheck.sock', 'disable server web/s1'], /SOCKET must be one of/);
    refused(['v1', 'haproxy', '/run/haproxy/lbcheck.sock;disable server web/s1'], /SOCKET must be one of/);
    refused(['v1', 'nginx', '/etc/shadow'], /CONFIG must be one of: \/etc\/nginx\/nginx\.conf/);
    refused(['v1', 'nginx', '-g', 'daemon on;'], /CONFIG must be one of/);
    refused(['v1', 'nginx'], /nginx needs CONFIG/);
    refused(['v1', 'iptables'], /must be granted at install/);
    refused(['v1', 'sh'], /the view must be haproxy, nginx or iptables/);
    refused(['v0', 'iptables'], /another protocol than v1/);
  });
});
