// Posting a --from command (issue 17 item 4) through the report processor on
// real Redis: every zone's posts share one parent (created once, by the first
// zone's first post), each is labelled by zone, and the comparison is posted
// exactly once when the last zone ends, even when the zones' finals are
// processed at the same moment or the comparison's post fails and is retried.
import assert from 'node:assert/strict';
import { vantageGroup } from './contract-fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { createLogger } from '../../src/log.js';
import type { Report } from '../../src/model/report.js';
import type { ReportOutcome } from '../../src/pipeline/job-bus.js';
import {
  parentContext,
  postOnce,
  type ChatPoster,
  type NoticeKind,
  type PostContext,
} from '../../src/pipeline/poster.js';
import type { CheckRequest, ReportJob } from '../../src/model/jobs.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { processReport, type ReportPosterDeps } from '../../workers/bot/report-poster.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { deleteKeys, TEST_REDIS_ENV, testPrefix, testRedis } from './harness.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import { reportLostChecks } from '../../src/pipeline/lost-in-flight.js';
import { DEFAULT_STATE_LIMITS, type PipelineState, type StateLimits } from '../../src/pipeline/state.js';
import type { RedisClient } from '../../src/runtime/redis-client.js';

/** A platform that opens one parent per context the way Slack does, and records what went where. */
class RecordingPoster implements ChatPoster {
  readonly platform = 'console';
  parents = 0;
  posts: { parent: string; zone?: string; what: string; text?: string }[] = [];
  failComparisons = 0;

  private async parent(ctx: PostContext): Promise<string> {
    return postOnce(parentContext(ctx), 'rec.parent', () => Promise.resolve(`parent-${++this.parents}`));
  }

  private async record(ctx: PostContext, what: string, text?: string): Promise<void> {
    const parent = await this.parent(ctx);
    this.posts.push({ parent, ...(ctx.vantage ? { zone: ctx.vantage.zone } : {}), what, ...(text ? { text } : {}) });
  }

  postStep(ctx: PostContext, step: { step: number }): Promise<void> {
    return this.record(ctx, `step${step.step}`);
  }

  postFinal(ctx: PostContext, report: Report): Promise<void> {
    return this.record(ctx, `final ${report.diagnosis.culprit}`);
  }

  async postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<void> {
    if (kind === 'comparison' && this.failComparisons-- > 0) throw new Error('platform down (test)');
    await this.record(ctx, kind, text);
  }
}

let backend: Backend;
let dir: string;
let audit: AuditLog;
const prefix = testPrefix('lbt');

