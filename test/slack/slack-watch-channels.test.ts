// A Watch button click naming another channel's check: two channels, real
// Bolt over real HTTP (requests signed as Slack signs them), real Redis, the
// fake Slack Web API. The click is answered to the clicker, and the watch's
// own lines (here "round 1 was not run", refused by the rate limit) go to the
// clicker's channel and thread, never into the other channel. No worker runs:
// nothing is probed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleAction } from '../../src/pipeline/actions.js';
import { handleCommand, type IntakeDeps } from '../../src/pipeline/intake.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';
import { until } from '../pipeline/platform-base.js';
import { FakeSlack, slackSignature, slashCommandForm } from './fake-slack.js';

const SECRET = 'lab-signing-secret';
const MINE = 'C0INCIDENT';
const OTHER = 'C0OTHER';
/** A message of the clicker's channel the button is (claimed to be) on. */
const CLICKED_TS = '1699999999.000100';

let dir: string;
let prefix: string;
let backend: Backend;
let fake: FakeSlack;
let slack: RunningSlack;
let poster: Closeable;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-watch-channels-'));
  const file = join(dir, 'inventory.yaml');
  // 198.18.201.1 is never contacted: no worker runs in this test.
  writeFileSync(
    file,
    [
      'loadBalancers:',
      `  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "SHA256:${'a'.repeat(43)}" }`,
      'vips:',
      '  web-vip: { address: 198.18.201.1, port: 80, lb: edge }',
      'policy:',
      '  rules:',
      '    - name: oncall',
      '      users: [slack:U0ONCALL, slack:U0OTHER]',
      `      channels: [slack:${MINE}, slack:${OTHER}]`,
      "      targets: ['*']",
      // One check a minute per user: the watch's start counts, so its first round is refused.
      '  limits: { perUserPerMinute: 1, perChannelPerMinute: 1000, inFlightPerTarget: 1000 }',
      '',
    ].join('\n'),
  );
  const inventory = loadInventory(file);
  prefix = `lbw-${randomBytes(4).toString('hex')}`;
  backend = await connectBackend(readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix }), false);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  const audit = new AuditLog(join(dir, 'audit'));
  const deps: IntakeDeps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory: () => inventory,
    log,
    prefix: '/lbcheck',
    audit,
    watchTimeScale: 0.02,
  };
  fake = await new FakeSlack().start();
  slack = await startSlack({
    botToken: 'xoxb-lab',
    signingSecret: SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    fileMaxBytes: 1024 * 1024,
    log,
    intake: (incoming) => handleCommand(incoming, deps),
    action: (incoming, action) => handleAction(incoming, action, deps),
    policy: () => inventory.policy,
    claimOnce: (key, ttl) => backend.intakeState.claimOnce(key, ttl),
  });
  poster = startReportPoster(backend, [slack.poster], log, audit, deps);
});
after(async () => {
  await poster?.close();
  await slack?.close();
  await fake?.close();
  await backend?.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

async function slash(text: string, user: string, channel: string): Promise<string> {
  const form = slashCommandForm(text, fake.port, { user, channel });
  const res = await fetch(`http://127.0.0.1:${slack.port}/slack/commands`, {
    method: 'POST',
    headers: slackSignature(SECRET, form),
    body: form,
  });
  return ((await res.json()) as { text: string }).text;
}

/** A signed block_actions click on lbcheck's `kind` button naming `checkId`, from `channel`. */
async function click(kind: string, checkId: string, user: string, channel: string): Promise<number> {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'oncall', name: 'oncall', team_id: 'T0LAB' },
    api_app_id: 'A0LAB',
    token: 'legacy',
    container: { type: 'message', message_ts: CLICKED_TS, channel_id: channel, is_ephemeral: false },
    trigger_id: '1.2.4',
    team: { id: 'T0LAB', domain: 'lab' },
    channel: { id: channel, name: 'incident' },
    message: { type: 'message', ts: CLICKED_TS, text: '' },
    response_url: `http://127.0.0.1:${fake.port}/respond-action`,
    actions: [
      {
        type: 'button',
        action_id: `lbcheck:${kind}`,
        block_id: `lbcheck-actions-${checkId}`,
        value: checkId,
        text: { type: 'plain_text', text: kind },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`http://127.0.0.1:${slack.port}/slack/actions`, {
    method: 'POST',
    headers: slackSignature(SECRET, form),
    body: form,
  });
  await res.arrayBuffer();
  return res.status;
}

const postsIn = (channel: string): { text: string; thread?: string }[] =>
  fake
    .callsOf('chat.postMessage')
    .filter((c) => c.args.channel === channel)
    .map((c) => ({ text: c.args.text ?? '', ...(c.args.thread_ts ? { thread: c.args.thread_ts } : {}) }));

describe("a Watch click naming another channel's check", () => {
  it("is answered to the clicker, and the watch's refusal notice goes to the clicker's thread, not the other channel", async () => {
    const ack = await slash('web-vip', 'U0OTHER', OTHER);
    const other = /(chk-[0-9a-f]{10})/.exec(ack)?.[1] ?? assert.fail(`not a queued ack: ${ack}`);
    await until(() => postsIn(OTHER).some((p) => p.text.includes(other)), "the other channel's check parent");
    const otherBefore = postsIn(OTHER).length;

    assert.equal(await click('watch', other, 'U0ONCALL', MINE), 200);
    await until(() => fake.responses.some((r) => r.path === '/respond-action'), 'the answer to the click');
    const answer = fake.responses.find((r) => r.path === '/respond-action')?.body;
    assert.equal(answer?.response_type, 'ephemeral');
    const watchId = /Watching web-vip as (wch-[0-9a-f]{10})/.exec(String(answer?.text))?.[1];
    assert.ok(watchId, `not a watch ack: ${String(answer?.text)}`);

    await until(
      () => postsIn(MINE).some((p) => p.text.startsWith(`Watch ${watchId}: round 1 was not run`)),
      "the round's refusal notice in the clicker's channel",
    );
    const notice = postsIn(MINE).find((p) => p.text.startsWith(`Watch ${watchId}: round 1 was not run`));
    assert.equal(notice?.thread, CLICKED_TS);
    assert.match(notice?.text ?? '', /limit of 1 checks per minute/);
    // Give a misrouted post time to arrive: the later rounds (every 600 ms here) post their notices too.
    await until(
      () => postsIn(MINE).some((p) => p.text.startsWith(`Watch ${watchId}: round 2 was not run`)),
      'the second round',
    );
    assert.equal(postsIn(OTHER).length, otherBefore, JSON.stringify(postsIn(OTHER).slice(otherBefore)));
    assert.ok(postsIn(OTHER).every((p) => !p.text.includes(watchId)));
  });
});
