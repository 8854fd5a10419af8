// One contract for the ChatPoster adapters (console, Slack, Teams), run
// through the report processor (workers/bot/report-poster.ts) on an in-memory
// state, each poster against its local fake: whatever the platform, a check's
// reports delivered out of order and at once show in order, a post the
// platform refused once is not shown twice, and every step's evidence reaches
// the user. Each platform brings a small driver: how to aim a check at it and
// how to read back what its user sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { newCheckId } from '../../src/model/check-id.js';
import type { CheckRequest, EvidenceMeta, ReplyTo, ReportJob } from '../../src/model/jobs.js';
import type { Report } from '../../src/model/report.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { ChatPoster } from '../../src/pipeline/poster.js';
import { processReport, type ReportPosterDeps } from '../../workers/bot/report-poster.js';
import { fixtureEvidence } from '../evidence/page-fixtures.js';
import { sleep } from './contract-fixtures.js';

/** Three steps with evidence, one capture shared by steps 1 and 2, and a diagnosis. */
const FIXTURE = 'healthy-dnat';

/** What a user sees of one check, in order, in the suite's words. */
export type Seen = 'answer' | `step ${number}` | 'diagnosis' | `other: ${string}`;

export interface PosterDriver {
  poster: ChatPoster;
  /** Where a check's reports go. */
  replyTo(checkId: string): ReplyTo;
  /** What the user sees of the check, in order. */
  seen(checkId: string): Seen[];
  /** The first 12 hex digits of the sha256 of every evidence file the check's posts delivered, once per delivery. */
  evidence(checkId: string): string[];
  /**
   * 'distinct': a file two steps share is delivered once (Slack uploads it once, step 2 points at it);
   * 'per-step': each step's post carries (links or names) all of its own files.
   */
  evidenceRule: 'distinct' | 'per-step';
  /** Which of a step's files the platform puts into chat (the rest stay in the audit archive); unset: all. */
  evidenceShown?: (files: readonly EvidenceMeta[]) => EvidenceMeta[];
  /**
   * The platform refuses once (500, or 429 with Retry-After: 0) a call made after part of a post reached the
   * user, so the retry could show that part twice; the answer tells whether the refusal was given.
   */
  failNextPost?: (status: 500 | 429) => () => boolean;
  /** A reply target where the bot may not post, and what the user sees there (e.g. through Slack's response_url). */
  notInChannel?: { replyTo(checkId: string): ReplyTo; seen(checkId: string): Seen[] };
}

export interface PosterPlatform {
  name: string;
  /** Why an assertion does not apply to this platform: its test is skipped, with the reason in its name. */
  notApplicable: { retry?: string; notInChannel?: string };
  /** The driver, once the platform's fake is up (called inside the tests). */
  driver(): PosterDriver;
}

/** A step's headline ("✔ Step 2 · …"), a diagnosis ("No fault found", "Diagnosis: …"), or what it is not. */
export function seenOf(text: string, isAnswer: boolean): Seen {
  if (isAnswer) return 'answer';
  const step = /\bStep (\d+) · /.exec(text);
  if (step) return `step ${Number(step[1])}`;
  if (/^(?:\[[^\]]*\] )?(?:No fault found|Diagnosis: )/m.test(text)) return 'diagnosis';
  return `other: ${text.slice(0, 80)}`;
}

/**
 * What one message shows, in order, from its lines as shown (a step's headline first): a platform may post a
 * check's last step in the diagnosis's message (Slack, ChatPoster.joinsFinal), so a step may go on to the
 * diagnosis.
 */
export function seenIn(text: string): Seen[] {
  const [head = '', ...rest] = text.split('\n');
  const first = seenOf(head, false);
  if (!first.startsWith('step ')) return [first];
  return seenOf(rest.join('\n'), false) === 'diagnosis' ? [first, 'diagnosis'] : [first];
}

interface Check {
  report: Report;
  jobs: ReportJob[];
  deps: ReportPosterDeps;
}

/** The fixture's check as a fresh check id: its queued report, its steps with their bytes in the state, its final. */
async function check(driver: PosterDriver, replyTo: (checkId: string) => ReplyTo): Promise<Check> {
  const fixture = fixtureEvidence(FIXTURE);
  const checkId = newCheckId();
  const report: Report = { ...fixture.report, id: checkId };
  const state = new MemoryState();
  for (const e of fixture.evidence) await state.putEvidence(e.sha256, e.data, 600);
  const to = replyTo(checkId);
  const request: CheckRequest = {
    checkId,
    target: 'web',
    members: [],
    all: false,
    requester: { platform: to.platform, id: 'U0ONCALL', name: 'On Call' },
    replyTo: to,
    zone: 'default',
    requestedAt: report.startedAt,
  };
  const base = { checkId, request, worker: 'w1' };
  const jobs: ReportJob[] = [
    { ...base, kind: 'queued', seq: 0, worker: 'intake' },
    ...report.steps.map((step, i): ReportJob => ({ ...base, kind: 'step', seq: i + 1, step, evidence: step.evidence })),
    { ...base, kind: 'final', seq: report.steps.length + 1, report },
  ];
  const deps: ReportPosterDeps = {
    state,
    posters: new Map([[driver.poster.platform, driver.poster]]),
    log: createLogger('silent'),
  };
  return { report, jobs, deps };
}

