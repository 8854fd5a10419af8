// The demo's inventory and policy name only addresses the lab created: a
// reader typing any other address at the demo prompt is refused before a
// packet leaves (198.18.0.0/15 outside the lab routes out of this machine).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { authorize } from '../../src/policy/authorize.js';
import { addressesForSlot } from '../lab/addresses.js';
import { demoAddresses, demoInventoryYaml, type DemoLab } from './demo-inventory.js';

function fakeLab(slot: number): DemoLab {
  const a = addressesForSlot(slot);
  return {
    vips: [
      { name: 'web-http', address: a.vips.haproxyHttp, port: 80, protocol: 'http', what: 'HAProxy' },
      { name: 'web-l4', address: a.vips.dnat, port: 80, protocol: 'http', what: 'DNAT' },
    ],
    servers: a.servers.slice(0, 2).map((address, i) => ({ name: `s${i + 1}`, address, port: 8080 })),
    ssh: {
      host: a.lbTransit,
      port: 22,
      user: 'root',
      identityFile: '/tmp/lab/ssh/client_ed25519',
      knownHostsFile: '/tmp/lab/ssh/known_hosts',
      hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
      hostPublicKey: 'ssh-ed25519 AAAA',
    },
  };
}

describe('demo inventory and policy', () => {
  for (const slot of [0, 57, 127]) {
    it(`slot ${slot}: every address in the file is one the lab created; ranges are single hosts`, () => {
      const lab = fakeLab(slot);
      const yaml = demoInventoryYaml(lab, 'alice');
      const allowed = demoAddresses(lab);
      const literals = yaml.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? [];
      assert.ok(literals.length > 0);
      for (const ip of literals) assert.ok(allowed.has(ip), `${ip} is not a lab address`);
      const cidrs = /cidrs: \[([^\]]*)\]/.exec(yaml)?.[1]?.split(', ') ?? [];
      assert.ok(cidrs.length > 0);
      for (const c of cidrs) assert.match(c, /\/32$/);
    });
  }

  it('with the HA standby, web-http is served by the pair and the standby is the only other address', () => {
    const lab = fakeLab(5);
    const standby = { ...lab.ssh, host: lab.ssh.host.replace(/\.\d+$/, '.130') };
    const withPair: DemoLab = { ...lab, standby };
    const inv = parseInventory(demoInventoryYaml(withPair, 'alice'), 'demo-inventory.yaml');
    assert.deepEqual(inv.vips.get('web-http')?.lbNodes, ['lab-lb', 'lab-lb2']);
    assert.equal(inv.vips.get('web-l4')?.lbNodes, undefined);
    assert.deepEqual(
      [...demoAddresses(withPair)].filter((a) => !demoAddresses(lab).has(a)),
      [standby.host],
    );
  });

  it('parses, and the policy lets the console user check the lab VIPs by name and by address, nothing else', () => {
    const lab = fakeLab(3);
    const inv = parseInventory(demoInventoryYaml(lab, 'alice'), 'demo-inventory.yaml');
    assert.deepEqual([...inv.vips.keys()], ['web-http', 'web-l4']);
    const a = addressesForSlot(3);
    const ask = (target: string, user = 'alice') =>
      authorize(inv.policy, inv.vips, {
        requester: { platform: 'console', id: user },
        channel: 'console:console',
        action: 'check',
        target,
      });
    assert.equal(ask('web-http').allowed, true);
    assert.equal(ask(`${a.vips.dnat}:80`).allowed, true);
    // In the lab's block but never created (routed into the lab), and outside it (would leave this machine).
    assert.equal(ask(`${a.vips.idle.replace(/\.\d+$/, '.200')}:80`).allowed, false);
    assert.equal(ask('198.19.255.10:80').allowed, false);
    assert.equal(ask('web-http', 'mallory').allowed, false);
  });
});
