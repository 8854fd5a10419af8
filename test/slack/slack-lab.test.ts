// Slack end to end: signed slash commands into real Bolt over HTTP, checks on
// the lab through Redis and BullMQ, posts and uploads through the real
// WebClient to a local fake of the Slack Web API.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { PostRecord } from '../../src/audit/audit-record.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from '../pipeline/platform-base.js';
import { messageText, type FakeSlack } from './fake-slack.js';
import { startSlackStack, type SlackStack } from './slack-stack.js';

let lab: Lab;
let stack: SlackStack;
let fake: FakeSlack;
let audit: AuditLog;

useLab({ serverCount: 2, heal: true }, async (started, own) => {
  lab = started;
  stack = own(await startSlackStack(lab, true));
  fake = stack.fake;
  audit = stack.audit;
});

const slash = (text: string, opts?: Parameters<SlackStack['slash']>[1]): ReturnType<SlackStack['slash']> =>
  stack.slash(text, opts);

const idOf = (body: string): string =>
  /Queued (chk-[0-9a-f]{10})/.exec(body)?.[1] ?? assert.fail(`not an ack: ${body}`);

/**
 * Every step headline and diagnosis in a check's thread, in the order shown (a step without files goes out in
 * the diagnosis's message: docs/chat-path.md).
 */
function headlines(checkId: string): string[] {
  return fake
    .threadSectionsOf(checkId)
    .flatMap((t) => t.match(/^(?:✔|✘|⚠|–|\?) Step \d|^Diagnosis|^No fault found/gm) ?? [t]);
}

/** The thread of one check: its parent post and the replies under it (posts and file shares with a message). */
function thread(checkId: string): { parentTs: string; replies: string[] } {
  const parentTs = fake.parentTs(checkId);
  assert.ok(parentTs, `no parent message for ${checkId}`);
  return { parentTs, replies: fake.threadCalls(parentTs).map(messageText) };
}

/** A check's end as the channel sees it: its diagnosis in the thread and its parent updated (sent together). */
const ended = (slack: FakeSlack, checkId: string) => (): boolean =>
  slack.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(checkId)) &&
  slack.threadOf(checkId).some((t) => /^(No fault found|Diagnosis)/.test(t));

/** Which step each file share in the thread carries files of (from its first file's title). */
const sharesByStep = (parentTs: string): string[] =>
  fake
    .callsOf('files.completeUploadExternal')
    .filter((c) => c.args.thread_ts === parentTs)
    .map((c) => /^step(\d)/.exec((JSON.parse(c.args.files ?? '[]') as { title: string }[])[0]?.title ?? '')?.[0] ?? '');

/** Files Slack shared into a thread: only uploads whose completeUploadExternal succeeded are visible. */
function sharedFiles(threadTs: string): { title: string; bytes: Buffer }[] {
  return fake
    .callsOf('files.completeUploadExternal')
    .filter((c) => c.args.thread_ts === threadTs)
    .flatMap((c) => JSON.parse(c.args.files ?? '[]') as { id: string; title: string }[])
    .map((f) => ({ title: f.title, bytes: fake.uploads.get(f.id) ?? Buffer.alloc(0) }));
}

/** Steps 1 and 2 each show their ladder PNG in the thread exactly once, the first file of their upload, byte for byte. */
function assertLaddersOnce(checkId: string): void {
  const { parentTs } = thread(checkId);
  const shared = sharedFiles(parentTs);
  const posts = audit
    .records()
    .filter((r): r is typeof r & PostRecord => r.type === 'post' && r.checkId === checkId && r.kind === 'step');
  for (const step of [1, 2]) {
    const png = posts.find((p) => p.step === step)?.evidence.find((e) => e.name === `step${step}-ladder.png`);
    assert.ok(png, `step ${step} has no ladder PNG in its audit record`);
    const copies = shared.filter((f) => createHash('sha256').update(f.bytes).digest('hex') === png.sha256);
    assert.equal(copies.length, 1, `step ${step}'s ladder shared ${copies.length} times`);
    assert.ok(copies[0]?.bytes.subarray(1, 4).equals(Buffer.from('PNG')));
  }
  const firstOfEach = fake
    .callsOf('files.completeUploadExternal')
    .filter((c) => c.args.thread_ts === parentTs)
    .map((c) => (JSON.parse(c.args.files ?? '[]') as { title: string }[])[0]?.title ?? '');
  for (const title of firstOfEach) assert.match(title, /^step\d-ladder\.png \(sha256 [0-9a-f]{12}\)$/);
}

