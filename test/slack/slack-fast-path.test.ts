// Issue 28's Slack posting path through the report processor, no lab: a check's
// reports delivered all at once (as the queue hands them to the bot) with the
// fake Slack answering 429s and 500s. The thread reads answer, steps, diagnosis;
// each step's evidence is shared before the next step's message; each file is
// uploaded and shared exactly once; the audit records every post, a step shared
// with its files by their file ids.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { SlackPoster } from '../../adapters/slack/slack-poster.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditRecord, PostRecord } from '../../src/audit/audit-record.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { createLogger } from '../../src/log.js';
import type { CheckRequest, EvidenceMeta, ReportJob } from '../../src/model/jobs.js';
import type { Step } from '../../src/model/report.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { EvidenceFile, PostContext } from '../../src/pipeline/poster.js';
import { processReport, type ReportPosterDeps } from '../../workers/bot/report-poster.js';
import { readFixture } from '../fixtures/fixture-files.js';
import { FakeSlack, messageSections, messageText, type SlackCall } from './fake-slack.js';

let fake: FakeSlack;
let dir: string;
before(async () => {
  fake = await new FakeSlack().start();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-slack-fast-'));
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function file(name: string, text: string, mediaType = 'application/octet-stream'): EvidenceFile {
  const data = Buffer.from(`${name}: ${text}`);
  return { name, sha256: sha(data), bytes: data.length, mediaType, data };
}

/** As the bot runs it: Slack's rate limits become delays for the queue, never the client's own retries. */
const poster = (): SlackPoster =>
  new SlackPoster(
    new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
    1 << 20,
  );

let checks = 0;
function request(): CheckRequest {
  return {
    checkId: `chk-00000fa${String(++checks).padStart(3, '0')}`,
    target: 'dnat',
    members: [],
    all: false,
    requester: { platform: 'slack', id: 'U0ONCALL' },
    replyTo: { platform: 'slack', channel: 'C0INCIDENT' },
    zone: 'default',
    requestedAt: new Date().toISOString(),
  };
}

const report = readFixture('healthy-dnat').report;

/** Each step's evidence: what the worker stores (steps 1 and 2 with a ladder and captures; step 3 text only). */
function evidenceOf(step: number): EvidenceFile[] {
  if (step === 3) return [file('step3-commands.txt', 'ss -tn')];
  return [
    file(`step${step}-ladder.png`, 'a picture', 'image/png'),
    file(`step${step}-decode.txt`, 'the decode'),
    file(`step${step}-lb.pcapng`, 'the LB capture'),
    ...(step === 1 ? [file('step1-both.pcapng', 'both vantages merged')] : []),
  ];
}

/** Delivers a report the way the queue does: 'later' and Retry-After are tried again, a failure with backoff. */
async function deliver(job: ReportJob, deps: ReportPosterDeps): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const outcome = await processReport(job, deps);
      if (outcome === 'done') return;
      await new Promise((r) => setTimeout(r, outcome === 'later' ? 20 : Math.max(10, outcome.laterMs)));
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`${job.kind} was never posted`);
}

async function runCheck(
  deps: ReportPosterDeps,
  state: MemoryState,
): Promise<{ req: CheckRequest; files: Map<number, EvidenceFile[]> }> {
  const req = request();
  const base = { checkId: req.checkId, request: req, worker: 'w1' };
  const files = new Map<number, EvidenceFile[]>();
  const jobs: ReportJob[] = [{ ...base, kind: 'queued', seq: 0 }];
  for (const step of report.steps) {
    const evidence = evidenceOf(step.step);
    files.set(step.step, evidence);
    for (const e of evidence) if (e.data) await state.putEvidence(e.sha256, e.data, 600);
    const metas: EvidenceMeta[] = evidence.map(({ name, sha256, bytes, mediaType }) => ({
      name,
      sha256,
      bytes,
      mediaType,
    }));
    jobs.push({ ...base, kind: 'step', seq: step.step, step, evidence: metas });
  }
  jobs.push({ ...base, kind: 'final', seq: report.steps.length + 1, report });
  // All at once, as the queue's workers take them.
  await Promise.all(jobs.map((j) => deliver(j, deps)));
  return { req, files };
}

/** Where a call is in the order Slack answered. */
const at = (c: SlackCall): number => fake.calls.indexOf(c);

