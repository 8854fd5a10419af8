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
  type LastStep,
  type PostContext,
  type PostedRef,
} from '../../src/pipeline/poster.js';
import type { PipelineState } from '../../src/pipeline/state.js';
import { reportJobProblem } from '../../src/pipeline/job-validation.js';
import { reportJobId, type ReportJob } from '../../src/model/jobs.js';
import { recordPost } from '../../src/ops/metrics.js';
import { triggerText } from '../../src/messages/alert-text.js';
import { afterVantagePost, vantageOf, vantageWait } from './vantage-posting.js';
import { asHandling, earlierPosted, handOverToFinal, type Offer } from './report-order.js';
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

/** The adapter for the report's platform; reports are queued per platform, so a missing one is a misrouted job. */
function posterOf(r: ReportJob, deps: ReportPosterDeps): ChatPoster {
  const poster = deps.posters.get(r.request.replyTo.platform);
  // Keep the job (the queue retries), never drop it.
  if (!poster) throw new Error(`no ${r.request.replyTo.platform} adapter in this bot process for ${reportJobId(r)}`);
  return poster;
}

async function contextOf(r: ReportJob, deps: ReportPosterDeps): Promise<PostContext> {
  const vantage = vantageOf(r, deps.state);
  const diff = await diffSincePrevious(deps.state, r);
  return {
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
}

/** A step's evidence as stored by the worker (undefined bytes: expired before posting). */
function evidenceOf(r: ReportJob, deps: ReportPosterDeps): Promise<EvidenceFile[]> {
  if (r.kind !== 'step') return Promise.resolve([]);
  return Promise.all(
    r.evidence.map(async (meta) => {
      const data = await deps.state.getEvidence(meta.sha256);
      return data ? { ...meta, data } : meta;
    }),
  );
}

/**
 * Lets the platform start on a step's files as soon as its evidence exists, while earlier reports are still
 * being posted (Slack uploads them then; nothing shows until the step's turn). A failure here is only logged:
 * the step's post does the work again and retries as usual.
 */
function prepare(r: ReportJob, poster: ChatPoster, ctx: PostContext, files: EvidenceFile[], log: Logger): void {
  // A later watch round posts no steps.
  if (r.kind !== 'step' || !poster.prepareStep || (r.request.watch && r.request.watch.round > 1)) return;
  poster
    .prepareStep(ctx, r.step, files)
    .catch((err: unknown) => log.log('info', 'preparing a step ahead of its turn failed', errorFields(err)));
}

/**
 * undefined when the report may be posted now; 'later': back to the queue; an Offer: the report just before
 * handed itself over, to go out in this one's post.
 */
async function orderWait(
  r: ReportJob,
  ctx: PostContext,
  deps: ReportPosterDeps,
  log: Logger,
): Promise<'later' | Offer | undefined> {
  const id = reportJobId(r);
  const earlier = await earlierPosted(deps.state, r.checkId, r.seq);
  if (typeof earlier === 'object') {
    firstSeen.delete(id);
    return earlier;
  }
  const waitFor = !earlier ? 'an earlier report' : await vantageWait(r, ctx.vantage);
  if (waitFor !== undefined) {
    const since = firstSeen.get(id) ?? Date.now();
    firstSeen.set(id, since);
    if (Date.now() - since < (deps.maxOrderWaitMs ?? 60_000)) return 'later';
    log.log('warn', `posting out of order: waited in vain for ${waitFor}`, { seq: r.seq });
  }
  firstSeen.delete(id);
  return undefined;
}

/** The final report's JSON, archived as the evidence of its post. */
/** The final report's evidence: report.json and the check's evidence page, archived beside its evidence. */
async function finalEvidence(r: ReportJob & { kind: 'final' }, deps: ReportPosterDeps): Promise<EvidenceFile[]> {
  const report = evidenceItem('report.json', MEDIA.json, `${JSON.stringify(r.report, null, 2)}\n`);
  deps.audit?.evidence.put(report.data, report.sha256);
  const earlier = r.request.rerunOf ? await storedReport(deps.state, r.request.rerunOf) : undefined;
  const page = deps.audit ? archiveCheckPage(deps.audit, r.report, earlier) : undefined;
  return [
    { name: report.name, sha256: report.sha256, bytes: report.bytes, mediaType: report.mediaType, data: report.data },
    ...(page ? [page] : []),
  ];
}

/** What a queued report posts: the platform's own "queued" view, an alert's first line, or nothing. */
async function postQueuedReport(
  r: ReportJob,
  ctx: PostContext,
  poster: ChatPoster,
): Promise<PostedRef | void | 'nothing'> {
  // Nobody typed a check an alert started: its first line says which alert did, on every platform.
  if (!poster.postQueued && r.request.trigger) return poster.postNotice(ctx, 'alert', triggerText(r.request.trigger));
  // Platforms that answer in place (Teams' reply chain, the console) have nothing more to show.
  if (!poster.postQueued) return 'nothing';
  return poster.postQueued(ctx);
}

/** Posts the report through its platform; 'nothing': the platform shows nothing for it. */
async function postReport(
  r: ReportJob,
  ctx: PostContext,
  poster: ChatPoster,
  deps: ReportPosterDeps,
  evidence: EvidenceFile[],
  lastStep?: LastStep,
): Promise<{ files: EvidenceFile[]; posted: PostedRef | void | 'nothing' }> {
  switch (r.kind) {
    case 'step':
      return { files: evidence, posted: await poster.postStep(ctx, r.step, evidence) };
    case 'final': {
      // The page is archived after the diagnosis went out (rendering it is not on the path people wait on); its
      // link is signed over the check id alone, and the page is in the archive before the post's audit record.
      const page = deps.audit && deps.pageLink ? deps.pageLink(r.checkId) : undefined;
      const posted = await poster.postFinal(page ? { ...ctx, page } : ctx, r.report, lastStep);
      const files = await finalEvidence(r, deps);
      // Kept for the next re-run or watch round to compare against.
      await deps.state.setMemo(r.checkId, 'report', JSON.stringify(r.report));
      return { files, posted };
    }
    case 'cancelled':
      // What stopped is the worker's account, made from the process tables (cancel-cleanup.ts).
      return {
        files: [],
        posted: await poster.postNotice(
          ctx,
          'cancelled',
          `Check ${r.checkId} was cancelled by ${r.by}.${r.stopped ? ` ${r.stopped}` : ''}`,
        ),
      };
    case 'stopped':
      return { files: [], posted: await poster.postNotice(ctx, 'stopped', r.text) };
    case 'error':
      return {
        files: [],
        posted: await poster.postNotice(ctx, 'error', `Check ${r.checkId} could not run: ${r.message}`),
      };
    case 'lost':
      return { files: [], posted: await poster.postNotice(ctx, 'lost', lostText(r.checkId, r.lostWorker)) };
    case 'watch':
    case 'alert':
      return { files: [], posted: await poster.postNotice(ctx, r.kind, r.text) };
    case 'queued':
      return { files: [], posted: await postQueuedReport(r, ctx, poster) };
  }
}

/** After the platform took the post: audit, mark, and tell whoever follows (a watch, a --from group). */
async function afterPosted(
  r: ReportJob,
  ctx: PostContext,
  poster: ChatPoster,
  deps: ReportPosterDeps,
  done: { files: EvidenceFile[]; posted: PostedRef | void; log: Logger; out: () => void },
): Promise<void> {
  const posted = done.posted ?? {};
  // Audit before marking: a crash in between re-posts (visible) rather than leaving a post unaudited.
  const audited = deps.audit?.append(postRecord(r, done.files, posted));
  // Asked for in order (the audit appends in that order): the check's next report need not wait for the write.
  done.out();
  await audited;
  await deps.state.markPosted(r.checkId, reportJobId(r), r.seq);
  // Where an alert's check was posted: the group's later checks and its resolved line go to the same thread.
  if (r.request.trigger && posted.thread) await deps.state.setMemo(r.checkId, 'thread', posted.thread);
  recordPost(poster.platform, 'posted');
  done.log.log('info', 'report posted', { kind: r.kind, seq: r.seq, platform: poster.platform });
  if (r.request.watch) await deps.afterWatchReport?.(r, posted);
  await afterVantagePost(r, ctx, poster, deps);
}

export async function processReport(r: ReportJob, deps: ReportPosterDeps): Promise<ReportOutcome> {
  const malformed = reportJobProblem(r);
  if (malformed) {
    // Its names would become paths and its check id keys: refuse it whole, never post part of it.
    deps.log.log('error', 'refused a malformed report job', { problem: malformed });
    return 'done';
  }
  return asHandling(r, (out) => handleReport(r, deps, out));
}

/** out: tells the check's later reports that this one is out (report-order.ts). */
async function handleReport(r: ReportJob, deps: ReportPosterDeps, out: () => void): Promise<ReportOutcome> {
  const id = reportJobId(r);
  const log = deps.log.child({ checkId: r.checkId, report: id });
  const poster = posterOf(r, deps);
  const ctx = await contextOf(r, deps);
  if (await deps.state.wasPosted(id)) {
    // A retry after a --from comparison failed to post: the report is out, the comparison may not be.
    await afterVantagePost(r, ctx, poster, deps);
    return 'done';
  }
  const evidence = await evidenceOf(r, deps);
  // Persist before posting: what chat shows must be in the archive.
  for (const f of evidence) if (f.data && !f.truncatedFrom) deps.audit?.evidence.put(f.data, f.sha256);
  prepare(r, poster, ctx, evidence, log);
  const turn = await orderWait(r, ctx, deps, log);
  if (turn === 'later') return 'later';
  if (turn !== undefined) return postWithHandedOver(r, turn, { ctx, poster, deps, evidence, log, out });
  if (await silentWatchReport(deps.state, r)) {
    if (r.kind === 'final') await deps.state.setMemo(r.checkId, 'report', JSON.stringify(r.report));
    await deps.state.markPosted(r.checkId, id, r.seq);
    await deps.afterWatchReport?.(r, {});
    return 'done';
  }
  if (joinsFinal(r, ctx, poster, evidence)) {
    const handed = await handOverToFinal({ report: r, ctx, evidence });
    if (handed === 'posted') return 'done';
    // The diagnosis's post failed: it is retried by the queue, and so is this step (which posts itself then).
    if (handed === 'failed') return 'later';
  }
  return postAndRecord(r, { ctx, poster, deps, evidence, log, out });
}

/** What posting one report needs besides the report. */
interface Posting {
  ctx: PostContext;
  poster: ChatPoster;
  deps: ReportPosterDeps;
  evidence: EvidenceFile[];
  log: Logger;
  out: () => void;
}

/**
 * Whether this step, at its turn, may go out in the diagnosis's post: a plain single-zone check (a watch's and
 * a --from group's posts have their own rules) on a platform that can carry it (ChatPoster.joinsFinal).
 */
function joinsFinal(r: ReportJob, ctx: PostContext, poster: ChatPoster, evidence: EvidenceFile[]): boolean {
  if (r.kind !== 'step' || ctx.vantage || r.request.watch) return false;
  return poster.joinsFinal?.(r.step, evidence) ?? false;
}

/** The platform's error, told to the queue: a 429 comes back after its delay, anything else with backoff. */
function retryOutcome(r: ReportJob, err: unknown, log: Logger): ReportOutcome {
  recordPost(r.request.replyTo.platform, 'retried');
  if (err instanceof RetryLaterError) {
    log.log('warn', 'platform asked to wait; will retry', { delayMs: err.delayMs, ...errorFields(err) });
    return { laterMs: err.delayMs };
  }
  log.log('warn', 'posting failed; will retry', errorFields(err));
  throw err;
}

/**
 * The diagnosis with the step handed over to it in one post: the step is audited and marked first (the audit
 * reads step, then diagnosis, as the thread does), then the diagnosis. The step's handler hears how it went.
 */
async function postWithHandedOver(r: ReportJob, offer: Offer, p: Posting): Promise<ReportOutcome> {
  const step = offer.report;
  if (r.kind !== 'final' || step.kind !== 'step') {
    // Only a diagnosis is offered a step (report-order.ts): anything else is a bug, and both go back to the queue.
    offer.settle('failed');
    throw new Error(`report ${reportJobId(step)} was handed over to ${reportJobId(r)}, which is not a diagnosis`);
  }
  let done: { files: EvidenceFile[]; posted: PostedRef | void | 'nothing' };
  try {
    done = await postReport(r, p.ctx, p.poster, p.deps, p.evidence, { step: step.step, evidence: offer.evidence });
  } catch (err) {
    offer.settle('failed');
    return retryOutcome(r, err, p.log);
  }
  const posted = done.posted === 'nothing' ? undefined : done.posted;
  try {
    await afterPosted(step, offer.ctx, p.poster, p.deps, {
      files: offer.evidence,
      posted,
      log: p.log.child({ report: reportJobId(step) }),
      out: () => undefined,
    });
  } catch (err) {
    offer.settle('failed');
    throw err;
  }
  offer.settle('posted');
  await afterPosted(r, p.ctx, p.poster, p.deps, { files: done.files, posted, log: p.log, out: p.out });
  return 'done';
}

/** Posts the report, then audits and marks it; a platform error goes back to the queue. */
async function postAndRecord(r: ReportJob, p: Posting): Promise<ReportOutcome> {
  const { ctx, poster, deps, evidence, log, out } = p;
  let done: { files: EvidenceFile[]; posted: PostedRef | void | 'nothing' };
  try {
    done = await postReport(r, ctx, poster, deps, evidence);
  } catch (err) {
    return retryOutcome(r, err, log);
  }
  if (done.posted === 'nothing') {
    out();
    await deps.state.markPosted(r.checkId, reportJobId(r), r.seq);
    // A --from group's thread is as open as it will be: the other zones need not wait.
    await afterVantagePost(r, ctx, poster, deps);
    return 'done';
  }
  await afterPosted(r, ctx, poster, deps, { files: done.files, posted: done.posted, log, out });
  return 'done';
}
