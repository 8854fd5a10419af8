// The "reports" queue processor (bot side): posts each report through the
// platform's adapter, in step order and exactly once. Order: a report waits
// until every lower seq of its check is posted. Exactly once: a per-report
// marker is checked before and set after posting; a platform error throws, and
// the queue retries with backoff.
import type { Logger } from '../../src/log.js';
import { errorFields } from '../../src/log.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { PostRecord } from '../../src/audit/audit-record.js';
import { evidence as evidenceItem, MEDIA } from '../../src/model/evidence.js';
import type { ReportOutcome } from '../../src/pipeline/job-bus.js';
import {
  RetryLaterError,
  type ChatPoster,
  type EvidenceFile,
  type PostContext,
  type PostedRef,
} from '../../src/pipeline/poster.js';
import type { PipelineState } from '../../src/pipeline/state.js';
import { reportJobProblem } from '../../src/pipeline/job-validation.js';
import { reportJobId, type ReportJob } from '../../src/model/jobs.js';
import { recordPost } from '../../src/ops/metrics.js';
import { triggerText } from '../../src/messages/alert-text.js';
import { afterVantagePost, vantageOf, vantageWait } from './vantage-posting.js';
import { archiveCheckPage } from './final-page.js';
import { diagnosisChanged, diffReports, type ReportDiff } from '../../src/checklist/decide/report-diff.js';
import type { Report } from '../../src/model/report.js';

/** The final report of an earlier check, kept with its record for re-runs to compare against. */
export async function storedReport(state: PipelineState, checkId: string): Promise<Report | undefined> {
  const raw = await state.getMemo(checkId, 'report');
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Report;
  } catch {
    return undefined;
  }
}

async function diffSincePrevious(state: PipelineState, r: ReportJob): Promise<ReportDiff | undefined> {
  if (r.kind !== 'final' || !r.request.rerunOf) return undefined;
  const previous = await storedReport(state, r.request.rerunOf);
  return previous ? diffReports(previous, r.report) : undefined;
}

/**
 * A watch posts its first check in full, then only a diagnosis that changed (and errors): the other reports
 * of its later rounds are marked done without a post.
 */
async function silentWatchReport(state: PipelineState, r: ReportJob): Promise<boolean> {
  if (!r.request.watch || r.request.watch.round <= 1) return false;
  if (r.kind === 'queued' || r.kind === 'step' || r.kind === 'lost' || r.kind === 'cancelled' || r.kind === 'stopped')
    return true;
  if (r.kind !== 'final' || !r.request.rerunOf) return false;
  const previous = await storedReport(state, r.request.rerunOf);
  return previous !== undefined && !diagnosisChanged(previous, r.report);
}

export interface ReportPosterDeps {
  state: PipelineState;
  posters: ReadonlyMap<string, ChatPoster>;
  log: Logger;
  /** Told about every report of a watch's check once it is done (posted or silent): the watch moves on. */
  afterWatchReport?: (r: ReportJob, posted: PostedRef) => Promise<void>;
  /** After this long, a report stops waiting for an earlier one that never came. */
  maxOrderWaitMs?: number;
  /** Where posted reports and their evidence are recorded. */
  audit?: AuditLog;
  /** The signed link to a check's evidence page (adapters/evidence-http.ts); unset: the pages are not served. */
  pageLink?: (checkId: string) => string;
}

const firstSeen = new Map<string, number>();
/** A claim outlives any post; one held by a crashed process lapses after this and the post is retried. */
const CLAIM_TTL_S = 120;