describe('Slack: the fast posting path (issue 28)', () => {
  it('under 429s and 500s: in order, evidence before the next step, each file uploaded and shared once, all audited', async () => {
    const state = new MemoryState();
    const audit = new AuditLog(join(dir, 'audit-1'));
    const deps: ReportPosterDeps = {
      state,
      posters: new Map([['slack', poster()]]),
      log: createLogger('silent'),
      audit,
    };
    fake.latencyMs = 15;
    fake.failNext('files.getUploadURLExternal', 429, 0);
    fake.failNext('upload', 500);
    fake.failNext('files.completeUploadExternal', 429, 0);
    fake.failNext('chat.postMessage', 429, 0);
    fake.failNext('files.completeUploadExternal', 500);
    fake.failNext('chat.update', 429, 0);
    const calls = fake.calls.length;
    const { req, files } = await runCheck(deps, state).finally(() => (fake.latencyMs = 0));
    const mine = fake.calls.slice(calls);
    for (const m of ['files.getUploadURLExternal', 'files.completeUploadExternal', 'chat.postMessage', 'chat.update'])
      assert.ok(
        mine.some((c) => c.method.startsWith(`${m} (failed`)),
        `${m} was never refused: the test proves nothing`,
      );

    const ts = fake.parentTs(req.checkId) ?? assert.fail('no parent message');
    const thread = fake.threadCalls(ts);
    assert.deepEqual(
      // Step 3 has no file to share: it goes out in the diagnosis's message, one round trip fewer.
      thread.map(
        (c) =>
          messageSections(c)
            .match(/^(?:✔|✘) Step \d|^No fault found/gm)
            ?.join(' + ') ?? messageText(c),
      ),
      ['✔ Step 1', '✔ Step 2', '✔ Step 3 + No fault found'],
    );
    const shares = fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts);
    const sharedIds = shares.flatMap((c) => (JSON.parse(c.args.files ?? '[]') as { id: string }[]).map((f) => f.id));
    assert.equal(new Set(sharedIds).size, sharedIds.length, 'a file shared twice');
    const posts = audit
      .records()
      .filter((r): r is AuditRecord & PostRecord => r.type === 'post' && r.checkId === req.checkId);
    assert.deepEqual(
      posts.map((p) => (p.kind === 'step' ? `step${p.step}` : p.kind)),
      ['queued', 'step1', 'step2', 'step3', 'final'],
    );
    for (const step of [1, 2]) {
      // In chat: the ladder and one capture (the merged one where there is one); the rest stays in the archive.
      const shown = (files.get(step) ?? []).filter((f) =>
        step === 1 ? /ladder|both/.test(f.name) : /ladder|lb\.pcapng/.test(f.name),
      );
      for (const f of files.get(step) ?? []) {
        const uploads = fake.uploadLog.filter((u) => sha(fake.uploads.get(u.fileId) ?? Buffer.alloc(0)) === f.sha256);
        assert.equal(uploads.length, shown.includes(f) ? 1 : 0, `${f.name} uploaded ${uploads.length} times`);
      }
      const ids = fake.uploadLog
        .filter((u) => shown.some((f) => f.sha256 === sha(fake.uploads.get(u.fileId) ?? Buffer.alloc(0))))
        .map((u) => u.fileId);
      const share = shares.find((c) => ids.some((id) => (c.args.files ?? '').includes(id)));
      assert.ok(share, `step ${step}'s files were never shared in the thread`);
      const next = thread.find((c) => messageText(c).includes(`Step ${step + 1}`));
      assert.ok(next && at(share) <= at(next), `step ${step}'s evidence came after step ${step + 1}'s message`);
      const record = posts.find((p) => p.step === step);
      assert.deepEqual([...(record?.fileIds ?? [])].sort(), [...ids].sort(), `step ${step}'s audited file ids`);
      assert.ok(record && (record.messageIds.length > 0 || share.args.blocks !== undefined));
    }
    assert.equal(thread.filter((c) => /^No fault found/m.test(messageText(c))).length, 1, 'one diagnosis');
    const [step3, final] = [posts.find((p) => p.step === 3), posts.find((p) => p.kind === 'final')];
    assert.ok(step3?.messageIds[0], 'step 3 audited with its message');
    assert.equal(step3.messageIds[0], final?.messageIds[0], 'step 3 is audited as the message that carried it');
    assert.equal(fake.callsOf('chat.update').filter((c) => c.args.ts === ts).length, 1, 'one parent update');
    assert.deepEqual(verifyAudit(audit.file, audit.evidence).problems, []);
  });

  it('a step whose files were uploaded ahead is one share carrying its message; step 1 not yet uploaded posts its words first', async () => {
    const slack = poster();
    const memo = new Map<string, string>();
    const ctx: PostContext = {
      request: request(),
      memo: { get: (k) => Promise.resolve(memo.get(k)), set: (k, v) => Promise.resolve(void memo.set(k, v)) },
    };
    const [step1, step2] = report.steps as [Step, Step];
    const calls = fake.calls.length;
    const first = await slack.postStep(ctx, step1, evidenceOf(1));
    await slack.prepareStep(ctx, step2, evidenceOf(2));
    const uploadsBefore = fake.uploadLog.length;
    const second = await slack.postStep(ctx, step2, evidenceOf(2));
    assert.equal(fake.uploadLog.length, uploadsBefore, 'step 2 uploaded again at its turn');
    const mine = fake.calls.slice(calls);
    const posts = mine.filter((c) => c.method === 'chat.postMessage');
    const shares = mine.filter((c) => c.method === 'files.completeUploadExternal');
    // The parent, then step 1's words while its files upload; none for step 2.
    assert.deepEqual(
      posts.map((c) => (c.args.thread_ts ? messageText(c).slice(0, 8) : 'parent')),
      ['parent', '✔ Step 1'],
    );
    assert.equal(shares.length, 2);
    assert.equal(shares[0]?.args.blocks, undefined, "step 1's files alone: its words are out");
    assert.ok(mine.indexOf(posts[1] as SlackCall) < mine.indexOf(shares[0] as SlackCall));
    assert.match(messageText(shares[1] as SlackCall), /^✔ Step 2 · /);
    assert.equal(first.messageIds?.length, 1);
    assert.equal(first.fileIds?.length, 2);
    assert.deepEqual(second.messageIds, [], 'the fake, like Slack at times, says no ts for a share');
    assert.equal(second.fileIds?.length, 2);
  });
});