describe('/lbcheck in Slack', () => {
  it('a healthy check: ack in the HTTP response, a parent message, steps and diagnosis in its thread, evidence uploaded byte for byte', async () => {
    const ack = await slash('haproxy-http');
    assert.equal(ack.status, 200);
    const id = idOf(ack.body);
    assert.match(ack.body, /"response_type":"ephemeral"/);
    await until(ended(fake, id), 'the diagnosis and the parent update');
    const { parentTs, replies } = thread(id);
    assert.deepEqual(headlines(id), ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'No fault found']);
    // Step 2 is a post or a file share carrying its message (docs/chat-path.md): the same blocks either way.
    const step2 = fake.threadCalls(parentTs).find((c) => messageText(c).startsWith('✔ Step 2'));
    const blocks = JSON.parse(step2?.args.blocks ?? '[]') as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
    }[];
    assert.match(blocks[0]?.text?.text ?? '', /^\*✔ Step 2 · How does the LB handle it\? PASS\*\nLayer 7 http proxy/);
    assert.ok(blocks[1]?.fields?.some((f) => f.text === '*Mode*\nL7 (http proxy)'));
    const update = fake.callsOf('chat.update').find((c) => c.args.ts === parentTs);
    assert.match(update?.args.blocks ?? '', /No fault found/);
    // Files: uploaded into the thread, one share per step; bytes match the sha256 in the audit record.
    // Steps 1 and 2 carry their ladder and a capture; the decode and step 3's evidence (commands, timings)
    // stay in the archive.
    assert.deepEqual(sharesByStep(parentTs), ['step1', 'step2']);
    const posts = audit
      .records()
      .filter((r): r is typeof r & PostRecord => r.type === 'post' && r.checkId === id && r.kind === 'step');
    for (const p of posts) {
      // One capture per step: the merged pcapng of both vantages where there is one (step 1), else the LB's.
      const capture =
        p.evidence.find((x) => x.name.endsWith('-both.pcapng')) ??
        p.evidence.find((x) => x.name.endsWith('-lb.pcapng'));
      if (p.step === 1) assert.equal(capture?.name, 'step1-both.pcapng');
      const shown = p.evidence.filter((x) => /-ladder\.png$/.test(x.name));
      for (const e of [...shown, ...(capture ? [capture] : [])]) {
        const uploaded = [...fake.uploads.values()].find(
          (b) => createHash('sha256').update(b).digest('hex') === e.sha256,
        );
        assert.ok(uploaded, `${e.name} of step ${p.step} was not uploaded intact`);
      }
      assert.equal(p.platform, 'slack');
      assert.equal(p.channel, 'C0INCIDENT');
      assert.equal(p.thread, parentTs);
      assert.equal(p.fileIds.length, p.step === 3 ? 0 : 2, `file ids of step ${p.step}`);
      for (const f of p.fileIds) assert.match(f, /^F\d{6}$/);
      // A step shared with its files may have no message ts from Slack: its file ids stand for it.
      assert.ok(p.messageIds[0] ?? p.fileIds[0], `step ${p.step} audited without a message or file id`);
    }
    assert.ok(replies[0]?.includes('Does the connection reach the LB'));
    assertLaddersOnce(id);
  });

  it('a failing check ends with the culprit and the team in the thread and on the parent', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const id = idOf((await slash('nginx')).body);
    await until(ended(fake, id), 'the diagnosis and the parent update');
    const { replies } = thread(id);
    assert.match(replies[0] ?? '', /^✘ Step 1/);
    assert.match(replies.at(-1) ?? '', /^Diagnosis: PATH-TO-LB: /);
  });

  it('429 with Retry-After and 500s from Slack: every post still lands once, in order', async () => {
    fake.failNext('chat.postMessage', 429, 1);
    fake.failNext('files.completeUploadExternal', 500);
    fake.failNext('chat.postMessage', 500);
    fake.failNext('chat.update', 429, 1);
    const id = idOf((await slash('dnat')).body);
    await until(ended(fake, id), 'the diagnosis and the parent update', 40_000);
    const { parentTs } = thread(id);
    assert.deepEqual(headlines(id), ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'No fault found']);
    assert.equal(
      fake.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts && (c.args.text ?? '').includes(id)).length,
      1,
      'one parent',
    );
    assert.deepEqual(sharesByStep(parentTs), ['step1', 'step2'], 'one share per step');
    assert.ok(fake.calls.some((c) => c.method === 'chat.postMessage (failed 429)'));
    assert.ok(fake.calls.some((c) => c.method === 'files.completeUploadExternal (failed 500)'));
    assertLaddersOnce(id);
  });

  it('refuses bad and stale signatures with 401 and queues nothing; refused users get the reason', async () => {
    const before = fake.calls.length;
    assert.equal((await slash('haproxy-http', { secret: 'wrong-secret' })).status, 401);
    assert.equal((await slash('haproxy-http', { timestamp: Math.floor(Date.now() / 1000) - 600 })).status, 401);
    // A member of the policy's Slack user group (looked up with usergroups.users.list) is allowed.
    assert.match((await slash('history', { user: 'U0INGROUP' })).body, /Recent checks|No checks/);
    const refused = await slash('haproxy-http', { user: 'U0STRANGER' });
    assert.equal(refused.status, 200);
    assert.match(refused.body, /Refused by the lbcheck policy: you \(slack:U0STRANGER\) are not allowed/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      fake.callsOf('chat.postMessage').length,
      fake.calls.slice(0, before).filter((c) => c.method === 'chat.postMessage').length,
    );
  });
});

