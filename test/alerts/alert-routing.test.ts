// The inventory's alerts section and the pure routing it drives: which VIP an alert names, which channel takes
// it, and what the loader refuses (with the line) before any alert fires.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAlertNotice } from '../../src/alerts/alert-payload.js';
import { routeAlerts } from '../../src/alerts/alert-routing.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { ConfigError } from '../../src/errors.js';

// Documentation addresses: this test sends nothing.
const BASE = `loadBalancers:
  lb1: { ssh: ssh://root@192.0.2.1, identity: /nonexistent, hostKey: "SHA256:${'A'.repeat(43)}" }
vips:
  web-a: { address: 192.0.2.10, port: 80, lb: lb1 }
  web-b: { address: 192.0.2.11, port: 80, lb: lb1 }
  db: { address: 192.0.2.12, port: 5432, lb: lb1, protocol: tcp }
`;

const load = (alerts: string) => parseInventory(`${BASE}alerts:\n${alerts}`, 'inv.yaml');

function refusal(alerts: string): string {
  try {
    load(alerts);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('the inventory loaded');
}

const alert = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') =>
  readAlertNotice('alertmanager', {
    version: '4',
    groupKey: 'g',
    status,
    alerts: [{ status, labels: { alertname: 'X', ...labels }, fingerprint: 'ab12' }],
  }).alerts;

describe('alerts section: routing', () => {
  const inv = load(
    [
      '  labelTargets: { service: { shop: web-b } }',
      '  routes:',
      '    - { labels: { team: dba }, channel: "slack:C0DBA" }',
      '    - { targets: [web-*], channel: "slack:C0WEB" }',
      '    - { channel: "teams:19:abc@thread.tacv2", serviceUrl: "https://smba.trafficmanager.net/emea/" }',
    ].join('\n'),
  );
  const config = inv.alerts ?? assert.fail('no alerts section');

  it('defaults: lbcheck_target names the VIP, one check per 300 s, 5 per minute, no re-check on resolve', () => {
    assert.deepEqual(
      [config.targetLabels, config.checkEverySeconds, config.maxChecksPerMinute, config.recheckOnResolve],
      [['lbcheck_target'], 300, 5, false],
    );
  });

  it('the first route that matches takes the alert: labels, then target globs, then the catch-all', () => {
    const where = (labels: Record<string, string>) =>
      routeAlerts(alert(labels), config, inv.vips).routed.map((r) => `${r.target}@${r.replyTo.channel}`);
    assert.deepEqual(where({ lbcheck_target: 'db', team: 'dba' }), ['db@C0DBA']);
    assert.deepEqual(where({ lbcheck_target: 'web-a' }), ['web-a@C0WEB']);
    assert.deepEqual(where({ service: 'shop' }), ['web-b@C0WEB']);
    assert.deepEqual(where({ lbcheck_target: 'db' }), ['db@19:abc@thread.tacv2']);
  });

  it('a Teams route carries the conversation reference Teams posts need', () => {
    const [routed] = routeAlerts(alert({ lbcheck_target: 'db' }), config, inv.vips).routed;
    assert.deepEqual(routed?.replyTo, {
      platform: 'teams',
      channel: '19:abc@thread.tacv2',
      extra: {
        reference: {
          serviceUrl: 'https://smba.trafficmanager.net/emea/',
          channelId: 'msteams',
          conversation: { id: '19:abc@thread.tacv2' },
        },
      },
    });
  });

  it('alerts of one VIP in one notice are one routed target; an address is never a target', () => {
    const notice = readAlertNotice('alertmanager', {
      version: '4',
      groupKey: 'g',
      status: 'firing',
      alerts: ['a', 'b'].map((i) => ({
        status: 'firing',
        labels: { alertname: 'X', lbcheck_target: 'web-a', instance: i },
        fingerprint: `f${i === 'a' ? 1 : 2}`,
      })),
    });
    const { routed } = routeAlerts(notice.alerts, config, inv.vips);
    assert.equal(routed.length, 1);
    assert.equal(routed[0]?.alerts.length, 2);
    const { unrouted } = routeAlerts(alert({ lbcheck_target: '192.0.2.10:80' }), config, inv.vips);
    assert.match(unrouted[0]?.why ?? '', /is not a VIP of the inventory/);
  });
});

describe('alerts section: what the loader refuses, with the line', () => {
  it('a label mapped to a VIP the file does not have', () => {
    assert.match(
      refusal('  labelTargets: { service: { shop: web-c } }'),
      /inv\.yaml:\d+: alerts labelTargets service: shop names "web-c", which is not a VIP of this file/,
    );
  });

  it('a route naming a VIP the file does not have (globs pass)', () => {
    const message = refusal('  routes:\n    - { targets: [web-*, dbb], channel: "slack:C1" }');
    assert.match(message, /alerts route targets: "dbb" is not a VIP of this file/);
    assert.doesNotMatch(message, /"web-\*"/);
  });

  it('a channel without its platform, a Teams channel without serviceUrl, bounds, unknown fields', () => {
    assert.match(refusal('  routes:\n    - { channel: C0123 }'), /platform:channel/);
    assert.match(refusal('  routes:\n    - { channel: "teams:19:x" }'), /a teams: channel needs serviceUrl/);
    assert.match(refusal('  maxChecksPerMinute: 0'), /maxChecksPerMinute must be a whole number from 1 to 1000/);
    assert.match(refusal('  checkEverySeconds: 5'), /checkEverySeconds must be a whole number from 10 to 86400/);
    assert.match(refusal('  recheckOnResolve: yes'), /YAML 1\.2 reads yes as text/);
    assert.match(refusal('  route: []'), /route/);
  });
});
