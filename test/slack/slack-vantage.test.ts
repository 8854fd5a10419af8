// A --from group on Slack (issue 17 item 4): the real WebClient against the
// fake Web API, reports processed as the bot's report queue does. One parent
// for the whole group, every zone's post in its thread with the zone in the
// headline (also when both zones' "queued" reports open it at once), the
// zones' finals leave the parent alone, and the comparison is posted once in
// the thread and shown on the parent.
import assert from 'node:assert/strict';
import { vantageGroup } from '../pipeline/contract-fixtures.js';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { SlackPoster } from '../../adapters/slack/slack-poster.js';
import { createLogger } from '../../src/log.js';
import type { CheckRequest, ReportJob } from '../../src/model/jobs.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { processReport } from '../../workers/bot/report-poster.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { deleteKeys, TEST_REDIS_ENV, testPrefix } from '../pipeline/harness.js';
import { FakeSlack } from './fake-slack.js';

let fake: FakeSlack;
let backend: Backend;
const prefix = testPrefix('lbt');

before(async () => {
  fake = await new FakeSlack().start();
  backend = await connectBackend(readConfig({ ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix }), false);
});
after(async () => {
  await backend.close();
  await deleteKeys(prefix);
  await fake.close();
});

function group(zones: string[]): CheckRequest[] {
  return vantageGroup(zones, {
    requester: { platform: 'slack', id: 'U0ONCALL' },
    replyTo: { platform: 'slack', channel: 'C0INCIDENT' },
  });
}

const jobs = (request: CheckRequest, fixture: string): ReportJob[] => {
  const report = readFixture(fixture).report;
  // As the worker does: steps skipped after a failing one are in the report, not posted.
  const steps = report.steps.filter((s) => s.verdict !== 'skipped');
  const base = { checkId: request.checkId, request, worker: `w/${request.zone}` };
  return [
    // What the intake queues with each check: the parent shown at once (both zones' at the same moment).
    { ...base, worker: 'intake', kind: 'queued', seq: 0 },
    ...steps.map((step, i): ReportJob => ({ ...base, kind: 'step', seq: i + 1, step, evidence: [] })),
    { ...base, kind: 'final', seq: steps.length + 1, report },
  ];
};

async function deliver(job: ReportJob, poster: SlackPoster): Promise<void> {
  const deps = { state: backend.state, posters: new Map([['slack', poster]]), log: createLogger('silent') };
  for (let i = 0; i < 200; i++) {
    if ((await processReport(job, deps)) === 'done') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${job.kind} of ${job.request.zone} never got posted`);
}

describe('a --from group on Slack', () => {
  it('one parent, both zones in its thread labelled, one comparison in the thread and on the parent', async () => {
    const poster = new SlackPoster(
      new WebClient('xoxb-lab', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }),
      1024 * 1024,
    );
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    const groupId = dc1.group?.id ?? '';
    // Both zones' reports delivered at once, each zone's in its own order, as two report consumers would.
    await Promise.all([
      (async () => {
        for (const j of jobs(dc2, 'healthy-haproxy-http')) await deliver(j, poster);
      })(),
      (async () => {
        for (const j of jobs(dc1, 'dropped-before-lb')) await deliver(j, poster);
      })(),
    ]);
    const parents = fake.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts);
    assert.equal(parents.length, 1);
    assert.equal(parents[0]?.args.text, `lbcheck ${groupId}: checking web-vip from dc1, dc2, step 1 running…`);
    const thread = fake.threadOf(groupId);
    const dc1Posts = thread.filter((t) => t.startsWith('[dc1] '));
    const dc2Posts = thread.filter((t) => t.startsWith('[dc2] '));
    assert.equal(dc1Posts.length, 2, thread.join('\n')); // step 1 and the diagnosis (it stopped after step 1)
    assert.equal(dc2Posts.length, 4, thread.join('\n')); // steps 1-3 and the diagnosis
    assert.match(dc1Posts.at(-1) ?? '', /^\[dc1\] Diagnosis: PATH-TO-LB/);
    const comparisons = thread.filter((t) => t.startsWith('Compared from'));
    assert.equal(comparisons.length, 1);
    assert.equal(thread.at(-1), comparisons[0]);
    assert.match(comparisons[0] ?? '', /^Compared from dc1, dc2: PATH-TO-LB \(path-from-zones\)/);
    // The parent is updated once, by the comparison, not by either zone's final.
    const updates = fake.callsOf('chat.update');
    assert.equal(updates.length, 1);
    assert.match(updates[0]?.args.text ?? '', new RegExp(`^lbcheck ${groupId}: Compared from dc1, dc2: PATH-TO-LB`));
  });
});
