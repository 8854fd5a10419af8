// The "checks" queue processor: resolves the target on this worker (its keys
// and inventory stay here), waits for a capture slot on the LB, runs the
// checklist and reports every step as its own job on the "reports" queue.
import { hostname } from 'node:os';
import type { CheckOptions, CheckTarget } from '../../src/target/check-target.js';
import { refOf, type Evidence } from '../../src/model/evidence.js';
import { CheckCancelledError, runCheck } from '../../src/checklist/observe/run-check.js';
import {
  cleanupText,
  notStartedText,
  stoppedLaterText,
  type StopItem,
} from '../../src/checklist/observe/cancel-cleanup.js';
import type { Step } from '../../src/model/report.js';
import { describeFailure } from '../../src/errors.js';
import type { Inventory } from '../../src/inventory/inventory-types.js';
import { errorFields, type Logger } from '../../src/log.js';
import { ReportedFailure, type CheckJobContext, type JobBus } from '../../src/pipeline/job-bus.js';
import type { PipelineState } from '../../src/pipeline/state.js';
import { checkJobProblem } from '../../src/pipeline/job-validation.js';
import type { CheckRequest, EvidenceMeta, ReportPayload } from '../../src/model/jobs.js';
import { authorize, refusalText } from '../../src/policy/authorize.js';
import { NO_POLICY } from '../../src/policy/policy-types.js';
import type { CaptureHubs } from '../../src/capture/capture-hubs.js';
import type { ProxyKindMemory } from '../../src/checklist/observe/proxy-kind-memory.js';
import type { SessionPool } from '../../src/remote/session-pool.js';
import { resolveTarget } from '../../src/target/resolve-target.js';
import { captureSlotTaken, recordDiagnosis, recordStep } from '../../src/ops/metrics.js';

export interface CheckWorkerDeps {
  state: PipelineState;
  bus: JobBus;
  inventory: () => Inventory | undefined;
  sessions: SessionPool;
  log: Logger;
  worker: string;
  capturesPerLb: number;
  connectTimeoutMs: number;
  silentMs: number;
  /** The probes leave from this address (the worker's vantage point); default: the route's choice. */
  sourceAddress?: string;
  evidenceMaxBytes: number;
  evidenceTtlSeconds: number;
  localCapture: boolean;
  /** Captures kept running between checks (LBCHECK_SHARED_CAPTURE); without them each check starts its own. */
  captureHubs?: CaptureHubs;
  /** Which targets this worker's last check proved HTTP proxies (step 2 skips a wait for them). */
  proxyKinds?: ProxyKindMemory;
  /** How often a running check looks for a cancel request. */
  cancelPollMs?: number;
}

export function defaultWorkerName(zone: string): string {
  return `${hostname()}/${process.pid}/${zone}`;
}

async function storeEvidence(deps: CheckWorkerDeps, items: Evidence[]): Promise<EvidenceMeta[]> {
  return Promise.all(
    items.map(async (e) => {
      const cut = e.data.length > deps.evidenceMaxBytes;
      // Keyed by the sha256 of the complete bytes: what the step's report names.
      await deps.state.putEvidence(
        e.sha256,
        cut ? e.data.subarray(0, deps.evidenceMaxBytes) : e.data,
        deps.evidenceTtlSeconds,
      );
      return { ...refOf(e), ...(cut ? { truncatedFrom: e.data.length } : {}) };
    }),
  );
}

/** Waits for one of the LB's capture slots, so a burst of checks cannot overload one LB. */
async function captureSlot(
  deps: CheckWorkerDeps,
  lb: string,
  holder: string,
  leaseMs: number,
  signal: AbortSignal,
): Promise<() => Promise<void>> {
  while (!(await deps.state.tryAcquireCapture(lb, holder, deps.capturesPerLb, leaseMs))) {
    if (signal.aborted) throw new CheckCancelledError();
    await new Promise((r) => setTimeout(r, 100));
  }
  const given = captureSlotTaken(lb);
  return () => {
    given();
    return deps.state.releaseCapture(lb, holder);
  };
}

