// "Watch until fixed": a check of one target re-run at an interval, posting
// only when the diagnosis changes, ending when no fault is found, when its
// time is up, or on cancel. Its state lives in Redis (through the pipeline
// state) and its rounds are delayed queue jobs, so it survives a restart.
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';
import type { PipelineState } from '../pipeline/state.js';
import type { ReplyTo, Requester } from '../model/jobs.js';

/** The user-facing bounds: a watch may not hammer an LB or outlive an incident shift. */
export const WATCH_MIN_INTERVAL_MS = 10_000;
export const WATCH_MAX_DURATION_MS = 2 * 3600_000;
export const WATCH_DEFAULT_INTERVAL_MS = 30_000;
export const WATCH_DEFAULT_DURATION_MS = 30 * 60_000;

export function newWatchId(): string {
  return `wch-${randomBytes(5).toString('hex')}`;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3600_000 } as const;

/** "30s", "5m", "1h" → milliseconds; anything else is a clear error. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d{1,5})([smh])$/.exec(text);
  if (!m) throw new InputError(`${option} takes a duration like 30s, 5m or 1h (got "${text.slice(0, 20)}")`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Checks the bounds; returns the problem in words, or undefined. */
export function watchBoundsProblem(everyMs: number, forMs: number): string | undefined {
  if (everyMs < WATCH_MIN_INTERVAL_MS) return `--every must be at least ${WATCH_MIN_INTERVAL_MS / 1000}s`;
  if (forMs > WATCH_MAX_DURATION_MS) return `--for must be at most ${WATCH_MAX_DURATION_MS / 3600_000}h`;
  if (forMs < everyMs) return '--for must be at least as long as --every';
  return undefined;
}

export const formatDuration = (ms: number): string =>
  ms % 3600_000 === 0 ? `${ms / 3600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;

export type WatchStatus = 'active' | 'ended' | 'cancelled';

export interface WatchRecord {
  id: string;
  target: string;
  members: string[];
  all: boolean;
  requester: Requester;
  replyTo: ReplyTo;
  everyMs: number;
  startedAt: string;
  endsAt: string;
  status: WatchStatus;
  /** The last round queued (1-based). */
  round: number;
  /** The check of the round in flight or last finished, and the one whose diagnosis was last posted. */
  currentCheckId?: string;
  lastCheckId?: string;
  lastCulprit?: string;
  /** The thread the watch posts in, once its first check opened one. */
  thread?: string;
  endedWhy?: string;
}

/** A round of a watch, as queued (a delayed job). */
export interface WatchRound {
  watchId: string;
  round: number;
}

/** Watch records and the one-per-target-per-channel slots, on the pipeline's shared state (Redis). */
export class WatchStore {
  constructor(private readonly state: PipelineState) {}

  async get(id: string): Promise<WatchRecord | undefined> {
    const raw = await this.state.getMemo(id, 'watch');
    return raw ? (JSON.parse(raw) as WatchRecord) : undefined;
  }

  put(w: WatchRecord): Promise<void> {
    return this.state.setMemo(w.id, 'watch', JSON.stringify(w));
  }

  private slot(replyTo: ReplyTo, target: string): string {
    return `watch-slot:${replyTo.platform}:${replyTo.channel}:${target}`;
  }

  /** The active watch of this target in this channel, if any. */
  async activeIn(replyTo: ReplyTo, target: string): Promise<WatchRecord | undefined> {
    const id = await this.state.getMemo(this.slot(replyTo, target), 'id');
    const w = id ? await this.get(id) : undefined;
    return w?.status === 'active' ? w : undefined;
  }

  /**
   * Takes the target's slot in the channel atomically: of two watch commands
   * in the same instant, one wins. The slot expires on its own a little after
   * the watch's end, so a slot never given back (a crash between a watch's
   * end and this release) blocks the target for a bounded time only.
   */
  async takeSlot(w: WatchRecord, ttlSeconds: number): Promise<boolean> {
    const key = this.slot(w.replyTo, w.target);
    if (!(await this.state.claimOnce(key, ttlSeconds))) return false;
    await this.state.setMemo(key, 'id', w.id);
    return true;
  }

  async releaseSlot(w: WatchRecord): Promise<void> {
    const key = this.slot(w.replyTo, w.target);
    // Only the holder gives the slot back (a stale watch ending late must not free its successor's).
    if ((await this.state.getMemo(key, 'id')) !== w.id) return;
    await this.state.setMemo(key, 'id', '');
    await this.state.releaseClaim(key);
  }
}
