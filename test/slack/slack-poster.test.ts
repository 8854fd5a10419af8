// The Slack poster against the fake Web API through the real WebClient, no lab:
// a capture steps 1 and 2 share is uploaded once, and response_url targets are
// limited to Slack's hooks hosts (or the configured API's host).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { responseUrlAllowed } from '../../adapters/slack/slack-fallback.js';
import { SlackPoster } from '../../adapters/slack/slack-poster.js';
import type { Report } from '../../src/model/report.js';
import type { EvidenceFile, PostContext } from '../../src/pipeline/poster.js';
import { FakeSlack } from './fake-slack.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'checks');
const report = JSON.parse(readFileSync(join(root, 'healthy-dnat', 'report.json'), 'utf8')) as Report;

let fake: FakeSlack;
before(async () => {
  fake = await new FakeSlack().start();
});
after(() => fake.close());

function context(checkId = 'chk-00000000aa', extra: Partial<PostContext['request']> = {}): PostContext {
  const memo = new Map<string, string>();
  return {
    request: {
      checkId,
      target: 'dnat',
      members: [],
      all: false,
      requester: { platform: 'slack', id: 'U0ONCALL' },
      replyTo: { platform: 'slack', channel: 'C0INCIDENT' },
      zone: 'default',
      requestedAt: new Date().toISOString(),
      ...extra,
    },
    memo: {
      get: (k) => Promise.resolve(memo.get(k)),
      set: (k, v) => Promise.resolve(void memo.set(k, v)),
    },
  };
}

const file = (name: string, data: Buffer): EvidenceFile => ({
  name,
  sha256: createHash('sha256').update(data).digest('hex'),
  bytes: data.length,
  mediaType: 'application/octet-stream',
  data,
});

const poster = (): SlackPoster =>
  new SlackPoster(new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }), 1 << 20);

/** The chat.update calls of a message, oldest first. */
const updatesOf = (ts: string | undefined): string[] =>
  fake
    .callsOf('chat.update')
    .filter((c) => ts !== undefined && c.args.ts === ts)
    .map((c) => `${c.args.text ?? ''} ${c.args.blocks ?? ''}`);

const COULD_NOT_RUN = 'Ended: the check could not run (see this thread).';

