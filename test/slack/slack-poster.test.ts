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

function context(): PostContext {
  const memo = new Map<string, string>();
  return {
    request: {
      checkId: 'chk-00000000aa',
      target: 'dnat',
      members: [],
      all: false,
      requester: { platform: 'slack', id: 'U0ONCALL' },
      replyTo: { platform: 'slack', channel: 'C0INCIDENT' },
      zone: 'default',
      requestedAt: new Date().toISOString(),
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