/** Handles a job as the queue does: 'later' and a platform's "wait" are tried again, a thrown error retried. */
async function deliver(job: ReportJob, deps: ReportPosterDeps): Promise<number> {
  let failures = 0;
  for (let tries = 0; tries < 300; tries++) {
    try {
      const outcome = await processReport(job, deps);
      if (outcome === 'done') return failures;
      await sleep(outcome === 'later' ? 10 : Math.min(outcome.laterMs, 50));
    } catch {
      failures++;
      await sleep(10);
    }
  }
  throw new Error(`${job.kind} #${job.seq} of ${job.checkId} was never posted`);
}

/** Every job of the check at once, the last first: the queue may hand them over in any order. */
async function deliverAll(c: Check): Promise<number> {
  const failures = await Promise.all([...c.jobs].reverse().map((j) => deliver(j, c.deps)));
  return failures.reduce((a, b) => a + b, 0);
}

function expectedSeen(driver: PosterDriver, report: Report): Seen[] {
  // Where the intake answers in place (console), the queued report shows nothing more.
  const answer: Seen[] = driver.poster.postQueued ? ['answer'] : [];
  return [...answer, ...report.steps.map((s): Seen => `step ${s.step}`), 'diagnosis'];
}

function expectedEvidence(driver: PosterDriver, report: Report): string[] {
  const shown = (files: readonly EvidenceMeta[]) => driver.evidenceShown?.(files) ?? files;
  const perStep = report.steps.flatMap((s) => shown(s.evidence).map((e) => e.sha256.slice(0, 12)));
  return (driver.evidenceRule === 'distinct' ? [...new Set(perStep)] : perStep).sort();
}

export function posterContract(platform: PosterPlatform): void {
  describe(`ChatPoster contract: ${platform.name}`, () => {
    it('reports delivered out of order and at once show as answer → step 1 → 2 → 3 → diagnosis', async () => {
      const driver = platform.driver();
      const c = await check(driver, (id) => driver.replyTo(id));
      assert.equal(await deliverAll(c), 0, 'no post failed');
      assert.deepEqual(driver.seen(c.report.id), expectedSeen(driver, c.report));
    });

    it("every step's evidence reaches the user exactly once", async () => {
      const driver = platform.driver();
      const c = await check(driver, (id) => driver.replyTo(id));
      await deliverAll(c);
      assert.ok(
        c.report.steps.every((s) => s.evidence.length > 0),
        'the fixture has evidence in every step',
      );
      assert.deepEqual(driver.evidence(c.report.id).sort(), expectedEvidence(driver, c.report));
    });

    for (const status of [500, 429] as const) {
      const reason = platform.notApplicable.retry;
      it(
        reason
          ? `a post refused once with ${status}: not applicable on ${platform.name} (${reason})`
          : `a post the platform refused once with ${status} after part of it was shown is retried, not repeated`,
        reason ? { skip: reason } : {},
        async () => {
          const driver = platform.driver();
          assert.ok(driver.failNextPost, 'the driver can make the platform refuse a post');
          const c = await check(driver, (id) => driver.replyTo(id));
          const refused = driver.failNextPost(status);
          await deliverAll(c);
          assert.ok(refused(), `the platform answered ${status} once`);
          assert.deepEqual(driver.seen(c.report.id), expectedSeen(driver, c.report));
          assert.deepEqual(driver.evidence(c.report.id).sort(), expectedEvidence(driver, c.report));
        },
      );
    }

    const reason = platform.notApplicable.notInChannel;
    it(
      reason
        ? `not in channel: not applicable on ${platform.name} (${reason})`
        : 'where the bot is not in the channel, the check still reaches its user, in order, once',
      reason ? { skip: reason } : {},
      async () => {
        const driver = platform.driver();
        const elsewhere = driver.notInChannel;
        assert.ok(elsewhere, 'the driver has a channel the bot is not in');
        const c = await check(driver, (id) => elsewhere.replyTo(id));
        await deliverAll(c);
        assert.deepEqual(elsewhere.seen(c.report.id), expectedSeen(driver, c.report));
      },
    );
  });
}