describe('SlackPoster: the parent after a check stops', () => {
  it('an error ends the parent once (no Cancel; Re-run, Watch), not again on a retry or a later cancel', async () => {
    const p = poster();
    const ctx = context('chk-00000000e1');
    await p.postQueued(ctx);
    await p.postNotice(ctx, 'error', 'Check chk-00000000e1 could not run: no worker of zone default answered');
    const ts = fake.parentTs('chk-00000000e1');
    assert.ok(ts, 'the parent was posted');
    const [update, ...more] = updatesOf(ts);
    assert.ok(update, 'the parent was updated');
    assert.ok(update.includes(COULD_NOT_RUN), update);
    assert.doesNotMatch(update, /running|lbcheck:cancel/);
    assert.match(update, /"action_id":"lbcheck:rerun".*"action_id":"lbcheck:watch"/);
    assert.deepEqual(more, []);
    // A retry of the same notice, then a cancel notice of the same check: the parent is not updated again.
    await p.postNotice(ctx, 'error', 'Check chk-00000000e1 could not run: no worker of zone default answered');
    await p.postNotice(ctx, 'cancelled', 'Check chk-00000000e1 was cancelled by oncall.');
    assert.equal(updatesOf(ts).length, 1, updatesOf(ts).join('\n'));
  });

  it('the diagnosis wins: an error after it leaves the parent alone, an error before it is overwritten', async () => {
    const p = poster();
    const after = context('chk-00000000e2');
    await p.postFinal(after, report);
    await p.postNotice(after, 'error', 'Check chk-00000000e2 could not run: the queue gave up');
    const afterUpdates = updatesOf(fake.parentTs('chk-00000000e2'));
    assert.equal(afterUpdates.length, 1, afterUpdates.join('\n'));
    assert.ok(!afterUpdates[0]?.includes('Ended:'), afterUpdates[0]);

    const before = context('chk-00000000e3');
    await p.postNotice(before, 'error', 'Check chk-00000000e3 could not run: lost in flight');
    await p.postFinal(before, report);
    const beforeUpdates = updatesOf(fake.parentTs('chk-00000000e3'));
    assert.equal(beforeUpdates.length, 2, beforeUpdates.join('\n'));
    assert.ok(beforeUpdates[0]?.includes(COULD_NOT_RUN), beforeUpdates[0]);
    assert.ok(!beforeUpdates[1]?.includes('Ended:'), beforeUpdates[1]);
    assert.match(beforeUpdates[1] ?? '', /No fault found/);
  });

  it("in a thread, only a parent this check's queued report made say Re-running is ended by its stop", async () => {
    const p = poster();
    const thread = (await p.postQueued(context('chk-00000000e4')))?.thread;
    assert.ok(thread);
    // A later watch round: no queued post (silent), so the parent still shows an earlier diagnosis.
    const round = context('chk-00000000e5', { replyTo: { platform: 'slack', channel: 'C0INCIDENT', thread } });
    await p.postNotice(round, 'error', 'Check chk-00000000e5 could not run: refused by the policy');
    assert.deepEqual(updatesOf(thread), []);
    // A re-run (a button): its queued report says Re-running with Cancel; its cancel ends that.
    const rerun = context('chk-00000000e6', { replyTo: { platform: 'slack', channel: 'C0INCIDENT', thread } });
    await p.postQueued(rerun);
    await p.postNotice(rerun, 'cancelled', 'Check chk-00000000e6 was cancelled by oncall.');
    const updates = updatesOf(thread);
    assert.equal(updates.length, 2, updates.join('\n'));
    assert.match(updates[0] ?? '', /Re-running: step 1 running….*lbcheck:cancel/);
    assert.ok(updates[1]?.includes('lbcheck chk-00000000e6: Cancelled: see this thread.'), updates[1]);
    assert.doesNotMatch(updates[1] ?? '', /lbcheck:cancel/);
  });

  it("a --from group's parent is left for the comparison: one zone's error does not update it", async () => {
    const shared = context('chk-00000000e7').memo;
    const ctx: PostContext = {
      ...context('chk-00000000e7'),
      vantage: { zone: 'east', group: { id: 'grp-00000000e7', zones: ['east', 'west'] }, shared },
    };
    await poster().postNotice(ctx, 'error', 'Check chk-00000000e7 could not run: no worker of zone east answered');
    const ts = fake.parentTs('grp-00000000e7');
    assert.ok(ts, "the group's parent was posted");
    assert.deepEqual(updatesOf(ts), []);
  });
});

describe('SlackPoster', () => {
  it('uploads a capture shared by steps 1 and 2 once; step 2 says where it is', async () => {
    const poster = new SlackPoster(
      new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }),
      1 << 20,
    );
    const ctx = context();
    const shared = Buffer.from('the same capture bytes');
    const [step1, step2] = report.steps;
    assert.ok(step1 && step2);
    await poster.postStep(ctx, step1, [file('step1-lb.pcapng', shared), file('step1-ladder.png', Buffer.from('one'))]);
    const second = await poster.postStep(ctx, step2, [
      file('step2-lb.pcapng', shared),
      file('step2-ladder.png', Buffer.from('two')),
    ]);
    const completes = fake.callsOf('files.completeUploadExternal');
    const titles = completes.map((c) => (JSON.parse(c.args.files ?? '[]') as { title: string }[]).map((f) => f.title));
    assert.equal(titles.flat().filter((t) => t.includes('lb.pcapng')).length, 1, JSON.stringify(titles));
    // Step 2's message goes out with its files, and says where the shared capture is.
    assert.match(
      completes.at(-1)?.args.blocks ?? '',
      /step2-lb\.pcapng is the same file as step 1's step1-lb\.pcapng, uploaded above \(sha256 [0-9a-f]{12}\)/,
    );
    assert.equal(second.fileIds?.length, 1, 'step 2 uploaded only its ladder');
  });

  it('posts to a response_url only on Slack hooks hosts or the configured API host', () => {
    assert.ok(responseUrlAllowed('https://hooks.slack.com/commands/T0/1/abc', []));
    assert.ok(responseUrlAllowed('https://hooks.slack-gov.com/commands/T0/1/abc', []));
    assert.ok(!responseUrlAllowed('http://hooks.slack.com/commands/T0/1/abc', []), 'plain http');
    assert.ok(!responseUrlAllowed('https://hooks.slack.com.evil.example/x', []));
    assert.ok(!responseUrlAllowed('https://198.18.0.1/x', []));
    assert.ok(responseUrlAllowed('http://127.0.0.1:4000/respond', ['http://127.0.0.1:4000']));
    assert.ok(!responseUrlAllowed('not a url', []));
  });
});
