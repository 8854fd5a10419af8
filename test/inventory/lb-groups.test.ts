// HA groups in the inventory: a VIP's lb may be one name, a list of names, or a
// group declared under lbGroups; every mistake is named with its line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { resolveTarget } from '../../src/target/resolve-target.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-groups-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = join(dir, 'id');
writeFileSync(key, 'not read by the parser, only by the resolver\n');
const FP = `SHA256:${'c'.repeat(43)}`;
const lbs = ['edge-a', 'edge-b', 'edge-c']
  .map((n, i) => `  ${n}:\n    ssh: ssh://lbcheck@198.18.1.${i + 2}:22\n    identity: ${key}\n    hostKey: ${FP}\n`)
  .join('');
const inventory = (lb: string, groups = ''): string =>
  `loadBalancers:\n${lbs}${groups}vips:\n  web:\n    address: 198.18.2.1\n    port: 80\n    lb: ${lb}\n`;

describe('inventory: HA groups', () => {
  const problems = (text: string): string => {
    try {
      parseInventory(text, 'inv.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail('the inventory loaded');
  };

  it('a list of LB names: the first is lb, all are lbNodes, and the check target gets every node in order', async () => {
    const inv = parseInventory(inventory('[edge-b, edge-a]'), 'inv.yaml');
    assert.equal(inv.vips.get('web')?.lb, 'edge-b');
    assert.deepEqual(inv.vips.get('web')?.lbNodes, ['edge-b', 'edge-a']);
    const target = await resolveTarget({ target: 'web' }, inv);
    assert.deepEqual(
      target.lbNodes?.map((n) => n.host),
      ['198.18.1.3', '198.18.1.2'],
    );
    assert.equal(target.lb, target.lbNodes?.[0]);
  });

  it('a named group under lbGroups', () => {
    const inv = parseInventory(inventory('edge-pair', 'lbGroups:\n  edge-pair: [edge-a, edge-c]\n'), 'inv.yaml');
    assert.deepEqual(inv.vips.get('web')?.lbNodes, ['edge-a', 'edge-c']);
  });

  it('an active/active group (mapping form) reaches the check target', async () => {
    const inv = parseInventory(
      inventory('anycast', 'lbGroups:\n  anycast: { nodes: [edge-a, edge-b], activeActive: true }\n'),
      'inv.yaml',
    );
    assert.equal(inv.vips.get('web')?.activeActive, true);
    assert.equal((await resolveTarget({ target: 'web' }, inv)).activeActive, true);
    assert.match(
      problems(inventory('aa', 'lbGroups:\n  aa: { nodes: [edge-a, edge-b], activeActive: yes-please }\n')),
      /activeActive must be true or false/,
    );
  });

  it('a single name stays a single LB (no lbNodes)', async () => {
    const inv = parseInventory(inventory('edge-a'), 'inv.yaml');
    assert.equal(inv.vips.get('web')?.lbNodes, undefined);
    assert.equal((await resolveTarget({ target: 'web' }, inv)).lbNodes, undefined);
  });

  it('--lb on the command line names one node and overrides the group', async () => {
    const inv = parseInventory(inventory('[edge-a, edge-b]'), 'inv.yaml');
    const t = await resolveTarget({ target: 'web', lbUrl: 'ssh://root@198.18.1.9', identity: key, hostKey: FP }, inv);
    assert.equal(t.lbNodes, undefined);
    assert.equal(t.lb?.host, '198.18.1.9');
  });

  it('unknown nodes, duplicates, empty groups and clashing names are each reported with their line', () => {
    assert.match(problems(inventory('[edge-a, edge-z]')), /inv\.yaml:\d+: VIP "web" lb names load balancer "edge-z"/);
    assert.match(problems(inventory('[edge-a, edge-a]')), /lists a load balancer twice/);
    assert.match(problems(inventory('[]')), /is empty: list the nodes/);
    assert.match(problems(inventory('nope')), /"nope", which is not in loadBalancers or lbGroups/);
    assert.match(
      problems(inventory('edge-a', 'lbGroups:\n  edge-b: [edge-a, edge-c]\n')),
      /lbGroups "edge-b" has the name of a load balancer/,
    );
    assert.match(problems(inventory('edge-a', 'lbGroups:\n  pair: edge-a\n')), /must be a list of load balancer names/);
  });
});
