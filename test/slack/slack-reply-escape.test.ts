// An intake reply is plain text (IntakeReply): `status <check-id>` quotes the step summaries (the server's status
// line) and the check's error (the LB's stderr), so a hostile server's "<https://evil.example|Sign in>" must reach
// Slack escaped in the slash command's answer and in a button's answer, never as a link or a mention. Real Bolt
// over HTTP, requests signed as Slack signs them; the fake Web API takes the button's response_url.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
import { createLogger } from '../../src/log.js';
import { handleCommand, type IntakeDeps, type IntakeReply } from '../../src/pipeline/intake.js';
import { HOSTILE, hostileDeps, storeHostileCheck } from '../messages/hostile-status.js';
import { until } from '../pipeline/platform-base.js';
import { FakeSlack, slackSignature, slashCommandForm } from './fake-slack.js';

const SECRET = 'escape-signing-secret';
let fake: FakeSlack;
let slack: RunningSlack;
let deps: IntakeDeps;
let checkId: string;
/** What a button click answers (the action handler is a stand-in: the adapter's escaping is under test). */
let buttonReply: IntakeReply = { kind: 'info', text: 'unset' };

before(async () => {
  fake = await new FakeSlack().start();
  deps = hostileDeps('slack:U0ONCALL', '/lbcheck');
  checkId = await storeHostileCheck(deps, { platform: 'slack', id: 'U0ONCALL', name: 'oncall' });
  slack = await startSlack({
    botToken: 'xoxb-lab',
    signingSecret: SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    fileMaxBytes: 1024,
    log: createLogger('silent'),
    intake: (incoming) => handleCommand(incoming, deps),
    action: () => Promise.resolve(buttonReply),
  });
});
after(async () => {
  await slack?.close();
  await fake?.close();
});

async function slash(text: string): Promise<string> {
  const form = slashCommandForm(text, fake.port);
  const res = await fetch(`http://127.0.0.1:${slack.port}/slack/commands`, {
    method: 'POST',
    headers: slackSignature(SECRET, form),
    body: form,
  });
  assert.equal(res.status, 200);
  return (JSON.parse(await res.text()) as { text: string }).text;
}

let clicks = 0;
async function click(): Promise<string> {
  const before = fake.responses.length;
  const n = ++clicks; // each click its own trigger and time: two identical clicks would be refused as a replay
  const payload = {
    type: 'block_actions',
    user: { id: 'U0ONCALL', username: 'oncall', name: 'oncall', team_id: 'T0LAB' },
    api_app_id: 'A0LAB',
    token: 'legacy',
    container: { type: 'message', message_ts: '1.000001', channel_id: 'C0INCIDENT', is_ephemeral: false },
    trigger_id: `${n}.2.4`,
    team: { id: 'T0LAB', domain: 'lab' },
    channel: { id: 'C0INCIDENT', name: 'incident' },
    message: { type: 'message', ts: '1.000001', text: '' },
    response_url: `http://127.0.0.1:${fake.port}/respond-action`,
    actions: [
      {
        type: 'button',
        action_id: 'lbcheck:cancel',
        block_id: `lbcheck-actions-${checkId}`,
        value: checkId,
        text: { type: 'plain_text', text: 'Cancel' },
        action_ts: `${n}.000002`,
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
  assert.equal(res.status, 200);
  await until(() => fake.responses.length > before, 'the button answer on the response_url');
  return String(fake.responses.at(-1)?.body.text);
}

/** No Slack markup can form in text with no raw < or >; & only as the start of an entity. */
function assertInert(text: string): void {
  assert.doesNotMatch(text, /[<>]/, text);
  assert.doesNotMatch(text, /&(?!amp;|lt;|gt;)/, text);
}

describe('Slack: intake replies are plain text, escaped', () => {
  it('status <check-id> shows the hostile step summary and error escaped, not as a link or mention', async () => {
    const text = await slash(`status ${checkId}`);
    assert.match(text, new RegExp(`^${checkId} · web-vip · failed`));
    assert.ok(text.includes('server said HTTP/1.1 502 &lt;https://evil.example|Sign in&gt;'), text);
    assert.ok(text.includes('error: ssh: HTTP/1.1 502 &lt;https://evil.example|Sign in&gt;'), text);
    assert.ok(text.includes('&lt;!channel&gt;'), text);
    assertInert(text);
  });

  it("a refusal keeps its :x: and escapes the intake's text (help's <command> shows as typed)", async () => {
    const text = await slash('status chk-&<nope>');
    assert.match(text, /^:x: /);
    assertInert(text);
    assert.ok((await slash('help')).includes('Usage: /lbcheck &lt;command&gt;'));
  });

  it("a button's answer is escaped too", async () => {
    buttonReply = { kind: 'info', text: `step 1: ${HOSTILE}` };
    const info = await click();
    assert.equal(info, `step 1: ${HOSTILE.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
    assertInert(info);
    buttonReply = { kind: 'refused', text: `cannot: ${HOSTILE}` };
    const refused = await click();
    assert.match(refused, /^:x: cannot: HTTP\/1\.1 502 &lt;https:\/\/evil\.example\|Sign in&gt;/);
    assertInert(refused);
  });
});
