// Two `lbcheck serve` processes with different platforms on one Redis: each
// report is posted by the process that has its platform, none is dropped or
// marked posted by the other. Real Redis and BullMQ, two separate backends
// (their own connections), recording posters.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { createLogger } from '../../src/log.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import type { ChatPoster, PostContext } from '../../src/pipeline/poster.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS } from './harness.js';

class RecordingPoster implements ChatPoster {
  readonly posted: string[] = [];
  constructor(readonly platform: string) {}
  postStep(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }
  postFinal(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }
  postNotice(ctx: PostContext): Promise<void> {
    assert.equal(ctx.request.replyTo.platform, this.platform, 'posted a report of another platform');
    this.posted.push(ctx.request.checkId);
    return Promise.resolve();
  }
}

const prefix = `lbr-${randomBytes(4).toString('hex')}`;
const backends: Backend[] = [];
const closeables: Closeable[] = [];

before(async () => {
  const config = readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix, LBCHECK_JOB_KEY: 'r'.repeat(40) });
  for (let i = 0; i < 3; i++) backends.push(await connectBackend(config, false));
});
after(async () => {
  for (const c of closeables) await c.close();
  for (const b of backends) await b.close();
  await deleteKeys(prefix);
});

const request = (platform: string): CheckRequest => ({
  checkId: `chk-${randomBytes(5).toString('hex')}`,
  target: 'web-vip',
  members: [],
  all: false,
  requester: { platform, id: 'U1' },
  replyTo: { platform, channel: 'C1' },
  zone: 'default',
  requestedAt: new Date().toISOString(),
});

describe('reports across bot processes with different platforms', () => {
  it('a Slack-only and a Teams-only bot on one Redis each post exactly their own reports', async () => {
    const [slackBot, teamsBot, producer] = backends as [Backend, Backend, Backend];
    const slack = new RecordingPoster('slack');
    const teams = new RecordingPoster('teams');
    const log = createLogger('silent');
    closeables.push(startReportPoster(slackBot, [slack], log), startReportPoster(teamsBot, [teams], log));
    const want = { slack: [] as string[], teams: [] as string[] };
    for (let i = 0; i < 20; i++) {
      const platform = i % 2 === 0 ? 'slack' : 'teams';
      const r = request(platform);
      await producer.state.createCheck(r);
      await producer.bus.addReport({
        kind: 'error',
        message: 'x',
        checkId: r.checkId,
        request: r,
        worker: 'w',
        seq: 1,
      });
      want[platform].push(r.checkId);
    }
    const deadline = Date.now() + 20_000;
    while (slack.posted.length + teams.posted.length < 20 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual([...slack.posted].sort(), [...want.slack].sort());
    assert.deepEqual([...teams.posted].sort(), [...want.teams].sort());
    for (const id of [...want.slack, ...want.teams])
      assert.equal(await producer.state.wasPosted(`${id}-error`), true, `${id} not marked posted`);
  });

  it('a report whose platform no bot runs waits in its queue instead of being dropped', async () => {
    const [, , producer] = backends as [Backend, Backend, Backend];
    const r = request('console');
    await producer.bus.addReport({ kind: 'error', message: 'x', checkId: r.checkId, request: r, worker: 'w', seq: 1 });
    const late = new RecordingPoster('console');
    closeables.push(startReportPoster(producer, [late], createLogger('silent')));
    const deadline = Date.now() + 20_000;
    while (late.posted.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(late.posted, [r.checkId]);
  });
});