function postRecord(r: ReportJob, files: EvidenceFile[], posted: PostedRef): PostRecord {
  const req = r.request;
  const commandsFile = files.find((f) => f.name.endsWith('-commands.txt'))?.data?.toString('utf8') ?? '';
  const base = {
    type: 'post' as const,
    checkId: r.checkId,
    kind: r.kind,
    target: req.target,
    requester: `${req.requester.platform}:${req.requester.id}${req.requester.name ? ` (${req.requester.name})` : ''}`,
    platform: req.replyTo.platform,
    channel: req.replyTo.channel,
    ...((posted.thread ?? req.replyTo.thread) ? { thread: posted.thread ?? req.replyTo.thread } : {}),
    messageIds: posted.messageIds ?? [],
    fileIds: posted.fileIds ?? [],
    ...(posted.via ? { via: posted.via } : {}),
    evidence: files.map((f) => ({
      name: f.name,
      sha256: f.sha256,
      bytes: f.bytes,
      ...(f.truncatedFrom ? { truncatedFrom: f.truncatedFrom } : {}),
    })),
    commands: commandsFile.split('\n').filter((l) => l !== '' && l !== '(no remote commands)'),
    worker: r.worker,
    zone: req.zone,
    requestedAt: req.requestedAt,
  };
  switch (r.kind) {
    case 'step':
      return { ...base, step: r.step.step, verdict: r.step.verdict, summary: r.step.summary };
    case 'final':
      return { ...base, culprit: r.report.diagnosis.culprit, summary: r.report.diagnosis.summary };
    case 'cancelled':
      return { ...base, summary: `cancelled by ${r.by}` };
    case 'stopped':
      return { ...base, summary: r.text };
    case 'error':
      return { ...base, summary: r.message };
    case 'lost':
      return { ...base, summary: 'the worker running the check was lost; retried' };
    case 'queued':
      return { ...base, summary: 'queued; the check is shown where its results will appear' };
    case 'watch':
    case 'alert':
      return { ...base, summary: r.text };
  }
}

function lostText(checkId: string, worker: string | undefined): string {
  return (
    `The worker running check ${checkId}${worker ? ` (${worker})` : ''} was lost: it stopped renewing its ` +
    `hold on the check (killed, crashed, or its host went away). The check is being run again by another worker; ` +
    `steps already posted here are not posted again.`
  );
}

