// An intake reply is plain text (IntakeReply): `status <check-id>` quotes the step summaries (the server's status
// line) and the check's error (the LB's stderr), so a hostile server's "[x](https://evil.example)" must reach Teams
// escaped, in the answer to a mention and in a button's answer (the invoke response), never as a link or HTML.
// Real botbuilder in local mode against the fake connector.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import { handleCommand, type IntakeDeps, type IntakeReply } from '../../src/pipeline/intake.js';
import { HOSTILE, hostileDeps, storeHostileCheck } from '../messages/hostile-status.js';
import { FakeConnector } from './fake-connector.js';
import { startLocalTeams } from './local-teams.js';

const CHANNEL = '19:incident@thread.tacv2';
/** A signed link as the bot makes them: base64url segments hold "_" and "-", which Teams' escapes must not break. */
const LINK = 'https://lbcheck.example/i/1700000000/ab12/WyJjaGstMDEyMzQ1Njc4OSJd_x-y/incident.md';
let connector: FakeConnector;
let teams: RunningTeams;
let deps: IntakeDeps;
let checkId: string;
/** What a button click answers (the action handler is a stand-in: the adapter's escaping is under test). */
let buttonReply: IntakeReply = { kind: 'info', text: 'unset' };
let seq = 0;

before(async () => {
  connector = await new FakeConnector().start();
  deps = hostileDeps('teams:aad-oncall', '@lbcheck');
  checkId = await storeHostileCheck(deps, { platform: 'teams', id: 'aad-oncall', name: 'On Call' });
  teams = await startLocalTeams({
    intake: (incoming) =>
      incoming.text === 'linked'
        ? Promise.resolve({ kind: 'info', text: `Incident export of this thread: ${LINK} (*expires*)`, link: LINK })
        : handleCommand(incoming, deps),
    action: () => Promise.resolve(buttonReply),
  });
});
after(async () => {
  await teams?.close();
  await connector?.close();
});

const activityBase = (conversationId: string): Record<string, unknown> => ({
  id: `${1_700_000_000_000 + ++seq}`,
  timestamp: new Date().toISOString(),
  serviceUrl: connector.serviceUrl,
  channelId: 'msteams',
  from: { id: '29:user', name: 'On Call', aadObjectId: 'aad-oncall' },
  conversation: { id: conversationId, conversationType: 'channel', tenantId: 'tenant-lab' },
  recipient: { id: '28:lbcheck-bot', name: 'lbcheck' },
  channelData: { tenant: { id: 'tenant-lab' }, team: { id: 'team-incident' } },
});

async function post(activity: Record<string, unknown>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });
  assert.equal(res.status, 200);
  return res.text();
}

/** Mentions the bot with `text` in a new reply chain; the answer's text as the connector received it. */
async function mention(text: string): Promise<string> {
  const conversationId = `${CHANNEL};messageid=${1_700_000_000_000 + ++seq}`;
  await post({
    ...activityBase(conversationId),
    type: 'message',
    text: `<at>lbcheck</at> ${text}`,
    entities: [{ type: 'mention', mentioned: { id: '28:lbcheck-bot', name: 'lbcheck' }, text: '<at>lbcheck</at>' }],
  });
  const answers = connector.sent.filter((s) => s.conversationId === conversationId);
  assert.equal(answers.length, 1, JSON.stringify(answers));
  return answers[0]?.activity.text ?? '';
}

async function click(): Promise<string> {
  const raw = await post({
    ...activityBase(`${CHANNEL};messageid=1700000000000`),
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb: 'lbcheck.cancel', data: { checkId } }, trigger: 'manual' },
  });
  return (JSON.parse(raw) as { value?: string }).value ?? '';
}

/** Neither a markdown link nor HTML can form: every [ ] is escaped and no raw < or > is left. */
function assertInert(text: string): void {
  assert.doesNotMatch(text, /(?<!\\)[[\]]/, text);
  assert.doesNotMatch(text, /[<>]/, text);
}

describe('Teams: intake replies are plain text, escaped', () => {
  it('status <check-id> shows the hostile step summary and error escaped, not as a link', async () => {
    const text = await mention(`status ${checkId}`);
    assert.match(text, new RegExp(`^${checkId} · web-vip · failed`));
    assert.ok(
      text.includes('server said HTTP/1.1 502 &lt;https://evil.example\\|Sign in&gt; \\[x\\](https://evil.example)'),
      text,
    );
    assert.ok(text.includes('error: ssh: HTTP/1.1 502 &lt;https://evil.example\\|Sign in&gt;'), text);
    assert.ok(text.includes('\\*\\*now\\*\\*'), text);
    assertInert(text);
  });

  it("help's <command> shows as typed, not swallowed as HTML", async () => {
    assert.match(await mention('help'), /^Usage: @lbcheck &lt;command&gt;/);
  });

  it("a button's answer (the invoke response) is escaped too, a refusal keeping its ❌", async () => {
    buttonReply = { kind: 'info', text: `step 1: ${HOSTILE}` };
    const info = await click();
    assert.ok(info.includes('\\[x\\](https://evil.example)'), info);
    assertInert(info);
    buttonReply = { kind: 'refused', text: `cannot: ${HOSTILE}` };
    const refused = await click();
    assert.match(refused, /^❌ cannot: HTTP\/1\.1 502 &lt;https:\/\/evil\.example\\\|Sign in&gt;/);
    assertInert(refused);
  });

  it('a link the bot made itself (reply.link) stays a working link; the text around it is escaped', async () => {
    const text = await mention('linked');
    const escapedLink = LINK.replace(/_/g, '\\_');
    assert.equal(text, `Incident export of this thread: [${escapedLink}](${LINK}) (\\*expires\\*)`);
  });
});