/**
 * The worker's own policy decision: a job reaches Redis from the intake, but
 * Redis can be written by others too, and the policy may have changed since.
 */
function refusedByPolicy(request: CheckRequest, inventory: Inventory | undefined): string | undefined {
  const policy = inventory?.policy ?? NO_POLICY;
  const d = authorize(policy, inventory?.vips ?? new Map(), {
    action: 'check',
    target: request.target,
    members: request.members,
    requester: request.requester,
    channel: request.replyTo.channel,
    channelPlatform: request.replyTo.platform,
  });
  return d.allowed ? undefined : `${refusalText(policy, d)} (checked again by the worker)`;
}

/** A check cancelled while queued, or that the policy refuses now: told to the channel, never started. */
async function endedBeforeStart(request: CheckRequest, f: FailureContext, attempt: number): Promise<boolean> {
  const { deps, checkId, report, log } = f;
  const cancelledBy = await deps.state.cancelRequestedBy(checkId);
  if (cancelledBy !== undefined) {
    await deps.state.updateCheck(checkId, { status: 'cancelled' });
    await report({ kind: 'cancelled', by: cancelledBy, seq: 1, stopped: notStartedText(attempt) });
    return true;
  }
  const refused = refusedByPolicy(request, deps.inventory());
  if (refused) {
    await deps.state.updateCheck(checkId, { status: 'failed', error: refused });
    await report({ kind: 'error', message: refused });
    log.log('warn', 'check refused by the policy on the worker', { reason: refused, requester: request.requester.id });
    return true;
  }
  return false;
}

/** Aborts the running check once someone asks to cancel it (polled: the request arrives through the state). */
function pollForCancel(deps: CheckWorkerDeps, checkId: string, abort: AbortController): NodeJS.Timeout {
  return setInterval(() => {
    void deps.state.cancelRequestedBy(checkId).then(
      (by) => by !== undefined && abort.abort(),
      () => undefined,
    );
  }, deps.cancelPollMs ?? 200);
}

/**
 * A capture slot on each LB the check captures on, pushed to `releases` as each is taken (so a cancel while
 * waiting for the next still releases those already held). An HA group captures on every node: a slot on each,
 * taken in name order so two checks never wait on each other.
 */
async function takeCaptureSlots(
  deps: CheckWorkerDeps,
  target: Pick<CheckTarget, 'lb' | 'lbNodes'>,
  checkId: string,
  signal: AbortSignal,
  releases: (() => Promise<void>)[],
): Promise<void> {
  if (!target.lb) return;
  const leaseMs = deps.connectTimeoutMs * 2 + deps.silentMs + 60_000;
  const labels = [...new Set((target.lbNodes ?? [target.lb]).map((n) => n.label))].sort();
  for (const label of labels)
    releases.push(await captureSlot(deps, label, `${deps.worker}/${checkId}`, leaseMs, signal));
}

/** Each decided step: its evidence stored, the step recorded and reported (in order: runCheck awaits this). */
function stepReporter(f: FailureContext): (step: Step, evidence: Evidence[]) => Promise<void> {
  const { deps, checkId, log } = f;
  return async (step, evidence) => {
    const metas = await storeEvidence(deps, evidence);
    await deps.state.addStep(checkId, {
      step: step.step,
      name: step.name,
      verdict: step.verdict,
      summary: step.summary,
    });
    await f.report({ kind: 'step', step, evidence: metas });
    recordStep(step);
    log.log('info', 'step reported', { step: step.step, verdict: step.verdict, ms: step.ms });
  };
}

