// The two queues, behind one small interface: "checks" (one queue per vantage
// zone) feeding workers, and "reports" feeding the bot side's poster.
// BullMQ on Redis in production; an in-process twin for the embedded mode.
import type { CheckRequest, ReportJob } from './types.js';

export interface Closeable {
  close(): Promise<void>;
}

export interface CheckJobContext {
  /** 1 on the first run; more after a crash or a retry. */
  attempt: number;
}

export type CheckProcessor = (request: CheckRequest, ctx: CheckJobContext) => Promise<void>;
/** 'later': not yet (an earlier report of the same check is still pending); { laterMs }: the platform asked to wait. */
export type ReportOutcome = 'done' | 'later' | { laterMs: number };
export type ReportProcessor = (report: ReportJob) => Promise<ReportOutcome>;

export function laterDelay(outcome: ReportOutcome): number | undefined {
  if (outcome === 'done') return undefined;
  return outcome === 'later' ? 100 : Math.max(50, outcome.laterMs);
}

export interface JobBus {
  addCheck(request: CheckRequest): Promise<void>;
  /**
   * Removes a check that no worker has started: 'removed'; 'active' when a
   * worker has it; 'gone' when the queue has no live job for it (never queued,
   * or it ended without updating its record).
   */
  removeQueuedCheck(request: CheckRequest): Promise<'removed' | 'active' | 'gone'>;
  addReport(report: ReportJob): Promise<void>;
  runChecks(
    zone: string,
    concurrency: number,
    processor: CheckProcessor,
    onGaveUp: (request: CheckRequest, err: Error) => Promise<void>,
    /** A worker running this check stopped holding it (detected by another worker); the queue runs it again. */
    onLost?: (request: CheckRequest) => Promise<void>,
  ): Closeable;
  /**
   * Posts reports of these platforms only: a bot process without a platform
   * leaves its reports to a process that has it.
   */
  runReports(platforms: readonly string[], processor: ReportProcessor): Closeable;
  close(): Promise<void>;
}

/** Queue names: BullMQ forbids ":" in them. */
export function checksQueueName(zone: string): string {
  return zone === 'default' ? 'checks' : `checks-${zone}`;
}

export const PLATFORM = /^[a-z][a-z0-9-]{0,31}$/;

/** One reports queue per chat platform ("reports-slack", "reports-teams", "reports-console"). */
export function reportsQueueName(platform: string): string {
  if (!PLATFORM.test(platform)) throw new Error(`not a platform name: ${JSON.stringify(platform)}`);
  return `reports-${platform}`;
}

/** What a Redis client error means, in words a chat user can act on (the client's own text is for the log). */
export function plainRedisCause(cause: string): string {
  if (/isn't writeable|enableOfflineQueue|Connection is closed|ECONNRESET|EPIPE/i.test(cause))
    return 'the connection to Redis is down';
  if (/ECONNREFUSED/.test(cause)) return 'Redis refused the connection (is it running?)';
  if (/ETIMEDOUT|timed? ?out/i.test(cause)) return 'Redis did not answer in time';
  if (/NOAUTH|WRONGPASS|NOPERM/i.test(cause)) return 'Redis refused the credentials in REDIS_URL';
  if (/ENOTFOUND|EAI_AGAIN/.test(cause)) return "Redis's host name does not resolve";
  return cause;
}

export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
  constructor(where: string, cause: string) {
    super(
      `queue unavailable: cannot reach Redis at ${where} (${plainRedisCause(cause)}). Nothing was queued: send the command again once Redis is back; the bot reconnects by itself`,
    );
  }
}

/** Hides credentials in a redis:// URL before it is shown or logged. */
export function safeRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

export const ZONE = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