// eslint-disable-next-line max-lines-per-function, complexity -- to split (issue 30, docs/architecture.md)
export async function processReport(r: ReportJob, deps: ReportPosterDeps): Promise<ReportOutcome> {
  const malformed = reportJobProblem(r);
  if (malformed) {
    // Its names would become paths and its check id keys: refuse it whole, never post part of it.
    deps.log.log('error', 'refused a malformed report job', { problem: malformed });
    return 'done';
  }
  const id = reportJobId(r);
  const log = deps.log.child({ checkId: r.checkId, report: id });
  const vantage = vantageOf(r, deps.state);
  const poster = deps.posters.get(r.request.replyTo.platform);
  if (!poster) {
    // Reports are queued per platform, so this is a misrouted job: keep it (the queue retries), never drop it.
    throw new Error(`no ${r.request.replyTo.platform} adapter in this bot process for ${id}`);
  }
  const diff = await diffSincePrevious(deps.state, r);
  const ctx: PostContext = {
    request: r.request,
    record: await deps.state.getCheck(r.checkId),
    ...(diff ? { diff } : {}),
    memo: {
      get: (k) => deps.state.getMemo(r.checkId, k),
      set: (k, v) => deps.state.setMemo(r.checkId, k, v),
      claim: (k) => deps.state.claimOnce(`memo-claim:${r.checkId}:${k}`, CLAIM_TTL_S),
    },
    ...(vantage ? { vantage } : {}),
  };
  if (await deps.state.wasPosted(id)) {
    // A retry after a --from comparison failed to post: the report is out, the comparison may not be.
    await afterVantagePost(r, ctx, poster, deps);
    return 'done';
  }
  const cursor = await deps.state.lastPosted(r.checkId);
  const waitFor = cursor < r.seq - 1 ? 'an earlier report' : await vantageWait(r, vantage);
  if (waitFor !== undefined) {
    const since = firstSeen.get(id) ?? Date.now();
    firstSeen.set(id, since);
    if (Date.now() - since < (deps.maxOrderWaitMs ?? 60_000)) return 'later';
    log.log('warn', `posting out of order: waited in vain for ${waitFor}`, { seq: r.seq, cursor });
  }
  firstSeen.delete(id);
  if (await silentWatchReport(deps.state, r)) {
    if (r.kind === 'final') await deps.state.setMemo(r.checkId, 'report', JSON.stringify(r.report));
    await deps.state.markPosted(r.checkId, id, r.seq);
    await deps.afterWatchReport?.(r, {});
    return 'done';
  }
  let files: EvidenceFile[] = [];
  let posted: PostedRef | void;
  try {
    switch (r.kind) {
      case 'step': {
        files = await Promise.all(
          r.evidence.map(async (meta) => {
            const data = await deps.state.getEvidence(meta.sha256);
            return data ? { ...meta, data } : meta;
          }),
        );
        // Persist before posting: what chat shows must be in the archive.
        for (const f of files) if (f.data && !f.truncatedFrom) deps.audit?.evidence.put(f.data, f.sha256);
        posted = await poster.postStep(ctx, r.step, files);
        break;
      }
      case 'final': {
        const report = evidenceItem('report.json', MEDIA.json, `${JSON.stringify(r.report, null, 2)}\n`);
        deps.audit?.evidence.put(report.data, report.sha256);
        // The check's evidence page, archived beside its evidence and linked from the diagnosis when served.
        const earlier = r.request.rerunOf ? await storedReport(deps.state, r.request.rerunOf) : undefined;
        const page = deps.audit ? archiveCheckPage(deps.audit, r.report, earlier) : undefined;
        files = [
          {
            name: report.name,
            sha256: report.sha256,
            bytes: report.bytes,
            mediaType: report.mediaType,
            data: report.data,
          },
          ...(page ? [page] : []),
        ];
        posted = await poster.postFinal(
          page && deps.pageLink ? { ...ctx, page: deps.pageLink(r.checkId) } : ctx,
          r.report,
        );
        // Kept for the next re-run or watch round to compare against.
        await deps.state.setMemo(r.checkId, 'report', JSON.stringify(r.report));
        break;
      }
      case 'cancelled':
        // What stopped is the worker's account, made from the process tables (cancel-cleanup.ts).
        posted = await poster.postNotice(
          ctx,
          'cancelled',
          `Check ${r.checkId} was cancelled by ${r.by}.${r.stopped ? ` ${r.stopped}` : ''}`,
        );
        break;
      case 'stopped':
        posted = await poster.postNotice(ctx, 'stopped', r.text);
        break;
      case 'error':
        posted = await poster.postNotice(ctx, 'error', `Check ${r.checkId} could not run: ${r.message}`);
        break;
      case 'lost':
        posted = await poster.postNotice(ctx, 'lost', lostText(r.checkId, r.lostWorker));
        break;
      case 'watch':
      case 'alert':
        posted = await poster.postNotice(ctx, r.kind, r.text);
        break;
      case 'queued':
        // Nobody typed a check an alert started: its first line says which alert did, on every platform.
        if (!poster.postQueued && r.request.trigger) {
          posted = await poster.postNotice(ctx, 'alert', triggerText(r.request.trigger));
          break;
        }
        // Platforms that answer in place (Teams' reply chain, the console) have nothing more to show.
        if (!poster.postQueued) {
          await deps.state.markPosted(r.checkId, id, r.seq);
          // A --from group's thread is as open as it will be: the other zones need not wait.
          await afterVantagePost(r, ctx, poster, deps);
          return 'done';
        }
        posted = await poster.postQueued(ctx);
        break;
    }
  } catch (err) {
    recordPost(r.request.replyTo.platform, 'retried');
    if (err instanceof RetryLaterError) {
      log.log('warn', 'platform asked to wait; will retry', { delayMs: err.delayMs, ...errorFields(err) });
      return { laterMs: err.delayMs };
    }
    log.log('warn', 'posting failed; will retry', errorFields(err));
    throw err;
  }
  // Audit before marking: a crash in between re-posts (visible) rather than leaving a post unaudited.
  await deps.audit?.append(postRecord(r, files, posted ?? {}));
  await deps.state.markPosted(r.checkId, id, r.seq);
  // Where an alert's check was posted: the group's later checks and its resolved line go to the same thread.
  if (r.request.trigger && posted?.thread) await deps.state.setMemo(r.checkId, 'thread', posted.thread);
  recordPost(poster.platform, 'posted');
  log.log('info', 'report posted', { kind: r.kind, seq: r.seq, platform: poster.platform });
  if (r.request.watch) await deps.afterWatchReport?.(r, posted ?? {});
  await afterVantagePost(r, ctx, poster, deps);
  return 'done';
}
