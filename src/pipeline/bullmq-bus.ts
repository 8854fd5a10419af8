// JobBus on BullMQ. Check jobs are keyed by check id and report jobs by
// "<checkId>-step<N>" (or -final, -cancelled, -error), so a retried command
// or a re-run check cannot queue the same thing twice.
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  afterCheckFailure,
  CHECK_ATTEMPTS,
  CHECK_RETRY_DELAY_MS,
  checksQueueName,
  laterDelay,
  QueueUnavailableError,
  ReportedFailure,
  reportsQueueName,
  MAX_QUEUE_WAIT_MS,
  type CheckProcessor,
  type Closeable,
  type JobBus,
  type ReportProcessor,
} from './job-bus.js';
import { safeRedisUrl } from '../runtime/redis-url.js';
import { JobSeal, sealExpiresAt, type SealRefusal } from './job-seal.js';
import { RedisSeenSeals, type SeenSeals } from './seen-seals.js';
import { reportJobId, type CheckRequest, type ReportJob } from '../model/jobs.js';
import type { WatchRound } from '../watch/watch.js';
import type { Logger } from '../log.js';
import type { RateLimitedErrors } from '../runtime/redis-health.js';
import type { RedisClient } from '../runtime/redis-client.js';
import { recordPost, recordRefusedJob } from '../ops/metrics.js';
import { mergeExpositions } from '../ops/exposition.js';

export interface BullBusOptions {
  url: string;
  prefix: string;
  /** Fails fast while Redis is down (command intake answers at once). */
  producer: RedisClient;
  /** Waits for Redis (workers and poster); BullMQ duplicates it for blocking reads. */
  consumer: () => RedisClient;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Shared by the bot and its workers: jobs are sealed with it, and unsealed, stale or replayed jobs refused. */
  jobKey?: string;
  /** Where used seals are remembered; by default this Redis under the prefix. */
  seenSeals?: SeenSeals;
  log?: Logger;
  /** Where queue and worker errors go, rate-limited (they repeat on every reconnect attempt). */
  errors?: RateLimitedErrors;
}

const KEEP_DONE = { age: 24 * 3600, count: 10_000 };

type QueueKind = keyof typeof MAX_QUEUE_WAIT_MS;

const REFUSAL_TEXT: Record<SealRefusal, string> = {
  unsealed: 'not sealed with LBCHECK_JOB_KEY (written into Redis directly, or altered there?)',
  'other-id': "its seal was issued for another job id (a finished job's data re-added: a replay)",
  stale: "its seal is older than the queue's maximum wait (a replay, or it waited too long)",
  replayed: 'its seal was already used by another job (a replay)',
};
/** Watch rounds: delayed jobs, run by the bot side. */
const WATCH_QUEUE = 'watch';

/** Marks a check job failed for good (no retry), carrying what the processor threw. */
class FinalCheckFailure extends UnrecoverableError {
  override name = 'FinalCheckFailure';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.cause = cause;
  }
}

export class BullBus implements JobBus {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private readonly seal: JobSeal | undefined;
  private seen: SeenSeals | undefined;

  constructor(private readonly opts: BullBusOptions) {
    this.seal = opts.jobKey ? new JobSeal(opts.jobKey) : undefined;
  }

  private sealed<T extends object>(kind: QueueKind, id: string, data: T, delayMs = 0): T {
    return this.seal ? this.seal.seal(kind, id, data, Date.now(), delayMs) : data;
  }

  private seenSeals(): SeenSeals {
    this.seen ??= this.opts.seenSeals ?? new RedisSeenSeals(this.opts.consumer(), this.opts.prefix);
    return this.seen;
  }