/** Resolves the target, takes the capture slots, runs the checklist and reports its steps and diagnosis. */
async function runAndReport(
  request: CheckRequest,
  f: FailureContext,
  signal: AbortSignal,
  releases: (() => Promise<void>)[],
): Promise<void> {
  const { deps, checkId, log } = f;
  const target = await resolveTarget({ target: request.target, members: request.members }, deps.inventory());
  const options: CheckOptions = {
    id: checkId,
    all: request.all,
    connectTimeoutMs: deps.connectTimeoutMs,
    silentMs: deps.silentMs,
    ...(deps.sourceAddress ? { sourceAddress: deps.sourceAddress } : {}),
  };
  await takeCaptureSlots(deps, target, checkId, signal, releases);
  const outcome = await runCheck(target, options, {
    session: (lb) => deps.sessions.get(lb),
    signal,
    localCapture: deps.localCapture,
    ...(deps.captureHubs ? { captureHubs: deps.captureHubs } : {}),
    ...(deps.proxyKinds ? { proxyKinds: deps.proxyKinds } : {}),
    onStep: stepReporter(f),
  });
  const d = outcome.report.diagnosis;
  await deps.state.updateCheck(checkId, { status: 'done', culprit: d.culprit, diagnosis: d.summary });
  await f.report({ kind: 'final', report: outcome.report });
  recordDiagnosis(outcome.report, request.replyTo.platform, request.zone, request.requestedAt);
  log.log('info', 'check done', { culprit: d.culprit });
}

export async function processCheck(request: CheckRequest, deps: CheckWorkerDeps, ctx: CheckJobContext): Promise<void> {
  const { attempt } = ctx;
  const malformed = checkJobProblem(request);
  if (malformed) {
    // Not from our intake: no channel to tell, and its fields are not safe to use.
    deps.log.log('error', 'refused a malformed check job', { problem: malformed });
    return;
  }
  const log = deps.log.child({ checkId: request.checkId });
  const { checkId } = request;
  let seq = 0;
  const report = (r: ReportPayload): Promise<void> =>
    deps.bus.addReport({ ...r, checkId, request, worker: deps.worker, seq: r.seq ?? ++seq });
  const f: FailureContext = { deps, log, checkId, report };
  if (await endedBeforeStart(request, f, attempt)) return;
  await deps.state.updateCheck(checkId, { status: 'running', worker: deps.worker });
  log.log('info', 'check started', {
    target: request.target,
    attempt,
    worker: deps.worker,
    requester: request.requester.id,
  });

  const abort = new AbortController();
  const poll = pollForCancel(deps, checkId, abort);
  const releases: (() => Promise<void>)[] = [];
  try {
    await runAndReport(request, f, abort.signal, releases);
  } catch (err) {
    if (err instanceof CheckCancelledError) {
      await reportCancelled(err, f);
      return;
    }
    await reportFailure(err, ctx, f);
  } finally {
    clearInterval(poll);
    // The slot's lease expires by itself; a failed release (Redis away) only holds it until then, but is logged.
    await releaseAll(releases).catch((err: unknown) =>
      log.log('warn', 'could not release the capture slot; its lease expires by itself', errorFields(err)),
    );
  }
}

async function releaseAll(releases: readonly (() => Promise<void>)[]): Promise<void> {
  for (const r of releases) await r();
}

/** How long a follow-up waits for what was still stopping: past this, the remote `timeout` bound ends it. */
const FOLLOW_UP_MAX_MS = 60_000;

/**
 * A cancelled check: the notice says what stopped (run-check.ts waited a bounded time for it), and when
 * something was still stopping, a follow-up says when it stopped, or that its own bound ends it.
 */
async function reportCancelled(err: CheckCancelledError, f: FailureContext): Promise<void> {
  // The follow-up counts from here, when the notice is written: the cancel request itself came earlier (the
  // worker polls for it, then waits the stop budget), so "after the cancel" would understate the time.
  const cancelledAt = Date.now();
  const by = (await f.deps.state.cancelRequestedBy(f.checkId)) ?? 'unknown';
  await f.deps.state.updateCheck(f.checkId, { status: 'cancelled' });
  await f.report({ kind: 'cancelled', by, stopped: cleanupText(err.cleanup) });
  f.log.log('info', 'check cancelled', { by, stopping: err.cleanup?.stopping.map((s) => s.what) ?? [] });
  const stopping = err.cleanup?.stopping ?? [];
  // Not awaited: the job (and the LB's capture slot) ends now; the follow-up comes when the processes are gone.
  if (stopping.length > 0)
    void followUp(stopping, cancelledAt, f).catch((e: unknown) =>
      f.log.log('warn', 'could not report when the cancelled check stopped', errorFields(e)),
    );
}

