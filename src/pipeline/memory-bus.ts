// JobBus in process memory: the embedded mode of `lbcheck start` when no Redis
// is available. Same contract as BullBus (idempotent ids, retries with
// backoff, 'later' re-queues), without durability.
import {
  laterDelay,
  type CheckJobContext,
  type CheckProcessor,
  type Closeable,
  type JobBus,
  type ReportProcessor,
} from './job-bus.js';
import { reportJobId, type CheckRequest, type ReportJob } from './types.js';

const REPORT_ATTEMPTS = 12;

export class MemoryBus implements JobBus {
  private readonly checks = new Map<string, CheckRequest[]>();
  private readonly checkIds = new Set<string>();
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
      const list = this.checks.get(request.zone) ?? [];
      list.push(request);
      this.checks.set(request.zone, list);
      this.kick();
    }
    return Promise.resolve();
  }

  removeQueuedCheck(request: CheckRequest): Promise<'removed' | 'active' | 'gone'> {
    const list = this.checks.get(request.zone) ?? [];
    const i = list.findIndex((r) => r.checkId === request.checkId);
    if (i < 0) return Promise.resolve(this.checkIds.has(request.checkId) ? 'active' : 'gone');
    list.splice(i, 1);
    return Promise.resolve('removed');
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
        const ctx: CheckJobContext = { attempt: 1 };
        void processor(next, ctx)
          .catch((err: unknown) => onGaveUp(next, err instanceof Error ? err : new Error(String(err))))
          .finally(() => {
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

  close(): Promise<void> {
    this.closed = true;
    this.kick();
    return Promise.resolve();
  }
}