  /**
   * The job's data when it may run: with a key, only when its seal is valid for this job id, not older than the
   * queue's maximum wait, and not used by another job before (the first run claims it). A refusal is logged
   * and counted; nothing runs and nothing is posted for it.
   */
  private async admitted<T extends object>(kind: QueueKind, job: Job<T>): Promise<T | undefined> {
    if (!this.seal) return job.data;
    const maxWait = MAX_QUEUE_WAIT_MS[kind];
    const opened = this.seal.open<T>(kind, job.id ?? '', job.data, maxWait);
    if (!opened.ok) return this.refused(kind, job, opened.reason);
    // The same queued job run again (retry, lost worker) keeps its id and creation time; a re-added one does not.
    const holder = `${job.id ?? ''}@${job.timestamp}`;
    const ttl = sealExpiresAt(opened.stamp, maxWait) - Date.now();
    if (!(await this.seenSeals().claim(opened.stamp.nonce, holder, ttl))) return this.refused(kind, job, 'replayed');
    return opened.data;
  }

  /** A job's data when its seal is authentic and for this job id (no claim, any age): for failure handlers. */
  private verified<T extends object>(kind: QueueKind, job: Job<T>): T | undefined {
    if (!this.seal) return job.data;
    const opened = this.seal.open<T>(kind, job.id ?? '', job.data, Number.MAX_SAFE_INTEGER);
    return opened.ok ? opened.data : undefined;
  }

  private refused(kind: QueueKind, job: Job, reason: SealRefusal): undefined {
    recordRefusedJob(kind, reason);
    this.opts.log?.log('error', `refused a ${kind} job: ${REFUSAL_TEXT[reason]}`, {
      queue: job.queueName,
      jobId: job.id ?? null,
      reason,
    });
    return undefined;
  }

