// The inventory schema refuses what used to slip through (an sni that injects
// header lines, a zone BullMQ refuses later, `tls: yes` read as false), names
// the likely field for a misspelt one, keeps every accepted form, and ships as
// JSON Schema for editors, identical to what the code generates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { didYouMean, editDistance } from '../../src/inventory/did-you-mean.js';
import { inventoryJsonSchema } from '../../src/inventory/inventory-schema.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { SCHEMA_FILE } from './write-inventory-schema.js';

const FP = `SHA256:${'b'.repeat(43)}`;
const lb = (extra = ''): string =>
  `loadBalancers:\n  edge:\n    ssh: ssh://root@198.18.1.2\n    identity: /k\n    hostKey: ${FP}\n${extra}`;
const vip = (extra: string): string => `vips:\n  api:\n    address: 198.18.2.1\n    port: 443\n${extra}`;

function refused(yaml: string, ...expect: RegExp[]): void {
  assert.throws(
    () => parseInventory(yaml, 'inv.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      for (const re of expect) assert.match(err.message, re);
      return true;
    },
  );
}

describe('inventory schema: hostile values', () => {
  for (const sni of ['"www.example.com\\r\\nX-Evil: 1"', '"a\\nb"', '"a\\u0000b"', '"a b"', '"a\\tb"']) {
    it(`refuses sni: ${sni} with its line`, () => {
      refused(vip(`    sni: ${sni}\n`), /inv\.yaml:5: VIP "api" sni must be a host name/);
    });
  }
  it('refuses a VIP zone or an LB zone with ":" (BullMQ refuses it as a queue name later)', () => {
    refused(vip('    zone: "dc:1"\n'), /inv\.yaml:5: VIP "api" zone must be a short name .*so no ":"/);
    refused(lb('    zone: a:b\n'), /inv\.yaml:6: load balancer "edge" zone must be/);
    refused(vip('    zone: "dc 1"\n'), /zone must be/);
  });
  for (const [value, hint] of [
    ['yes', 'true'],
    ['on', 'true'],
    ['no', 'false'],
    ['Off', 'false'],
  ] as const) {
    it(`refuses tls: ${value} (YAML 1.2 text, once silently false) with the hint to write ${hint}`, () => {
      refused(
        vip(`    tls: ${value}\n`),
        new RegExp(`inv\\.yaml:5: VIP "api" tls must be true or false, not "${value}".*write tls: ${hint}`),
      );
    });
  }
  it('refuses tls: 1 and allowEveryone: yes', () => {
    refused(vip('    tls: 1\n'), /tls must be true or false, not 1/);
    refused(`${vip('')}policy:\n  allowEveryone: yes\n`, /inv\.yaml:6: policy allowEveryone must be true or false/);
  });
  it('a non-scalar where a value belongs is named, not crashed on', () => {
    refused(vip('    httpPath: [/a]\n'), /VIP "api" httpPath must be a single value .* not a list/);
    refused(vip('    members: 198.18.3.1:80\n'), /VIP "api" members must be a list of host:port/);
  });
});

describe('inventory schema: unknown fields', () => {
  it("suggests the field that was meant, on the misspelt key's line", () => {
    refused(
      vip('    sni_name: x\n    expectStatuss: 200\n'),
      /inv\.yaml:6: unknown field "expectStatuss" in VIP "api": did you mean "expectStatus"\?/,
    );
    refused(
      lb('    identty: /k2\n'),
      /inv\.yaml:6: unknown field "identty" in load balancer "edge": did you mean "identity"\?/,
    );
    refused(`${vip('')}policy:\n  rulez: []\n`, /unknown field "rulez" in policy: did you mean "rules"\?/);
  });
  it('lists the allowed fields when nothing is close', () => {
    refused(vip('    colour: blue\n'), /unknown field "colour" in VIP "api" \(allowed: address, port/);
  });
  it('a missing required field says what it is', () => {
    refused(
      'loadBalancers:\n  edge:\n    ssh: ssh://root@198.18.1.2\n    hostKey: x\n',
      /inv\.yaml:3: load balancer "edge" needs identity: the path of the SSH private key/,
    );
  });
  it('edit distance and did-you-mean', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(didYouMean('adress', ['address', 'port']), 'address');
    assert.equal(didYouMean('colour', ['address', 'port']), undefined);
  });
});

describe('inventory schema: forms accepted before still load', () => {
  it('quoted booleans, numeric zones and names, empty optional fields, port 443 implying TLS', () => {
    const inv = parseInventory(
      `${lb('    zone: 1\n    captureInterface:\n')}vips:\n  a:\n    address: 198.18.2.1\n    port: "443"\n    tls: "true"\n    lb: edge\n    zone:\n  b:\n    address: 198.18.2.2\n    port: 443\n    tls: false\n    sni: www.example.com\n  c:\n    address: 198.18.2.3\n    port: 80\n    tls: true\n    members:\n`,
      'inv.yaml',
    );
    assert.equal(inv.loadBalancers.get('edge')?.zone, '1');
    assert.equal(inv.loadBalancers.get('edge')?.captureInterface, 'any');
    assert.deepEqual(
      [...inv.vips.values()].map((v) => [v.name, v.port, v.tls, v.members.length, v.zone]),
      [
        ['a', 443, true, 0, undefined],
        ['b', 443, false, 0, undefined],
        ['c', 80, true, 0, undefined],
      ],
    );
    assert.equal(inv.vips.get('b')?.sni, 'www.example.com');
  });
  it('a yaml-language-server schema comment is just a comment', () => {
    const inv = parseInventory(`# yaml-language-server: $schema=../docs/inventory.schema.json\n${vip('')}`, 'inv.yaml');
    assert.equal(inv.vips.get('api')?.tls, true);
  });
});

describe('inventory JSON Schema', () => {
  it('docs/inventory.schema.json is what the code generates (run npm run schema after changing a field)', () => {
    assert.deepEqual(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), inventoryJsonSchema());
  });
  it('describes the sections, refuses unknown fields and knows the booleans', () => {
    const schema = inventoryJsonSchema() as {
      additionalProperties: boolean;
      properties: Record<string, { anyOf?: { additionalProperties?: { properties?: Record<string, unknown> } }[] }>;
    };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), ['loadBalancers', 'lbGroups', 'vips', 'policy', 'alerts']);
    const vipProps = schema.properties.vips?.anyOf?.[0]?.additionalProperties?.properties ?? {};
    assert.ok('lbView' in vipProps && 'sni' in vipProps && 'tls' in vipProps, Object.keys(vipProps).join(','));
    assert.match(JSON.stringify(vipProps.tls), /"boolean"/);
  });
});
