// Slack request freshness and replays, through real Bolt over HTTP with
// requests signed as Slack signs them: a correctly signed request dated more
// than five minutes ahead is refused like a stale one, and a signed request
// sent twice runs once, even when the copy goes to another bot process that
// shares the Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
import { createLogger } from '../../src/log.js';
import type { Incoming } from '../../src/pipeline/intake.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';
import { FakeSlack, slackSignature, slashCommandForm } from './fake-slack.js';

const SECRET = 'replay-signing-secret';
const prefix = `lbs-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let fake: FakeSlack;
let bots: RunningSlack[] = [];
const seen: Incoming[] = [];

before(async () => {
  redis = new Redis(TEST_REDIS);
  const state = new RedisState(redis, prefix);
  fake = await new FakeSlack().start();
  // Two bot processes on one Redis, as with two `lbcheck serve`s behind a load balancer.
  bots = await Promise.all(
    [1, 2].map(() =>
      startSlack({
        botToken: 'xoxb-lab',
        signingSecret: SECRET,
        apiUrl: fake.apiUrl,
        port: 0,
        fileMaxBytes: 1024,
        log: createLogger('silent'),
        claimOnce: (key, ttl) => state.claimOnce(key, ttl),
        intake: (incoming) => {
          seen.push(incoming);
          return Promise.resolve({ kind: 'info', text: 'ok' });
        },
      }),
    ),
  );
});
after(async () => {
  for (const b of bots) await b.close();
  await fake?.close();
  await deleteKeys(prefix);
  redis?.disconnect();
});

function form(text: string): string {
  return slashCommandForm(text, fake.port);
}

async function send(bot: RunningSlack, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${bot.port}/slack/commands`, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res.status;
}

describe('Slack request freshness and replay', () => {
  it('refuses a correctly signed request dated 6 minutes ahead, as it refuses one 6 minutes old', async () => {
    const [bot] = bots as [RunningSlack];
    const now = Math.floor(Date.now() / 1000);
    const before = seen.length;
    const ahead = form('help ahead');
    assert.equal(await send(bot, ahead, slackSignature(SECRET, ahead, now + 6 * 60)), 401);
    const old = form('help old');
    assert.equal(await send(bot, old, slackSignature(SECRET, old, now - 6 * 60)), 401);
    assert.equal(seen.length, before);
    const fresh = form('help fresh');
    assert.equal(await send(bot, fresh, slackSignature(SECRET, fresh, now + 60)), 200);
    assert.equal(seen.length, before + 1);
  });

  it('a signed request replayed within the window runs once, on the same or another bot process', async () => {
    const [one, two] = bots as [RunningSlack, RunningSlack];
    const body = form(`status ${randomBytes(3).toString('hex')}`);
    const headers = slackSignature(SECRET, body);
    const before = seen.length;
    assert.equal(await send(one, body, headers), 200);
    assert.equal(await send(one, body, headers), 401);
    assert.equal(await send(two, body, headers), 401);
    assert.equal(seen.length, before + 1);
  });
});
