// A post the Bot Connector keeps refusing (more times than botbuilder retries by itself) must fail the post, so
// the queue retries it: before, the adapter's onTurnError swallowed the turn's error and the post was remembered
// as done with an empty message id, lost. Real botbuilder in local mode against the fake connector.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import { newCheckId } from '../../src/model/check-id.js';
import type { PostContext } from '../../src/pipeline/poster.js';
import { FakeConnector } from './fake-connector.js';
import { startLocalTeams, teamsReference } from './local-teams.js';

let connector: FakeConnector;
let teams: RunningTeams;

before(async () => {
  connector = await new FakeConnector().start();
  teams = await startLocalTeams();
});
after(async () => {
  await teams.close();
  await connector.close();
});

function contextFor(conversation: string): { ctx: PostContext; memo: Map<string, string> } {
  const checkId = newCheckId();
  const reference = teamsReference(conversation, connector.serviceUrl, '1');
  const request: CheckRequest = {
    checkId,
    target: 'web',
    members: [],
    all: false,
    requester: { platform: 'teams', id: 'U0ONCALL', name: 'On Call' },
    replyTo: { platform: 'teams', channel: '19:incident@thread.tacv2', extra: { reference } },
    zone: 'default',
    requestedAt: new Date().toISOString(),
  };
  const memo = new Map<string, string>();
  const ctx: PostContext = {
    request,
    memo: {
      get: (k) => Promise.resolve(memo.get(k)),
      set: (k, v) => {
        memo.set(k, v);
        return Promise.resolve();
      },
    },
  };
  return { ctx, memo };
}

describe('Teams: a post the connector keeps refusing', () => {
  it('fails (for the queue to retry), is not remembered as posted, and posts once when the connector answers', async () => {
    const conversation = '19:incident@thread.tacv2;messageid=1700000000999';
    const { ctx, memo } = contextFor(conversation);
    for (let i = 0; i < 40; i++) connector.failNext(500);
    await assert.rejects(teams.poster.postNotice(ctx, 'error', 'Check could not run: the LB refused SSH'), /refused/);
    // (The answer's generation counter moves on a failed answer: that is not a post.)
    const posted = () => [...memo.keys()].filter((k) => !k.endsWith('.gen'));
    assert.deepEqual(posted(), [], 'nothing is remembered as posted');
    const inChain = () => connector.sent.filter((s) => s.conversationId === conversation);
    assert.deepEqual(inChain(), [], 'no activity reached the chain (no "internal error" line either)');

    connector.failures.splice(0);
    await teams.poster.postNotice(ctx, 'error', 'Check could not run: the LB refused SSH');
    // The typed check's answer comes first in its chain, then the notice: each once.
    const texts = inChain().map((s) => s.activity.text ?? '');
    assert.equal(texts.length, 2, `the answer and the notice, once each: ${JSON.stringify(texts)}`);
    assert.equal(texts.filter((t) => t.includes('the LB refused SSH')).length, 1);
    for (const key of posted()) assert.notEqual(memo.get(key), '', `${key} holds the id the connector gave`);
  });
});