async function followUp(stopping: StopItem[], cancelledAt: number, f: FailureContext): Promise<void> {
  let bound: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    Promise.all(stopping.map((s) => s.exited.catch(() => undefined))).then(() => true),
    new Promise<boolean>((r) => (bound = setTimeout(() => r(false), FOLLOW_UP_MAX_MS))),
  ]);
  clearTimeout(bound);
  const text = gone
    ? stoppedLaterText(f.checkId, stopping, Date.now() - cancelledAt)
    : `Check ${f.checkId}: could not confirm within ${FOLLOW_UP_MAX_MS / 1000} s that ` +
      `${stopping.map((s) => s.what).join(', ')} stopped; each capture on the LB ends at its own time bound ` +
      `(the remote \`timeout\` around tcpdump) in any case.`;
  await f.report({ kind: 'stopped', text });
}

interface FailureContext {
  deps: CheckWorkerDeps;
  log: Logger;
  checkId: string;
  report: (r: ReportPayload) => Promise<void>;
}

/**
 * A check that threw: retried by the queue when the error table says it may
 * succeed later and attempts remain (rethrown as is); otherwise the channel
 * is told now, in order after the steps already posted, and the job fails
 * for good (ReportedFailure: BullMQ's UnrecoverableError, never retried).
 */
async function reportFailure(err: unknown, ctx: CheckJobContext, f: FailureContext): Promise<never> {
  const failure = describeFailure(err);
  if (failure.retry && ctx.attempt < ctx.maxAttempts) {
    f.log.log('warn', 'check failed; the queue runs it again', { ...errorFields(err), attempt: ctx.attempt });
    throw err;
  }
  if (failure.kind === 'internal')
    f.log.log('error', 'check failed: internal error', { ...errorFields(err), ref: failure.ref });
  else f.log.log('warn', 'check could not run', errorFields(err));
  const text = failure.retry && ctx.attempt > 1 ? `${failure.text} (tried ${ctx.attempt} times)` : failure.text;
  await f.deps.state.updateCheck(f.checkId, { status: 'failed', error: text });
  await f.report({ kind: 'error', message: text });
  throw new ReportedFailure(text, { cause: err });
}

/** After the queue gave up on a check (crashes, retries exhausted): tell the channel. */
export async function reportGaveUp(
  request: CheckRequest,
  err: Error,
  deps: Pick<CheckWorkerDeps, 'state' | 'bus' | 'worker' | 'log'>,
): Promise<void> {
  const failure = describeFailure(err);
  const text =
    failure.kind === 'internal'
      ? failure.text
      : `the check could not be completed: ${failure.text}. Run it again; if it keeps failing, look at the worker ` +
        `logs for ${request.checkId}`;
  await deps.state.updateCheck(request.checkId, { status: 'failed', error: text });
  await deps.bus.addReport({
    kind: 'error',
    checkId: request.checkId,
    request,
    worker: deps.worker,
    seq: 1,
    message: text,
  });
  deps.log.log('error', 'check abandoned', {
    checkId: request.checkId,
    ...errorFields(err),
    ...(failure.ref ? { ref: failure.ref } : {}),
  });
}

/** Another worker died running this check; the queue runs it again. Say so in the thread at once. */
export async function reportLost(
  request: CheckRequest,
  deps: Pick<CheckWorkerDeps, 'state' | 'bus' | 'worker' | 'log'>,
): Promise<void> {
  const record = await deps.state.getCheck(request.checkId);
  // seq 0: posted at once, whatever steps the lost worker had or had not posted.
  await deps.bus.addReport({
    kind: 'lost',
    checkId: request.checkId,
    request,
    worker: deps.worker,
    seq: 0,
    ...(record?.worker ? { lostWorker: record.worker } : {}),
  });
  deps.log.log('warn', 'worker lost; the check is retried', {
    checkId: request.checkId,
    lostWorker: record?.worker ?? null,
  });
}
