// The platform registry: one list in core (src/model/platforms.ts), one folder
// per chat platform (adapters/<id>/platform.ts), and nothing else naming them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configuredPlatforms, loadChatPlatforms } from '../../adapters/chat-platform.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { CHAT_PLATFORM_IDS, PLATFORMS } from '../../src/model/platforms.js';

const inventoryWithUser = (user: string): string => `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "SHA256:${'a'.repeat(43)}" }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge }
policy:
  rules:
    - name: oncall
      users: [${user}]
      targets: [web-vip]
`;

describe('platform registry', () => {
  it('loads one module per chat platform, each declaring the platform it is loaded for', async () => {
    const platforms = await loadChatPlatforms();
    assert.deepEqual(
      platforms.map((p) => p.info.id),
      [...CHAT_PLATFORM_IDS],
    );
    assert.deepEqual(CHAT_PLATFORM_IDS, ['slack', 'teams']);
  });

  it('starts only what the environment configures, and reports a wrong setting before anything starts', async () => {
    const platforms = await loadChatPlatforms();
    assert.deepEqual(configuredPlatforms(platforms, {}), []);
    const slack = configuredPlatforms(platforms, { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    assert.deepEqual(
      slack.map((c) => c.platform.info.id),
      ['slack'],
    );
    assert.match(slack[0]?.platform.describe(slack[0].settings) ?? '', /Slack \(HTTP on port 3000\)/);
    assert.throws(() => configuredPlatforms(platforms, { SLACK_BOT_TOKEN: 'xoxb-1' }), /SLACK_SIGNING_SECRET/);
  });

  it('the policy accepts principals of every registered platform and names them when refusing another', () => {
    for (const p of PLATFORMS) parseInventory(inventoryWithUser(`${p.id}:someone`), 'ok.yaml');
    assert.throws(
      () => parseInventory(inventoryWithUser('slak:U123'), 'typo.yaml'),
      /"slak:U123" must be platform:id, platform one of console, slack, teams/,
    );
  });

  it('serve names no platform itself', () => {
    const serve = readFileSync(new URL('../../../adapters/serve-command.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(serve, /slack|teams/i);
  });
});
