// JobBus in process memory: the embedded mode of `lbcheck start` when no Redis
// is available. Same contract as BullBus (idempotent ids, retries with
// backoff, 'later' re-queues), without durability.
import type { WatchRound } from '../watch/watch.js';
import {
  afterCheckFailure,
  CHECK_ATTEMPTS,
  checkRetryDelay,
  laterDelay,
  type CheckJobContext,
  type CheckProcessor,
  type Closeable,
  type JobBus,
  type ReportProcessor,
} from './job-bus.js';
import { reportJobId, type CheckRequest, type ReportJob } from '../model/jobs.js';

const REPORT_ATTEMPTS = 12;

interface QueuedCheck {
  request: CheckRequest;
  attempt: number;
}

export class MemoryBus implements JobBus {
  private readonly checks = new Map<string, QueuedCheck[]>();
  /** Every check id ever added: adding one again is a no-op, as BullMQ keeps finished jobs' ids. */
  private readonly checkIds = new Set<string>();
  private readonly active = new Set<string>();
  /** Checks waiting for their retry, by id. */
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly reportIds = new Set<string>();
  private readonly reports: { report: ReportJob; attempts: number }[] = [];
  private readonly kicks = new Set<() => void>();
  private closed = false;

  private kick(): void {
    for (const k of [...this.kicks]) k();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      const k = (): void => {
        this.kicks.delete(k);
        resolve();
      };
      this.kicks.add(k);
    });
  }

  addCheck(request: CheckRequest): Promise<void> {
    if (!this.checkIds.has(request.checkId)) {
      this.checkIds.add(request.checkId);
      this.enqueue({ request, attempt: 1 });
    }
    return Promise.resolve();
  }

  /** One run of a check; a retryable failure queues the next run after the same backoff as BullMQ's. */
  private async attemptCheck(
    request: CheckRequest,
    attempt: number,
    processor: CheckProcessor,
    onGaveUp: (request: CheckRequest, err: Error) => Promise<void>,
  ): Promise<void> {
    const ctx: CheckJobContext = { attempt, maxAttempts: CHECK_ATTEMPTS };
    this.active.add(request.checkId);
    try {
      await processor(request, ctx);
    } catch (err) {
      const next = afterCheckFailure(err, attempt, CHECK_ATTEMPTS);
      if (next === 'retry') {
        const timer = setTimeout(() => {
          this.delayed.delete(request.checkId);
          this.enqueue({ request, attempt: attempt + 1 });
        }, checkRetryDelay(attempt));
        this.delayed.set(request.checkId, timer);
      } else if (next === 'give-up') {
        await onGaveUp(request, err instanceof Error ? err : new Error(String(err)));
      }
    } finally {
      this.active.delete(request.checkId);
    }
  }

  private enqueue(item: QueuedCheck): void {
    if (this.closed) return;
    const list = this.checks.get(item.request.zone) ?? [];
    list.push(item);
    this.checks.set(item.request.zone, list);
    this.kick();
  }

  removeQueuedCheck(request: CheckRequest): Promise<'removed' | 'active' | 'gone'> {
    const list = this.checks.get(request.zone) ?? [];
    const i = list.findIndex((r) => r.request.checkId === request.checkId);
    if (i >= 0) {
      list.splice(i, 1);
      return Promise.resolve('removed');
    }
    const retry = this.delayed.get(request.checkId);
    if (retry) {
      clearTimeout(retry);
      this.delayed.delete(request.checkId);
      return Promise.resolve('removed');
    }
    return Promise.resolve(this.active.has(request.checkId) ? 'active' : 'gone');
  }

  addReport(report: ReportJob): Promise<void> {
    const id = reportJobId(report);
    if (!this.reportIds.has(id)) {
      this.reportIds.add(id);
      this.reports.push({ report, attempts: 0 });
      this.kick();
    }
    return Promise.resolve();
  }

  runChecks(
    zone: string,
    concurrency: number,
    processor: CheckProcessor,
    onGaveUp: (request: CheckRequest, err: Error) => Promise<void>,
  ): Closeable {
    let running = 0;
    const loop = async (): Promise<void> => {
      while (!this.closed) {
        const next = running < concurrency ? this.checks.get(zone)?.shift() : undefined;
        if (!next) {
          await this.wait();
          continue;
        }
        running++;
        void this.attemptCheck(next.request, next.attempt, processor, onGaveUp).finally(() => {
          running--;
          this.kick();
        });
      }
    };
    void loop();
    return { close: () => Promise.resolve(this.kick()) };
  }

  runReports(platforms: readonly string[], processor: ReportProcessor): Closeable {
    const mine = (item: { report: ReportJob }): boolean => platforms.includes(item.report.request.replyTo.platform);
    const loop = async (): Promise<void> => {
      while (!this.closed) {
        const at = this.reports.findIndex(mine);
        const item = at >= 0 ? this.reports.splice(at, 1)[0] : undefined;
        if (!item) {
          await this.wait();
          continue;
        }
        try {
          const delay = laterDelay(await processor(item.report));
          if (delay !== undefined) setTimeout(() => this.requeue(item), delay);
        } catch {
          item.attempts++;
          if (item.attempts < REPORT_ATTEMPTS)
            setTimeout(() => this.requeue(item), Math.min(30_000, 300 * 2 ** item.attempts));
        }
      }
    };
    void loop();
    return { close: () => Promise.resolve(this.kick()) };
  }

  private requeue(item: { report: ReportJob; attempts: number }): void {
    this.reports.push(item);
    this.kick();
  }

  private readonly watchRounds = new Map<string, NodeJS.Timeout>();
  private watchProcessor: ((round: WatchRound) => Promise<void>) | undefined;
  private readonly dueRounds: WatchRound[] = [];

  addWatchRound(round: WatchRound, delayMs: number): Promise<void> {
    const id = `${round.watchId}-r${round.round}`;
    if (!this.watchRounds.has(id) && !this.closed)
      this.watchRounds.set(
        id,
        setTimeout(() => this.runRound(round), delayMs),
      );
    return Promise.resolve();
  }

  private runRound(round: WatchRound): void {
    if (this.closed) return;
    if (!this.watchProcessor) {
      this.dueRounds.push(round);
      return;
    }
    void this.watchProcessor(round).catch(() => undefined);
  }

  runWatchRounds(processor: (round: WatchRound) => Promise<void>): Closeable {
    this.watchProcessor = processor;
    for (const round of this.dueRounds.splice(0)) this.runRound(round);
    return {
      close: () => {
        this.watchProcessor = undefined;
        return Promise.resolve();
      },
    };
  }

  close(): Promise<void> {
    this.closed = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const timer of this.watchRounds.values()) clearTimeout(timer);
    this.kick();
    return Promise.resolve();
  }
}
