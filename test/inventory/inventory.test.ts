// The inventory file: valid YAML loads into targets; every problem is
// reported with its line, all at once; unknown targets name the known ones.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, InputError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { resolveTarget } from '../../src/target/resolve-target.js';

const FP = `SHA256:${'b'.repeat(43)}`;
const GOOD = `
loadBalancers:
  edge-lb:
    ssh: ssh://root@198.18.1.2:22
    identity: /etc/lbcheck/id_ed25519
    hostKey: ${FP}
    captureInterface: any
vips:
  web-vip:
    address: 198.18.2.1
    port: 80
    lb: edge-lb
    members: [198.18.3.11:8080, 198.18.3.12:8080]
  tls-vip:
    address: 198.18.2.9
    port: 443
    protocol: tcp
`;

describe('inventory: health path and expected status', () => {
  const vip = (extra: string): string => `vips:\n  api:\n    address: 198.18.2.1\n    port: 80\n${extra}`;

  it('httpPath and expectStatus load and reach the check target', async () => {
    const inv = parseInventory(vip('    httpPath: /healthz?deep=1\n    expectStatus: 200-204\n'), 'inv.yaml');
    assert.equal(inv.vips.get('api')?.httpPath, '/healthz?deep=1');
    assert.deepEqual(inv.vips.get('api')?.expectStatus, { min: 200, max: 204 });
    const target = await resolveTarget({ target: 'api', members: [] }, inv);
    assert.equal(target.httpPath, '/healthz?deep=1');
    assert.deepEqual(target.expectStatus, { min: 200, max: 204 });
  });

  it("caFile (the CAs a TLS VIP's clients trust) reaches the check target; --ca-file overrides it", async () => {
    const inv = parseInventory(vip('    tls: true\n    caFile: /etc/lbcheck/internal-ca.pem\n'), 'inv.yaml');
    assert.equal((await resolveTarget({ target: 'api' }, inv)).caFile, '/etc/lbcheck/internal-ca.pem');
    assert.equal((await resolveTarget({ target: 'api', caFile: '/tmp/other.pem' }, inv)).caFile, '/tmp/other.pem');
    const without = await resolveTarget({ target: 'api' }, parseInventory(vip(''), 'inv.yaml'));
    assert.equal('caFile' in without, false);
  });

  it('lbView: haproxy needs its socket and backend; unknown kinds and keys are refused with their line', () => {
    const ok = parseInventory(
      vip('    lbView: { kind: haproxy, socket: /run/haproxy/admin.sock, backend: web }\n'),
      'inv.yaml',
    );
    assert.deepEqual(ok.vips.get('api')?.lbView, {
      kind: 'haproxy',
      socket: '/run/haproxy/admin.sock',
      backend: 'web',
    });
    assert.deepEqual(parseInventory(vip('    lbView: { kind: iptables }\n'), 'inv.yaml').vips.get('api')?.lbView, {
      kind: 'iptables',
    });
    for (const [bad, why] of [
      ['{ kind: haproxy, backend: web }', /needs socket/],
      ['{ kind: f5 }', /kind must be haproxy, iptables or nginx/],
      ['{ kind: nginx, config: "relative.conf" }', /absolute path/],
      ['{ kind: iptables, sokcet: /x }', /sokcet/],
    ] as const) {
      assert.throws(
        () => parseInventory(vip(`    lbView: ${bad}\n`), 'inv.yaml'),
        (err: Error) => err instanceof ConfigError && why.test(err.message) && /inv\.yaml:5/.test(err.message),
        bad,
      );
    }
  });

  it('a single status is a range of one', () => {
    const inv = parseInventory(vip('    expectStatus: 204\n'), 'inv.yaml');
    assert.deepEqual(inv.vips.get('api')?.expectStatus, { min: 204, max: 204 });
  });

  for (const [bad, why] of [
    ['httpPath: "/a b"', /httpPath must start with "\/"/],
    ['httpPath: "/x\\r\\nX-Evil: 1"', /httpPath must start with "\/"/],
    ['httpPath: healthz', /httpPath must start with "\/"/],
    ['expectStatus: 399-200', /expectStatus must be/],
    ['expectStatus: ok', /expectStatus must be/],
  ] as const) {
    it(`refuses ${bad} with its line`, () => {
      assert.throws(
        () => parseInventory(vip(`    ${bad}\n`), 'inv.yaml'),
        (err: Error) => err instanceof ConfigError && why.test(err.message) && /inv\.yaml:5/.test(err.message),
      );
    });
  }
});

