// A check whose stored record quotes hostile server text, and the intake that answers `status` about it: what the
// chat adapters' reply-escaping tests send through real Bolt and real botbuilder. No lab, no Redis.
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { newCheckId } from '../../src/model/check-id.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import type { IntakeDeps } from '../../src/pipeline/intake.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';

/** What a hostile server could put in its status line: a Slack link and a markdown link, both disguised. */
export const SLACK_LINK = '<https://evil.example|Sign in>';
export const MD_LINK = '[x](https://evil.example)';
export const HOSTILE = `HTTP/1.1 502 ${SLACK_LINK} ${MD_LINK} <!channel> **now**`;

/** Intake dependencies whose policy lets `principal` (e.g. "slack:U0ONCALL") read and check anything. */
export function hostileDeps(principal: string, prefix: string): IntakeDeps {
  const inventory = parseInventory(
    [
      'loadBalancers:',
      `  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent, hostKey: "SHA256:${'a'.repeat(43)}" }`,
      'vips:',
      '  web-vip: { address: 198.18.201.1, port: 80, lb: edge }',
      'policy:',
      '  rules:',
      `    - { name: oncall, users: ['${principal}'], targets: ['*'] }`,
    ].join('\n'),
    'hostile.yaml',
  );
  return {
    state: new MemoryState(),
    bus: new MemoryBus(),
    inventory: () => inventory,
    log: createLogger('silent'),
    prefix,
  };
}

/** Stores a finished check of web-vip by `requester` whose step summary and error quote HOSTILE; returns its id. */
export async function storeHostileCheck(deps: IntakeDeps, requester: CheckRequest['requester']): Promise<string> {
  const checkId = newCheckId();
  const request: CheckRequest = {
    checkId,
    target: 'web-vip',
    members: [],
    all: false,
    requester,
    replyTo: { platform: requester.platform, channel: 'C0INCIDENT' },
    zone: 'default',
    requestedAt: new Date().toISOString(),
  };
  await deps.state.createCheck(request);
  await deps.state.addStep(checkId, {
    step: 1,
    name: 'reach the LB',
    verdict: 'fail',
    summary: `server said ${HOSTILE}`,
  });
  await deps.state.updateCheck(checkId, { status: 'failed', error: `ssh: ${HOSTILE}` });
  return checkId;
}
