// A recorded fixture's check posted through the bot's report processor, as a
// worker would have reported it: each step with its evidence (bytes in the
// state, as Redis holds them), then the final report. What the evidence page
// and incident export tests post through a chat poster.
import type { AuditLog } from '../../src/audit/audit-log.js';
import { createLogger } from '../../src/log.js';
import type { CheckRequest, ReplyTo, ReportJob } from '../../src/model/jobs.js';
import type { Report } from '../../src/model/report.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { ChatPoster, PostContext, PostedRef } from '../../src/pipeline/poster.js';
import { processReport, type ReportPosterDeps } from '../../workers/bot/report-poster.js';
import { fixtureEvidence } from './page-fixtures.js';

export interface ChatRun {
  deps: ReportPosterDeps;
  /** Posts the fixture's check (its report's id is the check id); returns its report. */
  post(fixture: string, opts?: { rerunOf?: string; replyTo?: ReplyTo; requester?: string }): Promise<Report>;
}

export function chatRun(
  poster: ChatPoster,
  audit: AuditLog,
  replyTo: ReplyTo,
  pageLink?: (checkId: string) => string,
): ChatRun {
  const state = new MemoryState();
  const deps: ReportPosterDeps = {
    state,
    posters: new Map([[poster.platform, poster]]),
    log: createLogger('silent'),
    audit,
    ...(pageLink ? { pageLink } : {}),
  };
  return {
    deps,
    async post(fixture, opts = {}) {
      const { report, evidence } = fixtureEvidence(fixture);
      const request: CheckRequest = {
        checkId: report.id,
        target: 'web',
        members: [],
        all: false,
        requester: { platform: replyTo.platform, id: opts.requester ?? 'U0ONCALL', name: 'On Call' },
        replyTo: opts.replyTo ?? replyTo,
        zone: 'default',
        requestedAt: report.startedAt,
        ...(opts.rerunOf ? { rerunOf: opts.rerunOf } : {}),
      };
      for (const e of evidence) await state.putEvidence(e.sha256, e.data, 600);
      const base = { checkId: report.id, request, worker: 'w1' };
      const jobs: ReportJob[] = report.steps.map((step, i) => ({
        ...base,
        kind: 'step',
        seq: i + 1,
        step,
        evidence: step.evidence,
      }));
      jobs.push({ ...base, kind: 'final', seq: report.steps.length + 1, report });
      for (const job of jobs) {
        const outcome = await processReport(job, deps);
        if (outcome !== 'done')
          throw new Error(`report ${job.kind} of ${report.id} was not posted: ${JSON.stringify(outcome)}`);
      }
      return report;
    },
  };
}

/** A chat poster that records the page link each diagnosis was given and answers with the thread it was asked in. */
export class ThreadPoster implements ChatPoster {
  readonly platform = 'console';
  readonly finals = new Map<string, string | undefined>();
  postStep(ctx: PostContext): Promise<PostedRef> {
    return Promise.resolve({ thread: ctx.request.replyTo.thread ?? '', messageIds: ['m'] });
  }
  postFinal(ctx: PostContext): Promise<PostedRef> {
    this.finals.set(ctx.request.checkId, ctx.page);
    return Promise.resolve({ thread: ctx.request.replyTo.thread ?? '', messageIds: ['m'] });
  }
  postNotice(): Promise<void> {
    return Promise.resolve();
  }
}