describe('inventory', () => {
  it('loads load balancers and VIPs with defaults', () => {
    const inv = parseInventory(GOOD, 'inv.yaml');
    const lb = inv.loadBalancers.get('edge-lb');
    assert.deepEqual(lb?.ssh, { user: 'root', host: '198.18.1.2', port: 22 });
    assert.deepEqual(lb?.hostKeys, [FP]);
    const web = inv.vips.get('web-vip');
    assert.equal(web?.protocol, 'http');
    assert.equal(web?.tls, false);
    assert.deepEqual(web?.members, [
      { host: '198.18.3.11', port: 8080 },
      { host: '198.18.3.12', port: 8080 },
    ]);
    assert.equal(inv.vips.get('tls-vip')?.tls, true);
  });

  it('reports every problem with its line number', () => {
    const bad = `loadBalancers:
  edge-lb:
    ssh: root@198.18.1.2
    identity: /k
    hostKey: SHA256:short
vips:
  web-vip:
    address: 198.18.2.1
    port: 99999
    lb: missing-lb
    members: [198.18.3.11:8080, "$(id):80"]
    colour: blue
`;
    assert.throws(
      () => parseInventory(bad, 'inv.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const m = err.message;
        assert.match(m, /inv\.yaml:3: ssh "root@198\.18\.1\.2" is not an SSH URL/);
        assert.match(m, /inv\.yaml:5: .*not of the form SHA256/);
        assert.match(m, /inv\.yaml:9: VIP "web-vip" port 99999 is out of range/);
        assert.match(m, /inv\.yaml:10: VIP "web-vip" names load balancer "missing-lb"/);
        assert.match(m, /inv\.yaml:11: member "\$\(id\)" is not an IP address or a hostname/);
        assert.match(m, /has 6 problems/);
        assert.match(m, /inv\.yaml:12: unknown field "colour"/);
        return true;
      },
    );
  });

  it('reports YAML syntax errors with their line', () => {
    assert.throws(() => parseInventory('vips:\n  a: [1, 2\n', 'x.yaml'), /x\.yaml:\d+: /);
  });

  it('an unknown target name is refused with the known ones listed', async () => {
    const inv = parseInventory(GOOD, 'inv.yaml');
    await assert.rejects(resolveTarget({ target: 'web-vpi' }, inv), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, /unknown target "web-vpi"\. Known targets: web-vip, tls-vip/);
      return true;
    });
  });

  it('an ip:port that matches an inventory VIP picks up its members', async () => {
    const inv = parseInventory(GOOD.replace(/ {4}lb: edge-lb\n/, ''), 'inv.yaml');
    const t = await resolveTarget({ target: '198.18.2.1:80' }, inv);
    assert.equal(t.name, 'web-vip');
    assert.equal(t.members.length, 2);
    assert.equal(t.lb, undefined);
  });

  it('warmChannels: 0 (an account with a forced command) reaches the LB access; other values are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbcheck-inv-'));
    try {
      const identity = join(dir, 'id');
      writeFileSync(identity, 'not parsed until SSH');
      const inv = parseInventory(GOOD.replace('    captureInterface: any\n', '    warmChannels: 0\n'), 'inv.yaml');
      assert.equal(inv.loadBalancers.get('edge-lb')?.warmChannels, 0);
      const t = await resolveTarget({ target: 'web-vip', identity }, inv);
      assert.equal(t.lb?.warmChannels, 0);
      const plain = await resolveTarget({ target: 'web-vip', identity }, parseInventory(GOOD, 'inv.yaml'));
      assert.equal(plain.lb?.warmChannels, undefined);
      // --no-warm-channels: on an inventory LB, and on an ad-hoc --lb.
      const flagged = await resolveTarget(
        { target: 'web-vip', identity, noWarmChannels: true },
        parseInventory(GOOD, 'inv.yaml'),
      );
      assert.equal(flagged.lb?.warmChannels, 0);
      const adHoc = await resolveTarget(
        { target: '198.18.2.1:80', lbUrl: 'ssh://root@198.18.1.2', identity, hostKey: FP, noWarmChannels: true },
        undefined,
      );
      assert.equal(adHoc.lb?.warmChannels, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const bad of ['9', '-1', '1.5', 'many']) {
      assert.throws(
        () => parseInventory(GOOD.replace('    captureInterface: any\n', `    warmChannels: ${bad}\n`), 'inv.yaml'),
        (err: unknown) =>
          err instanceof ConfigError && /inv\.yaml:\d+.*warmChannels must be a whole number 0-8/s.test(err.message),
        bad,
      );
    }
  });

  it('refuses a capture interface that is not an interface name', async () => {
    await assert.rejects(
      resolveTarget({ target: '198.18.2.1:80', captureInterface: 'eth0;reboot' }, undefined),
      /not an interface name/,
    );
  });
});