before(async () => {
  backend = await connectBackend(readConfig({ ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix }), false);
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-vantage-posting-'));
  audit = new AuditLog(join(dir, 'audit'));
});
after(async () => {
  await backend.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

function group(zones: string[]): CheckRequest[] {
  return vantageGroup(zones, {
    requester: { platform: 'console', id: 'tester' },
    replyTo: { platform: 'console', channel: 'console' },
  });
}

const stepJob = (request: CheckRequest, fixture: string): ReportJob => ({
  kind: 'step',
  checkId: request.checkId,
  request,
  worker: `w/${request.zone}`,
  seq: 1,
  step: readFixture(fixture).report.steps[0] as Report['steps'][number],
  evidence: [],
});
/** seq 1 when no step precedes it in the test. */
const finalJob = (request: CheckRequest, fixture: string, seq = 2): ReportJob => ({
  kind: 'final',
  checkId: request.checkId,
  request,
  worker: `w/${request.zone}`,
  seq,
  report: readFixture(fixture).report,
});

function depsFor(poster: RecordingPoster): ReportPosterDeps {
  return { state: backend.state, posters: new Map([['console', poster]]), log: createLogger('silent'), audit };
}

/** Processes a job the way the queue does: 'later' is tried again shortly. */
async function deliver(job: ReportJob, deps: ReportPosterDeps): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const outcome: ReportOutcome = await processReport(job, deps);
    if (outcome === 'done') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${job.kind} of ${job.request.zone} never got posted`);
}

describe('posting a --from group', () => {
  it('a later zone waits for the thread; all share one parent; one comparison when the last zone ends', async () => {
    const poster = new RecordingPoster();
    const deps = depsFor(poster);
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    assert.equal(await processReport(stepJob(dc2, 'healthy-haproxy-http'), deps), 'later');
    assert.equal(poster.posts.length, 0, 'dc2 posted before dc1 opened the thread');
    await deliver(stepJob(dc1, 'dropped-before-lb'), deps);
    await deliver(stepJob(dc2, 'healthy-haproxy-http'), deps);
    // Both zones' finals at the same moment: still one comparison, after both.
    await Promise.all([
      deliver(finalJob(dc2, 'healthy-haproxy-http'), deps),
      deliver(finalJob(dc1, 'dropped-before-lb'), deps),
    ]);
    assert.equal(poster.parents, 1);
    assert.deepEqual(
      poster.posts.map((p) => [p.parent, p.zone, p.what]),
      [
        ['parent-1', 'dc1', 'step1'],
        ['parent-1', 'dc2', 'step1'],
        ['parent-1', 'dc1', 'final path-to-lb'],
        ['parent-1', 'dc2', 'final none'],
        ['parent-1', 'dc2', 'comparison'],
      ],
    );
    const comparison = poster.posts.at(-1)?.text ?? '';
    assert.match(
      comparison,
      /^Compared from dc1, dc2: PATH-TO-LB \(path-from-zones\) → network \/ firewall team for dc1/,
    );
    assert.match(
      comparison,
      /\nFails from dc1, works from dc2 \(the SYN never reaches the LB from dc1; works from dc2\)/,
    );
    assert.match(comparison, /\nBy zone: dc1: path-to-lb \(dropped-before-lb\) · dc2: none$/);
    const record = audit.records().at(-1);
    assert.ok(record?.type === 'post' && record.kind === 'comparison');
    assert.equal(record.group, dc1.group?.id);
    assert.equal(record.summary, comparison);
    // A late duplicate of the last final posts nothing more.
    await deliver(finalJob(dc2, 'healthy-haproxy-http'), deps);
    assert.equal(poster.posts.length, 5);
    assert.deepEqual(verifyAudit(audit.file, audit.evidence).problems, []);
  });

  it('a comparison whose post failed is posted by the retry, once, without re-posting the final', async () => {
    const poster = new RecordingPoster();
    poster.failComparisons = 1;
    const deps = depsFor(poster);
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    await deliver(finalJob(dc1, 'servers-hang', 1), deps);
    await assert.rejects(processReport(finalJob(dc2, 'servers-hang', 1), deps), /platform down/);
    assert.deepEqual(
      poster.posts.map((p) => p.what),
      ['final servers', 'final servers'],
    );
    await deliver(finalJob(dc2, 'servers-hang', 1), deps);
    await deliver(finalJob(dc2, 'servers-hang', 1), deps);
    assert.deepEqual(
      poster.posts.map((p) => p.what),
      ['final servers', 'final servers', 'comparison'],
    );
    assert.match(
      poster.posts.at(-1)?.text ?? '',
      /^Compared from dc1, dc2: SERVERS \(server-hang\)[^\n]*\nThe same from dc1 and dc2: /,
    );
  });

  it('a zone that could not run is named, and the others are still compared', async () => {
    const poster = new RecordingPoster();
    const deps = depsFor(poster);
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    await deliver(
      { kind: 'error', checkId: dc1.checkId, request: dc1, worker: 'w/dc1', seq: 1, message: 'no SSH' },
      deps,
    );
    await deliver(finalJob(dc2, 'healthy-haproxy-http', 1), deps);
    assert.deepEqual(
      poster.posts.map((p) => [p.zone, p.what]),
      [
        ['dc1', 'error'],
        ['dc2', 'final none'],
        ['dc2', 'comparison'],
      ],
    );
    assert.match(
      poster.posts.at(-1)?.text ?? '',
      /\nNo report from dc1 \(failed: no SSH\): left out of the comparison\.$/,
    );
  });
});

describe('a later zone on a platform without a "queued" post (console, Teams)', () => {
  it("waits only for the first zone's queued report, not for its first step", async () => {
    const poster = new RecordingPoster();
    const deps = depsFor(poster);
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    assert.equal(await processReport(stepJob(dc2, 'healthy-haproxy-http'), deps), 'later');
    await deliver({ kind: 'queued', checkId: dc1.checkId, request: dc1, worker: 'intake', seq: 0 }, deps);
    assert.equal(await processReport(stepJob(dc2, 'healthy-haproxy-http'), deps), 'done');
    assert.deepEqual(
      poster.posts.map((p) => [p.zone, p.what]),
      [['dc2', 'step1']],
    );
  });

  it("stops waiting when the first zone's check fails before any post (its queued report lost)", async () => {
    const poster = new RecordingPoster();
    const deps = depsFor(poster);
    const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
    assert.equal(await processReport(stepJob(dc2, 'healthy-haproxy-http'), deps), 'later');
    await deliver(
      { kind: 'error', checkId: dc1.checkId, request: dc1, worker: 'w/dc1', seq: 1, message: 'no SSH' },
      deps,
    );
    assert.equal(await processReport(stepJob(dc2, 'healthy-haproxy-http'), deps), 'done');
    assert.deepEqual(
      poster.posts.map((p) => [p.zone, p.what]),
      [
        ['dc1', 'error'],
        ['dc2', 'step1'],
      ],
    );
  });
});

/** A check with no progress for half a second is lost. */
const STALE_FAST: StateLimits = { ...DEFAULT_STATE_LIMITS, staleInFlightMs: 500 };
const twinPrefixes: string[] = [];
const twinClients: RedisClient[] = [];
after(async () => {
  for (const p of twinPrefixes) await deleteKeys(p);
  for (const c of twinClients) c.disconnect();
});
const twins: { name: string; make(onLost: ReturnType<typeof reportLostChecks>): PipelineState }[] = [
  { name: 'MemoryState', make: (onLost) => new MemoryState(STALE_FAST, onLost) },
  {
    name: 'RedisState',
    make: (onLost) => {
      const p = testPrefix('lbt');
      twinPrefixes.push(p);
      const redis = testRedis();
      twinClients.push(redis);
      return new RedisState(redis, p, STALE_FAST, onLost);
    },
  },
];

/** A state whose sweep queues its lost checks' reports here, and a poster reading that state. */
function sweptSetup(twin: (typeof twins)[number]): {
  jobs: ReportJob[];
  poster: RecordingPoster;
  deps: ReportPosterDeps;
} {
  const jobs: ReportJob[] = [];
  const state = twin.make(reportLostChecks({ addReport: (r) => Promise.resolve(void jobs.push(r)) }));
  const poster = new RecordingPoster();
  return { jobs, poster, deps: { ...depsFor(poster), state } };
}

for (const twin of twins) {
  describe(`a --from group whose check the in-flight sweep finds lost (${twin.name})`, () => {
    it('the lost check ends its zone: the comparison is posted and says that zone failed and why', async () => {
      const { jobs, poster, deps } = sweptSetup(twin);
      const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
      for (const r of [dc1, dc2]) await deps.state.createCheck(r);
      // dc1 runs and ends; dc2's worker died (or none runs in dc2): its check never makes progress.
      await deps.state.updateCheck(dc1.checkId, { status: 'done', culprit: 'none' });
      await deliver(finalJob(dc1, 'healthy-haproxy-http', 1), deps);
      assert.deepEqual(
        poster.posts.map((p) => p.what),
        ['final none'],
        'no comparison while dc2 is in flight',
      );
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await deps.state.inFlightCount(dc2.target), 0);
      assert.deepEqual(
        jobs.map((j) => [j.kind, j.checkId]),
        [['error', dc2.checkId]],
      );
      for (const j of jobs) await deliver(j, deps);
      assert.deepEqual(
        poster.posts.map((p) => [p.zone, p.what]),
        [
          ['dc1', 'final none'],
          ['dc2', 'error'],
          ['dc2', 'comparison'],
        ],
      );
      assert.match(poster.posts[1]?.text ?? '', /could not run: lost: no progress for an hour; run it again$/);
      assert.match(
        poster.posts.at(-1)?.text ?? '',
        /^Compared from dc1: No fault found[^]*\nNo report from dc2 \(failed: lost: no progress for an hour; run it again\)/,
      );
    });

    it('a group whose every check was lost still ends, with one notice saying why each zone has no report', async () => {
      const { jobs, poster, deps } = sweptSetup(twin);
      const [dc1, dc2] = group(['dc1', 'dc2']) as [CheckRequest, CheckRequest];
      for (const r of [dc1, dc2]) await deps.state.createCheck(r);
      await new Promise((r) => setTimeout(r, 700));
      assert.deepEqual(await deps.state.inFlight(), []);
      assert.deepEqual(jobs.map((j) => j.checkId).sort(), [dc1.checkId, dc2.checkId].sort());
      // Swept in either order; dc1's report opens the thread, dc2's completes the group.
      for (const zone of ['dc1', 'dc2'])
        for (const j of jobs.filter((x) => x.request.zone === zone)) await deliver(j, deps);
      assert.deepEqual(
        poster.posts.map((p) => [p.zone, p.what]),
        [
          ['dc1', 'error'],
          ['dc2', 'error'],
          ['dc2', 'comparison'],
        ],
      );
      assert.equal(
        poster.posts.at(-1)?.text,
        'Compared from dc1, dc2: nothing to compare\nNo report from dc1 (failed: lost: no progress for an hour; ' +
          'run it again), dc2 (failed: lost: no progress for an hour; run it again).',
      );
    });
  });
}