describe('Socket Mode and file caps', () => {
  it('Socket Mode: a slash command envelope over the WebSocket is acked with the queue answer, and the check posts to the thread', async () => {
    const sock = await startSlackStack(lab, true, { socketMode: true, fileMaxBytes: 200 });
    try {
      await until(() => sock.fake.socket.connected > 0, 'the Socket Mode connection');
      assert.ok(sock.fake.callsOf('apps.connections.open').length >= 1);
      sock.fake.socket.send({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          team_id: 'T0LAB',
          channel_id: 'C0INCIDENT',
          user_id: 'U0ONCALL',
          user_name: 'oncall',
          command: '/lbcheck',
          text: 'dnat',
          api_app_id: 'A0LAB',
          response_url: 'http://127.0.0.1:1/x',
          trigger_id: '1.2',
        },
      });
      await until(() => sock.fake.socket.received.some((m) => m.envelope_id === 'env-1'), 'the envelope ack');
      const ack = sock.fake.socket.received.find((m) => m.envelope_id === 'env-1') as { payload?: { text?: string } };
      const id = /Queued (chk-[0-9a-f]{10})/.exec(ack.payload?.text ?? '')?.[1] ?? assert.fail(JSON.stringify(ack));
      await until(ended(sock.fake, id), 'the diagnosis and the parent update');
      // The 200-byte cap cut the pcapng: the upload says so in its title rather than dropping the file;
      // a ladder PNG cut short would be useless, so it is left out and the upload comment says so.
      const titles = sock.fake
        .callsOf('files.completeUploadExternal')
        .map((c) => c.args.files ?? '')
        .join(' ');
      assert.match(
        titles,
        /step1-both\.pcapng \(sha256 [0-9a-f]{12}, truncated to 200 of \d+ B: the full file is in the audit archive\)/,
      );
      assert.ok([...sock.fake.uploads.values()].every((b) => b.length <= 200));
      assert.doesNotMatch(titles, /ladder\.png/);
      const step1 = sock.fake.threadCalls(sock.fake.parentTs(id) ?? '').find((c) => /Step 1/.test(messageText(c)));
      assert.match(
        step1?.args.blocks ?? '',
        /step1-ladder\.png is larger than the 200 B upload cap: it is in the audit archive/,
      );
    } finally {
      await sock.close();
    }
  });
});
