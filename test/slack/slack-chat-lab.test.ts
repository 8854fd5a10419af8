// Slack chat that says what happens: the parent message as soon as a check is
// queued, server text posted as data, and results through the slash command's
// response_url where the bot is not a member. Real Bolt over signed HTTP, the
// lab behind it, the fake Web API recording every call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord, PostRecord } from '../../src/audit/audit-record.js';
import { waitHealthy, type Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from '../pipeline/platform-base.js';
import { messageText, sectionsOf, type FakeSlack } from './fake-slack.js';
import { startSlackStack, type SlackStack } from './slack-stack.js';

let lab: Lab;
let stack: SlackStack;
let fake: FakeSlack;

useLab({ serverCount: 2, heal: true, reset: () => fake.notInChannel.clear() }, async (started, own) => {
  lab = started;
  stack = own(await startSlackStack(lab, true));
  fake = stack.fake;
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
    // The answer, steps 1 and 2, then step 3 (no files) with the diagnosis: four of a response_url's five uses.
    assert.equal(texts.length, 4, texts.join('\n---\n'));
    const tail = texts;
    assert.match(tail[0] ?? '', /Invite @lbcheck to this channel for threaded results \(type `\/invite @lbcheck`\)/);
    assert.match(tail[0] ?? '', new RegExp(`${id}: checking haproxy-http, step 1 running`));
    assert.match(tail[1] ?? '', /^✔ Step 1/);
    assert.match(tail[3] ?? '', /^No fault found: /);
    assert.match(sectionsOf(mine[3]?.body.blocks), /^✔ Step 3 [^]*^No fault found: /m);
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

/** The ts of a check's parent message (the fake hands out ts values in order of successful posts). */
function parentTs(checkId: string): string {
  const posts = fake.callsOf('chat.postMessage');
  const i = posts.findIndex((c) => !c.args.thread_ts && (c.args.text ?? '').includes(checkId));
  assert.ok(i >= 0, `no parent for ${checkId}`);
  return `${1_700_000_000 + i}.000100`;
}

/**
 * The messages in a thread as Slack shows them: a step whose files were uploaded before its turn goes out as the
 * file share's own message, not as a chat.postMessage (SlackPoster.messageFirst), so both count.
 */
const repliesIn = (ts: string): string[] => fake.threadCalls(ts).map(messageText);

/** What the clicker was told (ephemeral, through the action's response_url), newest last. */
const toldClicker = (): string[] =>
  fake.responses
    .filter((r) => r.path === '/respond-action')
    .map((r) => (typeof r.body.text === 'string' ? r.body.text : ''));

describe('Slack buttons', () => {
  it('the parent offers Cancel while running and Re-run, Run all steps, Watch after a stop; re-run and run-all post in the same thread once each, with the diff', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const first = idOf((await stack.slash('nginx')).body);
    await until(finished(first), 'the first diagnosis');
    const ts = parentTs(first);
    const parentPost = fake.callsOf('chat.postMessage').find((c) => c.args.text?.includes(first) && !c.args.thread_ts);
    assert.match(parentPost?.args.blocks ?? '', /"action_id":"lbcheck:cancel"/);
    const update = fake
      .callsOf('chat.update')
      .filter((c) => c.args.ts === ts)
      .at(-1);
    assert.match(update?.args.blocks ?? '', /lbcheck:rerun.*lbcheck:run-all.*lbcheck:watch/);

    // Re-run: the fault is still on, the diagnosis is the same, and it says so.
    const rerun = await stack.click('rerun', first, { ts });
    assert.equal(rerun.status, 200);
    await until(() => toldClicker().some((t) => /^Queued chk-/.test(t)), 'the clicker is told');
    const second = /Queued (chk-[0-9a-f]{10})/.exec(toldClicker().at(-1) ?? '')?.[1] ?? assert.fail('no id');
    assert.match(toldClicker().at(-1) ?? '', /follows in this thread/);
    await until(finished(second), 'the re-run diagnosis');

    // Run all steps after the fault is gone: every step, the diff names what changed.
    await lab.faults.clear();
    await waitHealthy(lab);
    await stack.click('run-all', second, { ts });
    await until(() => toldClicker().filter((t) => /^Queued chk-/.test(t)).length === 2, 'the second click answer');
    const third = /Queued (chk-[0-9a-f]{10})/.exec(toldClicker().at(-1) ?? '')?.[1] ?? assert.fail('no id');
    await until(finished(third), 'the run-all diagnosis');

    for (const id of [second, third]) {
      assert.equal(
        fake.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts && c.args.text?.includes(id)).length,
        0,
        `${id} opened no new parent`,
      );
      for (const p of postsOf(id)) assert.equal(p.thread, ts, `${id} ${p.kind} went to the first thread`);
    }
    const replies = repliesIn(ts);
    const finals = replies.filter((t) => /^Diagnosis|^No fault found/.test(t));
    assert.equal(finals.length, 3, replies.join('\n'));
    const finalBlocks = (id: string): string =>
      fake
        .callsOf('chat.postMessage')
        .filter((c) => c.args.thread_ts === ts && /^Diagnosis|^No fault found/.test(c.args.text ?? ''))
        .map((c) => c.args.blocks ?? '')
        .find((b) => b.includes(`Since ${id}`)) ?? '';
    assert.match(finalBlocks(first), /culprit unchanged: path-to-lb/);
    const changed = finalBlocks(second);
    assert.match(changed, /step 1 reach: FAIL → PASS/);
    assert.match(changed, /step 3 servers: SKIPPED → PASS/);
    assert.match(changed, /culprit path-to-lb → none/);
    // Run all steps ran every step; each step of the three checks was posted once.
    assert.equal(postsOf(third).filter((p) => p.kind === 'step').length, 3);
    assert.equal(replies.filter((t) => /^✘ Step 1/.test(t)).length, 2);
    assert.equal(replies.filter((t) => /^✔ Step 1/.test(t)).length, 1);
    // history <target>: the sequence, oldest first, with the re-runs named.
    const history = JSON.parse((await stack.slash('history nginx')).body) as { text: string };
    assert.match(history.text, /Culprit over time: (.* → )?path-to-lb → path-to-lb → none$/);
    assert.match(history.text, new RegExp(`${third} · nginx · done · culprit none .* · re-run of ${second}`));
    // The clicks are recorded as the clicker's commands.
    const commands = stack.audit.records().filter((r) => r.type === 'command' && r.command.startsWith('[button]'));
    assert.deepEqual(
      commands.map((r) => (r.type === 'command' ? [r.command, r.outcome] : [])),
      [
        ['[button] nginx', 'queued'],
        ['[button] nginx --all', 'queued'],
      ],
    );
  });

  it('Cancel stops a running check; a click by a user the policy refuses is refused to them only, and audited', async () => {
    await lab.faults.serversMisbehave('hang');
    const id = idOf((await stack.slash('haproxy-http')).body);
    await until(
      () => fake.callsOf('chat.postMessage').some((c) => !c.args.thread_ts && c.args.text?.includes(id)),
      'the parent',
    );
    const ts = parentTs(id);
    const before = toldClicker().length;
    await stack.click('cancel', id, { ts }, { user: 'U0STRANGER' });
    await until(() => toldClicker().length > before, 'the refusal');
    assert.match(toldClicker().at(-1) ?? '', /^:x: Refused by the lbcheck policy: you \(slack:U0STRANGER\)/);
    const refusal = stack.audit
      .records()
      .find((r) => r.type === 'command' && r.user === 'U0STRANGER' && r.command === `[button] cancel ${id}`);
    assert.equal(refusal?.type === 'command' ? refusal.outcome : undefined, 'refused');

    await stack.click('cancel', id, { ts });
    await until(() => toldClicker().length > before + 1, 'the cancel answer');
    assert.match(toldClicker().at(-1) ?? '', new RegExp(`Cancell(ing|ed) ${id}`));
    await until(() => postsOf(id).some((p) => p.kind === 'cancelled'), 'the cancelled notice');
    assert.ok(repliesIn(ts).some((t) => t.includes(`Check ${id} was cancelled by oncall`)));
    assert.equal((await stack.backend.state.getCheck(id))?.status, 'cancelled');
    assert.ok(!postsOf(id).some((p) => p.kind === 'final'), 'no diagnosis after a cancel');
    // The parent no longer says "step 1 running…" nor offers Cancel (updated before the notice's audit record).
    const parent = fake
      .callsOf('chat.update')
      .filter((c) => c.args.ts === ts)
      .at(-1);
    assert.ok(parent, 'the parent was updated after the cancel');
    assert.doesNotMatch(parent.args.blocks ?? '', /lbcheck:cancel|running/);
    assert.match(parent.args.blocks ?? '', /Cancelled: see this thread\./);
    assert.match(parent.args.blocks ?? '', /"action_id":"lbcheck:rerun".*"action_id":"lbcheck:watch"/);
  });

  it('a click with a bad signature is refused (401) and runs nothing', async () => {
    const before = fake.calls.length;
    const r = await stack.click('rerun', 'chk-0123456789', { ts: '1.1' }, { secret: 'wrong' });
    assert.equal(r.status, 401);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(fake.calls.length, before);
  });
});

describe('Slack: watch until fixed', () => {
  // The intake's TEST-ONLY time scale: "--every 10s" runs every 200 ms, "--for 1m" lasts 1.2 s.
  let w: SlackStack;
  before(async () => {
    w = await startSlackStack(lab, true, { watchTimeScale: 0.02 });
  });
  after(async () => {
    await w?.close();
  });

  const watchIdOf = (body: string): string =>
    /Watching \S+ as (wch-[0-9a-f]{10})/.exec(body)?.[1] ?? assert.fail(`not a watch ack: ${body}`);
  const roundsOf = (watchId: string): number =>
    w.audit.records().filter((r) => r.type === 'command' && r.command.startsWith(`[watch ${watchId}] `)).length;
  const watchLines = (): string[] =>
    w.fake
      .callsOf('chat.postMessage')
      .map((c) => c.args.text ?? '')
      .filter((t) => t.startsWith('Watch wch-'));
  const threadOfWatch = (watchId: string): string[] => {
    const first = w.audit
      .records()
      .find((r) => r.type === 'command' && r.command.startsWith(`[watch ${watchId}] `) && r.checkId);
    const checkId = first?.type === 'command' ? first.checkId : undefined;
    // No round queued yet: no thread (threadOf('') would match any parent).
    return checkId ? w.fake.threadOf(checkId) : [];
  };

  it('posts the first check, stays silent while nothing changes, posts the change to none with the diff, and ends', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const ack = JSON.parse((await w.slash('watch nginx --every 10s --for 2h')).body) as { text: string };
    const id = watchIdOf(ack.text);
    assert.match(ack.text, /a check every 10s for up to 2h/);
    // One watch per target per channel.
    const again = JSON.parse((await w.slash('watch nginx')).body) as { text: string };
    assert.match(again.text, new RegExp(`nginx is already watched in this channel \\(${id}`));
    await until(() => roundsOf(id) >= 3, 'three rounds', 30_000);
    await lab.faults.clear();
    await until(
      () => watchLines().some((t) => t.includes(`Watch ${id} of nginx ended: no fault found`)),
      'the end',
      30_000,
    );
    const thread = threadOfWatch(id);
    const diagnoses = thread.filter((t) => /^Diagnosis|^No fault found/.test(t));
    assert.deepEqual(
      diagnoses.map((t) => /^Diagnosis: [A-Z-]+|^No fault found/.exec(t)?.[0]),
      ['Diagnosis: PATH-TO-LB', 'No fault found'],
      thread.join('\n'),
    );
    // Steps of the first round only: later rounds post nothing but a changed diagnosis.
    assert.equal(thread.filter((t) => /^✘ Step 1/.test(t)).length, 1);
    assert.equal(thread.at(-1), `Watch ${id} of nginx ended: no fault found. Last diagnosis: none.`);
    const lastFinal = w.fake
      .callsOf('chat.postMessage')
      .filter((c) => (c.args.text ?? '').startsWith('No fault found'))
      .at(-1);
    assert.match(lastFinal?.args.blocks ?? '', /culprit path-to-lb → none/);
    const rounds = roundsOf(id);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(roundsOf(id), rounds, 'no round after the end');
  });

  it('ends when its time is up', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const id = watchIdOf(
      (JSON.parse((await w.slash('watch nginx --every 10s --for 1m')).body) as { text: string }).text,
    );
    await until(
      () => watchLines().some((t) => t.includes(`Watch ${id} of nginx ended: its time is up`)),
      'the end',
      30_000,
    );
    const thread = threadOfWatch(id);
    assert.equal(thread.filter((t) => /^Diagnosis/.test(t)).length, 1, thread.join('\n'));
    assert.match(thread.at(-1) ?? '', /ended: its time is up\. Last diagnosis: path-to-lb\./);
  });

  it('stops on cancel, and only its owner may cancel it', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const id = watchIdOf(
      (JSON.parse((await w.slash('watch nginx --every 10s --for 2h')).body) as { text: string }).text,
    );
    await until(() => threadOfWatch(id).some((t) => /^Diagnosis/.test(t)), 'the first round', 30_000);
    const stranger = JSON.parse((await w.slash(`cancel ${id}`, { user: 'U0INGROUP' })).body) as { text: string };
    assert.match(stranger.text, new RegExp(`no watch ${id} of yours`));
    const cancel = JSON.parse((await w.slash(`cancel ${id}`)).body) as { text: string };
    assert.equal(cancel.text, `Cancelled watch ${id} of nginx.`);
    await until(() => watchLines().some((t) => t === `Watch ${id} of nginx was cancelled by oncall.`), 'the line');
    const rounds = roundsOf(id);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(roundsOf(id), rounds, 'no round after the cancel');
  });

  it('resumes after the bot side restarts: the rounds are delayed jobs and the state is in Redis', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const id = watchIdOf(
      (JSON.parse((await w.slash('watch nginx --every 10s --for 2h')).body) as { text: string }).text,
    );
    await until(() => roundsOf(id) >= 2, 'two rounds', 30_000);
    await w.restartBotSide();
    const before = roundsOf(id);
    await until(() => roundsOf(id) >= before + 2, 'rounds run by the restarted bot side', 30_000);
    await lab.faults.clear();
    await until(
      () => watchLines().some((t) => t.includes(`Watch ${id} of nginx ended: no fault found`)),
      'the end',
      30_000,
    );
  });
});
