// What a chat platform must do for the report poster. Adapters implement it;
// the poster decides order and exactly-once, the adapter only renders and
// sends (and throws on platform errors, so the queue retries).
import { createHash } from 'node:crypto';
import type { ReportDiff } from '../checklist/decide/report-diff.js';
import type { Report, Step } from '../model/report.js';
import type { CheckRecord, CheckRequest, EvidenceMeta, VantageGroup } from '../model/jobs.js';

export interface EvidenceFile extends EvidenceMeta {
  /** The bytes, or undefined if they expired from the store before posting. */
  data?: Buffer;
}

export interface PostMemo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /**
   * True for exactly one caller per key across every bot process (for a
   * while): who may create a thing once, e.g. the parent message, when two
   * reports of one check are posted at the same time.
   */
  claim?(key: string): Promise<boolean>;
}

/** A check of a --from command: its zone, its group, and the memo the group's checks share. */
export interface VantagePost {
  zone: string;
  group: VantageGroup;
  /** Holds what the group posts once: the one parent message, the comparison. */
  shared: PostMemo;
}

export interface PostContext {
  request: CheckRequest;
  /** The check's record as the state holds it; undefined (as when absent) once the state no longer has it. */
  record?: CheckRecord | undefined;
  /** For a final report of a re-run: what changed since the check it re-ran. */
  diff?: ReportDiff;
  /**
   * Small per-check memory shared by every bot process (e.g. the parent
   * message's id, or which parts of a post already went out), so a retried
   * post does not repeat what already reached the platform.
   */
  memo: PostMemo;
  /** Set for a check of a --from command: its posts are labelled by zone and share one parent. */
  vantage?: VantagePost;
  /** For a final report: the signed link to the check's evidence page, when this bot serves the pages. */
  page?: string;
}

/** The context whose memo holds the parent message: the group's for a --from check, so all zones share one. */
export function parentContext(ctx: PostContext): PostContext {
  return ctx.vantage ? { ...ctx, memo: ctx.vantage.shared } : ctx;
}

/**
 * Does one part of a post at most once across retries and bot processes:
 * the value it produced (a message id, a file id) is remembered in the
 * check's memo, and a retry gets the remembered value instead of posting again.
 * The part is remembered only after the platform accepted it, so a crash in
 * between re-posts rather than losing the part.
 */
export async function postOnce(ctx: PostContext, key: string, post: () => Promise<string>): Promise<string> {
  const done = await ctx.memo.get(key);
  if (done !== undefined) return done;
  const value = await post();
  await ctx.memo.set(key, value);
  return value;
}

/**
 * Thrown by an adapter when the platform says "not now" (HTTP 429 Retry-After): retry after delayMs, not
 * counted as a failure.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** 'comparison': a --from command's zones compared, posted once under the group's parent when the last one ends. */
export type NoticeKind = 'cancelled' | 'stopped' | 'error' | 'lost' | 'watch' | 'alert' | 'comparison';

/**
 * The memo key of a notice: one per kind per check, except a watch's and an alert's lines, several of which may
 * go out under the same check (one per text).
 */
export function noticeKey(kind: NoticeKind, text: string): string {
  return kind === 'watch' || kind === 'alert'
    ? `${kind}.${createHash('sha256').update(text).digest('hex').slice(0, 12)}`
    : kind;
}

/** What the platform gave back for a post: its message and file ids, for the audit log. */
export interface PostedRef {
  messageIds?: string[];
  fileIds?: string[];
  thread?: string;
  /** How it reached the user when not as a normal post (e.g. Slack's response_url where the bot is no member). */
  via?: string;
}

/** A step that goes out in the diagnosis's post (ChatPoster.joinsFinal). */
export interface LastStep {
  step: Step;
  evidence: EvidenceFile[];
}

export interface ChatPoster {
  readonly platform: string;
  postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef | void>;
  /**
   * Optional: called as soon as a step's evidence exists, possibly while earlier reports of the check are still
   * being posted, so the platform can do what shows nothing yet (Slack: upload the step's files, shared only
   * by postStep). postStep must work without it, and must not do twice what it did. The poster does not wait
   * for it; a rejection is only logged.
   */
  prepareStep?(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<void>;
  /**
   * Optional: whether this step may go out in the diagnosis's post when the diagnosis is ready by the step's
   * turn (Slack: a step with no file to share; one round trip fewer before the diagnosis). postFinal then gets
   * it as lastStep, posts it before the diagnosis, and must remember it as posted so that the step's own post,
   * should it still come (a retry), does not repeat it.
   */
  joinsFinal?(step: Step, evidence: EvidenceFile[]): boolean;
  postFinal(ctx: PostContext, report: Report, lastStep?: LastStep): Promise<PostedRef | void>;
  /** 'lost': the worker running the check died and the check is being retried. */
  postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef | void>;
  /** The check was queued: show it where its results will appear (Slack: the parent message). Optional. */
  postQueued?(ctx: PostContext): Promise<PostedRef | void>;
}
