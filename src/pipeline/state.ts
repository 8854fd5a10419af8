// Shared pipeline state: check records, history, cancellation, post ordering,
// evidence bytes and the per-LB capture limit. Redis-backed so every bot and
// worker process sees the same thing; an in-memory twin serves the embedded
// single-process mode.
import type { CheckRecord, CheckRequest, CheckStatus, StepDigest } from '../model/jobs.js';

/** A queued or running check that has not changed for this long is lost (a check takes minutes at most). */
export const STALE_IN_FLIGHT_MS = 60 * 60 * 1000;

/** How long things are kept: the same for the Redis store and its in-memory twin (tests shorten them). */
export interface StateLimits {
  /** A check's record, steps, post markers and memos. */
  recordTtlSeconds: number;
  /** A cancel request. */
  cancelTtlSeconds: number;
  /** History entries kept, overall and per target. */
  historyMax: number;
  /** A queued or running check with no progress for this long is lost (STALE_IN_FLIGHT_MS). */
  staleInFlightMs: number;
}

export const DEFAULT_STATE_LIMITS: StateLimits = {
  recordTtlSeconds: 30 * 24 * 3600,
  cancelTtlSeconds: 24 * 3600,
  historyMax: 1000,
  staleInFlightMs: STALE_IN_FLIGHT_MS,
};

/**
 * At most this many overdue in-flight entries (no progress for the stale time, or record gone) are read per
 * inFlightCount: the count itself reads no record, so the ack path costs the same whatever is queued.
 */
export const SWEEP_BATCH = 20;

/** When an in-flight entry becomes overdue: its stale time after its last progress, or its record's expiry. */
export function dueAt(progressAt: number, limits: StateLimits): number {
  return progressAt + Math.min(limits.staleInFlightMs, limits.recordTtlSeconds * 1000);
}

/**
 * Told about each check the sweep found lost and marked failed, so that its channel hears it and its --from
 * group can end (the backend queues an 'error' report). Called again if two sweeps race: the report is idempotent.
 */
export type LostCheckHandler = (record: CheckRecord) => Promise<void>;

export const LOST_IN_FLIGHT_ERROR = 'lost: no progress for an hour; run it again';

export function isLive(r: CheckRecord | undefined, now = Date.now(), staleMs = STALE_IN_FLIGHT_MS): boolean {
  return (
    r !== undefined && (r.status === 'queued' || r.status === 'running') && now - Date.parse(r.updatedAt) < staleMs
  );
}

export interface PipelineState {
  createCheck(request: CheckRequest): Promise<void>;
  /** Undoes createCheck (the job could not be queued): no record, no history, not in flight. */
  discardCheck(request: CheckRequest): Promise<void>;
  getCheck(id: string): Promise<CheckRecord | undefined>;
  updateCheck(
    id: string,
    patch: {
      status?: CheckStatus;
      worker?: string;
      culprit?: string;
      diagnosis?: string;
      error?: string;
      parentMessage?: string;
    },
  ): Promise<void>;
  addStep(id: string, step: StepDigest): Promise<void>;
  /** Most recent first. */
  history(target: string | undefined, limit: number): Promise<CheckRecord[]>;
  /**
   * Checks queued or running. Entries whose record expired, ended, or made no
   * progress for STALE_IN_FLIGHT_MS are swept out (a lost one is marked failed
   * and handed to the LostCheckHandler), so a lost entry cannot block its
   * target for good.
   */
  inFlight(): Promise<CheckRecord[]>;
  /**
   * How many checks of this target are queued or running, without reading their records (it is on the ack
   * path, and a target may have thousands queued): entries overdue for progress are not counted, and up to
   * SWEEP_BATCH of them are swept as inFlight does (one that progressed after all is counted again).
   */
  inFlightCount(target: string): Promise<number>;

  requestCancel(id: string, by: string): Promise<void>;
  cancelRequestedBy(id: string): Promise<string | undefined>;

  /** The highest report seq posted for a check (0 if none): the post-order cursor. */
  lastPosted(id: string): Promise<number>;
  wasPosted(reportId: string): Promise<boolean>;
  /** Marks a report posted and advances the cursor; false if it was already marked (someone else posted it). */
  markPosted(checkId: string, reportId: string, seq: number): Promise<boolean>;

  putEvidence(sha256: string, data: Buffer, ttlSeconds: number): Promise<void>;
  getEvidence(sha256: string): Promise<Buffer | undefined>;

  /** Takes one of `limit` capture slots for an LB; false when all are held. */
  tryAcquireCapture(lb: string, holder: string, limit: number, leaseMs: number): Promise<boolean>;
  releaseCapture(lb: string, holder: string): Promise<void>;
  /** Current holders (for tests and status). */
  captureHolders(lb: string): Promise<number>;

  getMemo(checkId: string, key: string): Promise<string | undefined>;
  setMemo(checkId: string, key: string, value: string): Promise<void>;

  /** Counts one event in a fixed window and returns the count so far (rate limits, shared by all processes). */
  hit(key: string, windowSeconds: number): Promise<number>;
  /**
   * True the first time a key is claimed within ttlSeconds, false after (replay detection, shared by all
   * processes).
   */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Frees a claimed key before its time (a slot given back). */
  releaseClaim(key: string): Promise<void>;

  close(): Promise<void>;
}
