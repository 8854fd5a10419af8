// The two queues, behind one small interface: "checks" (one queue per vantage
// zone) feeding workers, and "reports" feeding the bot side's poster.
// BullMQ on Redis in production; an in-process twin for the embedded mode.
import { BackendUnavailableError, describeFailure } from '../errors.js';
import type { CheckRequest, ReportJob } from '../model/jobs.js';
import type { WatchRound } from '../watch/watch.js';
import { STALE_IN_FLIGHT_MS } from './state.js';

export interface Closeable {
  close(): Promise<void>;
}

export interface CheckJobContext {
  /** 1 on the first run; more after a crash or a retry. */
  attempt: number;
  /** The last attempt the queue will make: a processor reports a retryable failure itself only then. */
  maxAttempts: number;
}

/**
 * How long after it was due a sealed job may still start; an older seal is refused (LBCHECK_JOB_KEY), and a
 * used nonce is remembered this long. Checks and watch rounds: the time after which a check without progress is
 * declared lost (a later run would contradict that). Reports: a day, so a bot that was down for hours still
 * posts its results; posts are idempotent per report, so a replayed report posts nothing again.
 */
export const MAX_QUEUE_WAIT_MS = {
  checks: STALE_IN_FLIGHT_MS,
  reports: 24 * 3600_000,
  watch: STALE_IN_FLIGHT_MS,
} as const;

/** Runs of a check job: the first, and one retry (with backoff) for failures the error table calls retryable. */
export const CHECK_ATTEMPTS = 2;
export const CHECK_RETRY_DELAY_MS = 1000;

/** Backoff before retry n (1-based): exponential, as BullMQ's 'exponential' backoff computes it. */
export function checkRetryDelay(retry: number): number {
  return CHECK_RETRY_DELAY_MS * 2 ** (retry - 1);
}

/**
 * Thrown by a check processor after it has told the channel why the check
 * failed: the queue marks the job failed (BullMQ: UnrecoverableError), never
 * retries it, and does not report it again.
 */
export class ReportedFailure extends Error {
  override name = 'ReportedFailure';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * What the queue does after a check processor threw: both buses ask this, so
 * the in-memory queue retries exactly as BullMQ does.
 */
export function afterCheckFailure(err: unknown, attempt: number, maxAttempts: number): 'retry' | 'give-up' | 'done' {
  if (err instanceof ReportedFailure) return 'done';
  if (!describeFailure(err).retry) return 'give-up';
  return attempt < maxAttempts ? 'retry' : 'give-up';
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
  /** Queues a round of a watch to run after delayMs (a delayed job: it survives a restart of every process). */
  addWatchRound(round: WatchRound, delayMs: number): Promise<void>;
  /** Runs watch rounds as they come due (bot side). */
  runWatchRounds(processor: (round: WatchRound) => Promise<void>): Closeable;
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

/** The queue's Redis did not answer; the client's own words are the cause (logged), never the user's text. */
export class QueueUnavailableError extends BackendUnavailableError {
  override name = 'QueueUnavailableError';
}