  /** The queue of that name (on the producer connection), for the dashboard and the metrics. */
  queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.opts.producer, prefix: this.opts.prefix });
      // Also surfaced through add() as QueueUnavailableError.
      q.on('error', (err) => this.opts.errors?.error('bullmq queue', err));
      this.queues.set(name, q);
    }
    return q;
  }

  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new QueueUnavailableError(safeRedisUrl(this.opts.url), { cause: err });
    }
  }

  addCheck(request: CheckRequest): Promise<void> {
    return this.guarded(async () => {
      await this.queue(checksQueueName(request.zone)).add('check', this.sealed('checks', request.checkId, request), {
        jobId: request.checkId,
        attempts: CHECK_ATTEMPTS,
        backoff: { type: 'exponential', delay: CHECK_RETRY_DELAY_MS },
        removeOnComplete: KEEP_DONE,
        removeOnFail: KEEP_DONE,
      });
    });
  }

  async removeQueuedCheck(request: CheckRequest): Promise<'removed' | 'active' | 'gone'> {
    return this.guarded(async () => {
      const job = await this.queue(checksQueueName(request.zone)).getJob(request.checkId);
      if (!job) return 'gone';
      const state = await job.getState();
      if (state === 'completed' || state === 'failed' || state === 'unknown') return 'gone';
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return 'active';
      try {
        await job.remove();
        return 'removed';
      } catch {
        return 'active'; // a worker took it meanwhile
      }
    });
  }

  addReport(report: ReportJob): Promise<void> {
    return this.guarded(async () => {
      await this.queue(reportsQueueName(report.request.replyTo.platform)).add(
        report.kind,
        this.sealed('reports', reportJobId(report), report),
        {
          jobId: reportJobId(report),
          attempts: 12,
          backoff: { type: 'exponential', delay: 300 },
          removeOnComplete: KEEP_DONE,
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
    });
  }

  runChecks(
    zone: string,
    concurrency: number,
    processor: CheckProcessor,
    onGaveUp: (request: CheckRequest, err: Error) => Promise<void>,
    onLost?: (request: CheckRequest) => Promise<void>,
  ): Closeable {
    const worker = new Worker<CheckRequest>(
      checksQueueName(zone),
      async (job: Job<CheckRequest>) => {
        const request = await this.admitted('checks', job);
        // Nothing runs and nothing is posted for a forged or replayed job: its channel is the forger's choice.
        if (!request) return;
        const attempt = job.attemptsMade + 1;
        try {
          await processor(request, { attempt, maxAttempts: job.opts.attempts ?? 1 });
        } catch (err) {
          // The one table decides; BullMQ retries only what it calls retryable.
          if (afterCheckFailure(err, attempt, job.opts.attempts ?? 1) === 'retry') throw err;
          throw new FinalCheckFailure(err);
        }
      },
      {
        connection: this.opts.consumer(),
        prefix: this.opts.prefix,
        concurrency,
        lockDuration: this.opts.lockDurationMs ?? 30_000,
        stalledInterval: this.opts.stalledIntervalMs ?? 30_000,
        maxStalledCount: 1,
      },
    );
    worker.on('error', (err) => this.opts.errors?.error('bullmq checks worker', err)); // it reconnects by itself
    worker.on('failed', (job, err) => {
      if (!job) return;
      const original = err instanceof FinalCheckFailure ? err.cause : err;
      // The processor already told the channel.
      if (original instanceof ReportedFailure) return;
      const final =
        err instanceof UnrecoverableError ||
        job.attemptsMade >= (job.opts.attempts ?? 1) ||
        /stalled/i.test(err.message);
      const request = final ? this.verified('checks', job) : undefined;
      // Telling the channel needs Redis too: a failure is logged (rate-limited), not swallowed.
      if (request)
        void onGaveUp(request, original instanceof Error ? original : err).catch((e: unknown) =>
          this.opts.errors?.error('bullmq checks worker', e),
        );
    });
    // Emitted by whichever worker's stalled-job check found the dead worker's check; the job is back in the queue.
    worker.on('stalled', (jobId) => {
      void (async () => {
        const job = (await this.queue(checksQueueName(zone)).getJob(jobId)) as Job<CheckRequest> | undefined;
        const request = job ? this.verified<CheckRequest>('checks', job) : undefined;
        if (request && onLost) await onLost(request);
      })().catch((err: unknown) => this.opts.errors?.error('bullmq checks worker', err));
    });
    this.workers.push(worker);
    return { close: () => worker.close() };
  }

  runReports(platforms: readonly string[], processor: ReportProcessor): Closeable {
    const workers = platforms.map((platform) => {
      const worker = new Worker<ReportJob>(
        reportsQueueName(platform),
        async (job: Job<ReportJob>, token?: string) => {
          const report = await this.admitted('reports', job);
          if (!report) return;
          const delay = laterDelay(await processor(report));
          if (delay !== undefined) {
            await job.moveToDelayed(Date.now() + delay, token);
            throw new DelayedError();
          }
        },
        // A report may wait in its slot for the check's earlier one being posted (report-order.ts): room for
        // a whole check's reports (queued, three steps, final) and others'.
        { connection: this.opts.consumer(), prefix: this.opts.prefix, concurrency: 8 },
      );
      worker.on('error', (err) => this.opts.errors?.error('bullmq reports worker', err));
      worker.on('failed', (job, err) => {
        const givenUp = err instanceof UnrecoverableError || (job && job.attemptsMade >= (job.opts.attempts ?? 1));
        if (job && givenUp) recordPost(platform, 'failed');
      });
      this.workers.push(worker);
      return worker;
    });
    return { close: () => Promise.all(workers.map((w) => w.close())).then(() => undefined) };
  }

  addWatchRound(round: WatchRound, delayMs: number): Promise<void> {
    return this.guarded(async () => {
      // One job per round: a round queued twice (a retry, two bot processes) runs once.
      const jobId = `${round.watchId}-r${round.round}`;
      await this.queue(WATCH_QUEUE).add('round', this.sealed('watch', jobId, round, delayMs), {
        jobId,
        delay: delayMs,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: KEEP_DONE,
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    });
  }

  runWatchRounds(processor: (round: WatchRound) => Promise<void>): Closeable {
    const worker = new Worker<WatchRound>(
      WATCH_QUEUE,
      async (job: Job<WatchRound>) => {
        const round = await this.admitted('watch', job);
        if (round) await processor(round);
      },
      { connection: this.opts.consumer(), prefix: this.opts.prefix, concurrency: 4 },
    );
    worker.on('error', (err) => this.opts.errors?.error('bullmq watch worker', err));
    this.workers.push(worker);
    return { close: () => worker.close() };
  }

  /** BullMQ's own job counts (bullmq_job_count{queue,state}, completed and failed totals) of these queues. */
  async prometheusText(names: readonly string[]): Promise<string> {
    return mergeExpositions(await Promise.all(names.map((n) => this.queue(n).exportPrometheusMetrics())));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
