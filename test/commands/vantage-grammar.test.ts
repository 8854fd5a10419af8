// --from (issue 17 item 4): the grammar reads "all" or a zone list, and the
// zones are checked against the inventory: a VIP is checked only from zones
// serving it (its zone, its `zones`, its HA nodes' zones); an ip:port only
// from zones the inventory knows; every refusal says what to type instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliUsageError } from '../../src/errors.js';
import { runMain } from '../../src/cli/run-entry.js';
import { CommandSyntaxError, helpText, parseCommand } from '../../src/commands/grammar.js';
import { InputError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { vantageZones, zonesServing } from '../../src/pipeline/vantage-zones.js';

const FP = `SHA256:${'a'.repeat(43)}`;
const inventory = parseInventory(
  `
loadBalancers:
  edge-a: { ssh: "ssh://root@198.18.200.2", identity: /k, hostKey: "${FP}", zone: dc1 }
  edge-b: { ssh: "ssh://root@198.18.200.3", identity: /k, hostKey: "${FP}", zone: dc3 }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge-a, zones: [dc2] }
  pair-vip: { address: 198.18.201.2, port: 80, lb: [edge-a, edge-b] }
  solo-vip: { address: 198.18.201.3, port: 80, lb: edge-a }
`,
  'inv.yaml',
);

describe('--from in the grammar', () => {
  it('reads "all" and a zone list (duplicates once, order kept)', () => {
    assert.deepEqual(parseCommand('web-vip --from all'), {
      kind: 'check',
      target: 'web-vip',
      all: false,
      members: [],
      from: 'all',
    });
    const cmd = parseCommand('web-vip --all --from dc2,dc1,dc2');
    assert.equal(cmd.kind, 'check');
    assert.deepEqual(cmd.kind === 'check' ? cmd.from : undefined, ['dc2', 'dc1']);
    assert.equal(cmd.kind === 'check' ? cmd.all : undefined, true);
  });

  it('refuses a missing, malformed or repeated --from with the check usage', () => {
    const cases: [string, RegExp][] = [
      ['web-vip --from', /--from needs "all" or zone names/],
      ['web-vip --from --all', /--from needs "all" or zone names/],
      ['web-vip --from dc1;rm', /"dc1;rm" is not a zone name/],
      ['web-vip --from dc1,all', /"all" is not a zone name/],
      ['web-vip --from all --from dc1', /--from is given twice/],
      [`web-vip --from ${Array.from({ length: 9 }, (_, i) => `z${i}`).join(',')}`, /at most 8 zones per check/],
    ];
    for (const [text, problem] of cases) {
      assert.throws(
        () => parseCommand(text),
        (err: unknown) =>
          err instanceof CommandSyntaxError && problem.test(err.message) && /--from all\|ZONE/.test(err.usage),
        text,
      );
    }
  });

  it('help names --from', () =>
    assert.match(helpText('/lbcheck'), /--from runs it at once from a worker in each zone/));
});

describe('zones serving a target', () => {
  it('a VIP: its own zone first, then its zones, then its HA nodes', () => {
    assert.deepEqual(zonesServing('web-vip', inventory), ['dc1', 'dc2']);
    assert.deepEqual(zonesServing('pair-vip', inventory), ['dc1', 'dc3']);
    assert.deepEqual(zonesServing('solo-vip', inventory), ['dc1']);
    assert.deepEqual(vantageZones('all', 'web-vip', inventory), ['dc1', 'dc2']);
    assert.deepEqual(vantageZones(['dc2'], 'web-vip', inventory), ['dc2']);
  });

  const refusal = (fn: () => unknown, problem: RegExp, hint: RegExp): void =>
    assert.throws(
      fn,
      (err: unknown) => err instanceof InputError && problem.test(err.message) && hint.test(err.hint ?? ''),
    );

  it('refuses an unknown zone and a zone that does not serve the VIP, naming the ones that do', () => {
    refusal(
      () => vantageZones(['dc9'], 'web-vip', inventory),
      /^unknown zone dc9\. /,
      /^zones serving web-vip: dc1, dc2 /,
    );
    refusal(
      () => vantageZones(['dc1', 'dc3'], 'web-vip', inventory),
      /^dc3 does not serve web-vip\. /,
      /^zones serving web-vip: dc1, dc2 /,
    );
  });

  it('an ip:port target: only zones the inventory knows, and never "all"', () => {
    assert.deepEqual(vantageZones(['dc1', 'dc3'], '198.18.201.9:80', inventory), ['dc1', 'dc3']);
    refusal(
      () => vantageZones('all', '198.18.201.9:80', inventory),
      /--from all needs an inventory VIP/,
      /--from dc1,dc2/,
    );
    refusal(
      () => vantageZones(['dc7', 'dc8'], '198.18.201.9:80', inventory),
      /^unknown zones dc7, dc8\. /,
      /default, dc1, dc3, dc2/,
    );
  });
});

describe('lbcheck run --from', () => {
  it('is refused with where to go instead: the CLI probes from one machine', async () => {
    for (const args of [
      ['web-vip', '--from', 'all'],
      ['web-vip', '--from=dc1'],
    ])
      await assert.rejects(
        runMain(args),
        (err: unknown) =>
          err instanceof CliUsageError &&
          /probes from this machine only\. Use the bot \(\/lbcheck <target> --from all/.test(err.message),
      );
  });
});
