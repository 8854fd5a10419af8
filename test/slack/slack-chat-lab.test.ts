// Slack chat that says what happens: the parent message as soon as a check is
// queued, server text posted as data, and results through the slash command's
// response_url where the bot is not a member. Real Bolt over signed HTTP, the
// lab behind it, the fake Web API recording every call.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { AuditRecord, PostRecord } from '../../src/audit/audit-record.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { until } from '../pipeline/platform-base.js';
import type { FakeSlack } from './fake-slack.js';
import { startSlackStack, type SlackStack } from './slack-stack.js';

let lab: Lab;
let stack: SlackStack;
let fake: FakeSlack;

before(async () => {
  lab = await startLab({ serverCount: 2 });
  stack = await startSlackStack(lab, true);
  fake = stack.fake;
});
after(async () => {
  await stack?.close();
  lab?.teardown();
});
afterEach(async () => {
  fake.notInChannel.clear();
  await lab.faults.clear();
  await waitHealthy(lab);
});

const idOf = (body: string): string =>
  /Queued (chk-[0-9a-f]{10})/.exec(body)?.[1] ?? assert.fail(`not an ack: ${body}`);

const postsOf = (checkId: string): (AuditRecord & PostRecord)[] =>
  stack.audit.records().filter((r): r is AuditRecord & PostRecord => r.type === 'post' && r.checkId === checkId);

const finished = (checkId: string) => (): boolean => postsOf(checkId).some((p) => p.kind === 'final');

describe('Slack: words and posts that match what happens', () => {
  it('the ack says where results appear; the parent is posted when the check is queued, before step 1', async () => {
    const ack = await stack.slash('haproxy-http');
    assert.match(ack.body, /Each step's verdict follows in the thread of lbcheck's message in this channel/);
    const id = idOf(ack.body);
    await until(finished(id), 'the diagnosis');
    const kinds = postsOf(id).map((p) => (p.kind === 'step' ? `step${p.step}` : p.kind));
    assert.deepEqual(kinds, ['queued', 'step1', 'step2', 'step3', 'final']);
    const parents = fake.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts && c.args.text?.includes(id));
    assert.equal(parents.length, 1, 'one parent message');
    assert.match(parents[0]?.args.text ?? '', /checking haproxy-http, step 1 running…/);
    assert.equal(postsOf(id)[0]?.thread, postsOf(id)[1]?.thread, 'step 1 went to the thread the queued post opened');
    assert.equal(fake.threadOf(id).at(-1)?.startsWith('No fault found: '), true, fake.threadOf(id).at(-1));
  });

  it('a hostile status line and Server header are posted escaped: no channel mention, no link', async () => {
    await lab.faults.serversMisbehave('hostile');
    const id = idOf((await stack.slash('dnat')).body);
    await until(finished(id), 'the diagnosis');
    const thread = fake.threadOf(id);
    const step2 = thread.find((t) => t.startsWith('✔ Step 2') || t.includes('Step 2'));
    assert.ok(step2, thread.join('\n'));
    // The server's words are there, as text.
    assert.match(step2, /&lt;!channel&gt; &lt;https:\/\/evil\.example\|click&gt;/);
    for (const c of fake.calls.filter((x) => x.method.startsWith('chat.'))) {
      const all = `${c.args.text ?? ''} ${c.args.blocks ?? ''}`;
      assert.doesNotMatch(all, /<!channel>|<!here>|<https:\/\/evil/, `${c.method} carried live markup`);
    }
  });

  it('not_in_channel: results go through the response_url with the /invite hint, and the audit says so', async () => {
    fake.notInChannel.add('C0INCIDENT');
    fake.responses.length = 0;
    const id = idOf((await stack.slash('haproxy-http')).body);
    await until(finished(id), 'the diagnosis');
    const mine = fake.responses;
    const texts = mine.map((r) => (typeof r.body.text === 'string' ? r.body.text : ''));
    assert.equal(texts.length, 5, texts.join('\n---\n'));
    const tail = texts;
    assert.match(tail[0] ?? '', /Invite @lbcheck to this channel for threaded results \(type `\/invite @lbcheck`\)/);
    assert.match(tail[0] ?? '', new RegExp(`${id}: checking haproxy-http, step 1 running`));
    assert.match(tail[1] ?? '', /^✔ Step 1/);
    assert.match(tail[4] ?? '', /^No fault found: /);
    assert.ok(mine.every((r) => r.body.response_type === 'ephemeral'));
    const posts = postsOf(id);
    assert.equal(posts.length, 5);
    for (const p of posts) assert.equal(p.via, 'response_url (not_in_channel)', `${p.kind} ${p.step ?? ''}`);
    assert.ok(fake.calls.some((c) => c.method === 'chat.postMessage (not_in_channel)'));
    assert.equal(
      fake
        .callsOf('files.completeUploadExternal')
        .filter((c) => c.args.channel_id === 'C0INCIDENT' && c.args.initial_comment?.includes(id)).length,
      0,
    );
  });
});
