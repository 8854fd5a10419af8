// Posts lbcheck reports to Slack: one parent message per check in the channel,
// every step in its thread with Block Kit, its ladder diagram (an uploaded PNG,
// which Slack shows inline) and its capture attached, and the parent updated
// with the result. A step's files are uploaded (getUploadURLExternal, upload)
// as soon as its evidence exists, while earlier steps are still being posted;
// its turn is then one files.completeUploadExternal carrying the step's message
// (docs/chat-path.md). Each part of a post is remembered once it reached Slack,
// so a retry after a failure never repeats it.
import type { KnownBlock, MrkdwnElement } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Report, Step } from '../../src/model/report.js';
import { finalView, fromZone, stepView } from '../../src/messages/views.js';
import {
  noticeKey,
  parentContext,
  postOnce,
  RetryLaterError,
  type ChatPoster,
  type EvidenceFile,
  type LastStep,
  type NoticeKind,
  type PostContext,
  type PostedRef,
} from '../../src/pipeline/poster.js';
import { slackEscape } from '../../src/messages/escape.js';
import type { ActionKind } from '../../src/pipeline/actions.js';
import { ExpiringMap } from '../../src/pipeline/expiring-map.js';
import { askedBy, pageBlocks, parentBlocks, viewBlocks, viewText } from './slack-blocks.js';
import {
  NOT_A_MEMBER,
  NotInChannelError,
  postToResponseUrl,
  responseUrlAllowed,
  responseUrlOf,
  withInviteHint,
  type FallbackMessage,
} from './slack-fallback.js';

/**
 * What goes into the thread, in this order: the ladder diagram first (Slack
 * shows an uploaded PNG inline, so the picture leads the evidence), and one
 * capture: the merged pcapng of both vantage points (what a network engineer
 * opens first), else the LB's. The decode, each vantage's own files, the
 * classic pcap, SVG, commands and timings stay in the archive (`lbcheck audit
 * export`): each file more in chat is one more upload before the next step.
 */
const ATTACH = [/-ladder\.png$/];
const CAPTURE_PREFERENCE = [/-both\.pcapng$/, /-lb\.pcapng$/, /\.pcapng$/, /\.pcap$/];

function attachments(evidence: EvidenceFile[]): EvidenceFile[] {
  const chosen = ATTACH.flatMap((pattern) => evidence.filter((e) => pattern.test(e.name)));
  // A worker from before pcapng (workers upgrade on their own schedule) still gets its capture posted.
  for (const pattern of CAPTURE_PREFERENCE) {
    const capture = evidence.find((e) => pattern.test(e.name));
    if (capture) return [...chosen, capture];
  }
  return chosen;
}

const NOTICE_EMOJI: Record<NoticeKind, string> = {
  error: ':x:',
  lost: ':warning:',
  watch: ':eyes:',
  alert: ':rotating_light:',
  cancelled: ':heavy_minus_sign:',
  stopped: ':heavy_minus_sign:',
  comparison: ':globe_with_meridians:',
};

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });

const isImage = (e: EvidenceFile): boolean => e.mediaType.startsWith('image/');

/** A file to upload: its bytes (cut to the cap) and the title it is shared with. */
interface Upload {
  file: Buffer;
  filename: string;
  title: string;
  sha256: string;
}

/** An upload of this process: what a step's post awaits, and whether it is already done. */
interface Uploading {
  id: Promise<string>;
  done: boolean;
}

/** How often and how many times a post looks for the parent another bot process is posting (5 s in all). */
const PARENT_WAIT_EVERY_MS = 20;
const PARENT_WAIT_LOOKS = 250;

/**
 * The parent's status once its check stopped without a diagnosis: "step 1 running…" and its Cancel button
 * would otherwise stay, false, for good.
 */
const STOPPED_STATUS: Partial<Record<NoticeKind, string>> = {
  cancelled: 'Cancelled: see this thread.',
  error: 'Ended: the check could not run (see this thread).',
};

/** Set once a re-run's queued report made the thread's parent say "Re-running" (postQueued). */
const RERUNNING_KEY = 'slack.parent.rerunning';

/** Slack refuses a message of more blocks than this. */
const SLACK_MAX_BLOCKS = 50;

/** Uploads are shared within minutes; an entry outliving its check is dropped after this. */
const UPLOADING_TTL_MS = 10 * 60_000;

/** The ts of the message a file share made, where Slack says it (it may not: sharing completes on its own). */
function shareTs(files: readonly { shares?: unknown }[], channel: string): string | undefined {
  for (const f of files) {
    const shares = f.shares as Partial<Record<'public' | 'private', Record<string, { ts?: string }[]>>> | undefined;
    const ts = shares?.public?.[channel]?.[0]?.ts ?? shares?.private?.[channel]?.[0]?.ts;
    if (ts) return ts;
  }
  return undefined;
}

export class SlackPoster implements ChatPoster {
  readonly platform = 'slack';
  /** Parent messages this process is posting now, by check (or --from group) id. */
  private readonly parentsPosting = new Map<string, Promise<string>>();
  /** This process's uploads, by check and sha256: a step's prepare and its post upload each file once. */
  private readonly uploading = new ExpiringMap<Uploading>();

  constructor(
    private readonly client: WebClient,
    private readonly fileMaxBytes: number,
    /** Origins besides Slack's hooks hosts a response_url may point at (the configured SLACK_API_URL's). */
    private readonly responseOrigins: readonly string[] = [],
  ) {}

  /** Slack's "slow down" becomes a delay for the queue; everything else is an error to retry with backoff. */
  private truncatedNote(bytes: number): string {
    return `, truncated to ${this.fileMaxBytes} of ${bytes} B: the full file is in the audit archive`;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number; message?: string; data?: { error?: string } };
      if (e.code === 'slack_webapi_platform_error' && NOT_A_MEMBER.has(e.data?.error ?? ''))
        throw new NotInChannelError(e.data?.error ?? '');
      if (e.code === 'slack_webapi_rate_limited_error')
        throw new RetryLaterError((e.retryAfter ?? 1) * 1000, `Slack rate-limited ${what}`);
      throw new Error(`Slack ${what} failed: ${e.message ?? String(err)}`, { cause: err });
    }
  }

  /**
   * The check's parent message, posted once: the "queued" report and step 1 may be posted at the same time by
   * two bot processes, so only the holder of the claim posts it and the other waits for its ts.
   */
  private async parent(ctx: PostContext): Promise<string> {
    // A re-run (a button in an existing thread) posts into that thread.
    if (ctx.request.replyTo.thread) return ctx.request.replyTo.thread;
    // A --from group's checks share one parent: its memo is the group's.
    return this.sharedParent(parentContext(ctx));
  }

  private async sharedParent(ctx: PostContext): Promise<string> {
    const done = await ctx.memo.get('slack.parent');
    if (done !== undefined) return done;
    // Posted by this process right now (the queued report, while step 1 is ready): await it, no polling.
    const key = ctx.vantage?.group.id ?? ctx.request.checkId;
    const mine = this.parentsPosting.get(key);
    if (mine) return mine;
    // A claim cannot be released, so a claimer whose post failed moves everyone on to a new generation.
    const gen = (await ctx.memo.get('slack.parent.gen')) ?? '0';
    if (ctx.memo.claim && !(await ctx.memo.claim(`slack.parent#${gen}`))) return this.awaitParent(ctx, gen);
    const posting = postOnce(ctx, 'slack.parent', () => this.postParent(ctx));
    this.parentsPosting.set(key, posting);
    try {
      return await posting;
    } catch (err) {
      await ctx.memo.set('slack.parent.gen', String(Number(gen) + 1));
      throw err;
    } finally {
      this.parentsPosting.delete(key);
    }
  }

  /** The parent another bot process is posting: its ts once that process remembered it. */
  private async awaitParent(ctx: PostContext, gen: string): Promise<string> {
    for (let i = 0; i < PARENT_WAIT_LOOKS; i++) {
      await new Promise((r) => setTimeout(r, PARENT_WAIT_EVERY_MS));
      const ts = await ctx.memo.get('slack.parent');
      if (ts !== undefined) return ts;
      if ((await ctx.memo.get('slack.parent.gen')) !== gen) return this.sharedParent(ctx);
    }
    // The claimer is slow or gone: the queue retries this post.
    throw new Error(`the parent message of ${ctx.request.checkId} is being posted by another process`);
  }

  /** One parent per check, or per --from group (its id, its zones; no buttons: each stands for one check). */
  private async postParent(ctx: PostContext): Promise<string> {
    const req = ctx.request;
    const group = ctx.vantage?.group;
    const r = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: req.replyTo.channel,
        text: group
          ? `lbcheck ${group.id}: checking ${req.target} from ${group.zones.join(', ')}, step 1 running…`
          : `lbcheck ${req.checkId}: checking ${req.target}, step 1 running…`,
        blocks: group
          ? parentBlocks(
              group.id,
              req.target,
              askedBy(req),
              `Checking from ${group.zones.join(', ')} at once: step 1 running… Each zone's verdicts follow in ` +
                `this thread, labelled by zone, then one comparison.`,
            )
          : parentBlocks(
              req.checkId,
              req.target,
              askedBy(req),
              `Checking: step 1 running… Each step's verdict follows in this thread.`,
              ['cancel'],
            ),
      }),
    );
    if (!r.ts) throw new Error('Slack chat.postMessage returned no ts for the parent message');
    return r.ts;
  }

  postQueued(ctx: PostContext): Promise<PostedRef> {
    const req = ctx.request;
    return this.orFallback(
      ctx,
      'queued',
      async () => {
        const thread = await this.parent(ctx);
        // A re-run: the thread's parent now stands for this check (its Cancel button names it).
        if (ctx.request.replyTo.thread) {
          await this.updateParent(ctx, thread, 'Re-running: step 1 running…', ['cancel']);
          await ctx.memo.set(RERUNNING_KEY, '1');
        }
        return { thread, messageIds: [thread] };
      },
      () => {
        const text =
          `lbcheck ${req.checkId}: checking ${slackEscape(req.target)}, step 1 running… Each step's ` +
          `verdict follows here.`;
        return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
      },
    );
  }

  /**
   * Posts normally; where Slack says the bot is not a member of the channel, answers through the slash
   * command's response_url instead (the first time with the invite hint), for this and every later post of
   * the check. Without a usable response_url the post is dropped and the audit record says so.
   */
  private async orFallback(
    ctx: PostContext,
    key: string,
    post: () => Promise<PostedRef>,
    message: () => FallbackMessage,
  ): Promise<PostedRef> {
    if ((await ctx.memo.get('slack.fallback')) === undefined) {
      try {
        return await post();
      } catch (err) {
        if (!(err instanceof NotInChannelError)) throw err;
        await ctx.memo.set('slack.fallback', err.slackError);
      }
    }
    const reason = (await ctx.memo.get('slack.fallback')) ?? 'not_in_channel';
    const url = responseUrlOf(ctx);
    if (!url || !responseUrlAllowed(url, this.responseOrigins))
      return { via: `dropped: ${reason} and no usable response_url (invite @lbcheck to the channel)` };
    const sent = await postOnce(ctx, `slack.${key}.respond`, async () => {
      const first = (await ctx.memo.get('slack.respond.uses')) === undefined;
      return (await postToResponseUrl(ctx, url, first ? withInviteHint(message()) : message())) ? 'sent' : 'spent';
    });
    return {
      via:
        sent === 'sent' ? `response_url (${reason})` : `dropped: ${reason} and the response_url is used up or expired`,
    };
  }

  private evidenceNote(ctx: PostContext): KnownBlock {
    return {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            `Evidence files are kept in lbcheck's audit archive (\`lbcheck audit export ` +
            `${ctx.request.checkId}\`); invite @lbcheck to get them here.`,
        },
      ],
    };
  }

  /**
   * Steps 1 and 2 may share a capture: a file already uploaded in this thread is not uploaded again, its
   * step says where it is instead.
   */
  private async withoutRepeats(
    ctx: PostContext,
    files: EvidenceFile[],
  ): Promise<{ fresh: EvidenceFile[]; notes: string[] }> {
    const fresh: EvidenceFile[] = [];
    const notes: string[] = [];
    for (const f of files) {
      const earlier = await ctx.memo.get(`slack.sha.${f.sha256}`);
      if (earlier === undefined) fresh.push(f);
      else notes.push(`${f.name} is the same file as ${earlier}, uploaded above (sha256 ${f.sha256.slice(0, 12)})`);
    }
    return { fresh, notes };
  }

  private async reply(
    ctx: PostContext,
    key: string,
    text: string,
    blocks: KnownBlock[],
  ): Promise<{ thread: string; ts: string }> {
    const thread = await this.parent(ctx);
    const ts = await postOnce(ctx, key, async () => {
      const r = await this.call('chat.postMessage', () =>
        this.client.chat.postMessage({ channel: ctx.request.replyTo.channel, thread_ts: thread, text, blocks }),
      );
      return r.ts ?? '';
    });
    return { thread, ts };
  }

  /** Text and captures over the cap are cut (and say so); an image cut short is useless, so it is left out. */
  private uploadsOf(files: EvidenceFile[]): { uploads: Upload[]; notes: string[] } {
    const notes: string[] = [];
    const missing = files.filter((e) => !e.data).map((e) => e.name);
    if (missing.length) notes.push(`expired before posting: ${missing.join(', ')}`);
    const uploads = files.flatMap((e) => {
      if (!e.data) return [];
      const cut = e.data.length > this.fileMaxBytes;
      if (cut && isImage(e)) {
        notes.push(`${e.name} is larger than the ${this.fileMaxBytes} B upload cap: it is in the audit archive`);
        return [];
      }
      return [
        {
          file: cut ? e.data.subarray(0, this.fileMaxBytes) : e.data,
          filename: e.name,
          sha256: e.sha256,
          title: `${e.name} (sha256 ${e.sha256.slice(0, 12)}${cut ? this.truncatedNote(e.data.length) : ''})`,
        },
      ];
    });
    return { uploads, notes };
  }

  postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    const view = fromZone(stepView(step, evidence), ctx.vantage?.zone);
    return this.orFallback(
      ctx,
      `step${step.step}`,
      () => this.postStepInThread(ctx, step, evidence),
      () => ({ text: viewText(view), blocks: [...viewBlocks(view), this.evidenceNote(ctx)] }),
    );
  }

  /**
   * Uploads a file once per check (getUploadURLExternal, then the bytes to the URL Slack gave): concurrent
   * askers share this process's upload, retries anywhere get its remembered file id. The file shows nowhere
   * until a completeUploadExternal shares it. A failed upload is forgotten, so the next attempt tries again.
   */
  private upload(ctx: PostContext, u: Upload): Uploading {
    const key = `${ctx.request.checkId}:${u.sha256}`;
    const known = this.uploading.get(key);
    if (known) return known;
    const entry: Uploading = {
      done: false,
      id: postOnce(ctx, `slack.upload.${u.sha256}`, async () => {
        const r = await this.call('files.getUploadURLExternal', () =>
          this.client.files.getUploadURLExternal({ filename: u.filename, length: u.file.length }),
        );
        if (!r.file_id || !r.upload_url) throw new Error(`Slack gave no upload URL for ${u.filename}`);
        const url = r.upload_url;
        const sent = await this.call('the file upload', () =>
          fetch(url, { method: 'POST', body: Uint8Array.from(u.file) }),
        );
        if (!sent.ok) throw new Error(`Slack's upload URL answered ${sent.status} for ${u.filename}`);
        return r.file_id;
      }),
    };
    this.uploading.set(key, entry, UPLOADING_TTL_MS);
    entry.id.then(
      () => (entry.done = true),
      () => this.uploading.delete(key),
    );
    return entry;
  }

  async prepareStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<void> {
    // Where the bot is no member, nothing is shared: nothing to upload.
    if ((await ctx.memo.get('slack.fallback')) !== undefined) return;
    // A step already out has nothing to prepare (a retried report).
    if ((await ctx.memo.get(`slack.step${step.step}.files`)) !== undefined) return;
    const { uploads } = this.uploadsOf(attachments(evidence));
    await Promise.all(uploads.map((u) => this.upload(ctx, u).id));
  }

  /** Whether every upload is done already: in this process, or remembered from an earlier attempt. */
  private async uploaded(ctx: PostContext, uploads: Upload[]): Promise<boolean> {
    for (const u of uploads) {
      const mine = this.uploading.get(`${ctx.request.checkId}:${u.sha256}`);
      if (mine ? !mine.done : (await ctx.memo.get(`slack.upload.${u.sha256}`)) === undefined) return false;
    }
    return true;
  }

  /**
   * Whether a step with files posts its message before sharing them: when it is out already (a retry after
   * the share failed), and for step 1 while its files are still uploading, so the check's first verdict shows
   * at once. A later step waits for its uploads and goes out with them in one share: a message first would add
   * a round trip before the next step.
   */
  private async messageFirst(ctx: PostContext, step: Step, uploads: Upload[]): Promise<boolean> {
    if ((await ctx.memo.get(`slack.step${step.step}`)) !== undefined) return true;
    return step.step === 1 && !(await this.uploaded(ctx, uploads));
  }

  /**
   * A step's post. With files: one completeUploadExternal shares them with the step's message, as soon as they
   * are uploaded (prepareStep started that when the step's evidence existed); step 1 may post its message
   * first (messageFirst), its files then following before this returns, so before the next step. Without
   * files: one message.
   */
  private async postStepInThread(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    const view = fromZone(stepView(step, evidence), ctx.vantage?.zone);
    const thread = await this.parent(ctx);
    const key = `slack.step${step.step}`;
    const done = await postOnce(ctx, `${key}.files`, async () => {
      const { fresh, notes: repeats } = await this.withoutRepeats(ctx, attachments(evidence));
      const { uploads, notes: cuts } = this.uploadsOf(fresh);
      const notes = [...repeats, ...cuts];
      const blocks: KnownBlock[] = [
        ...viewBlocks(view),
        ...(notes.length ? [{ type: 'context' as const, elements: [mrkdwn(slackEscape(notes.join('; ')))] }] : []),
      ];
      if (uploads.length === 0) {
        const { ts } = await this.reply(ctx, key, viewText(view), blocks);
        return JSON.stringify({ ts, files: [] });
      }
      const ids = Promise.all(uploads.map((u) => this.upload(ctx, u).id));
      // Awaited below, after the early message if there is one; a failure meanwhile is not unhandled.
      ids.catch(() => undefined);
      const early = (await this.messageFirst(ctx, step, uploads))
        ? (await this.reply(ctx, key, viewText(view), blocks)).ts
        : undefined;
      const fileIds = await ids;
      const shared = uploads.map((u, i) => ({ id: fileIds[i] ?? '', title: u.title }));
      const r = await this.call('files.completeUploadExternal', () =>
        this.client.files.completeUploadExternal({
          channel_id: ctx.request.replyTo.channel,
          thread_ts: thread,
          files: shared as [(typeof shared)[number], ...typeof shared],
          ...(early === undefined ? { blocks } : {}),
        }),
      );
      for (const f of fresh) await ctx.memo.set(`slack.sha.${f.sha256}`, `step ${step.step}'s ${f.name}`);
      return JSON.stringify({ ts: early ?? shareTs(r.files ?? [], ctx.request.replyTo.channel) ?? '', files: fileIds });
    });
    const { ts, files } = JSON.parse(done) as { ts: string; files: string[] };
    // A share carrying the message may not say its ts: the audit record names the files instead.
    return { thread, messageIds: ts ? [ts] : [], fileIds: files };
  }

  /**
   * A step with no file to share may go out with the diagnosis: a message of its own would be one more round
   * trip between the command and the diagnosis (issue 28).
   */
  joinsFinal(_step: Step, evidence: EvidenceFile[]): boolean {
    return attachments(evidence).length === 0;
  }

  /** With lastStep: the step's blocks, then the diagnosis's, in one message. */
  async postFinal(ctx: PostContext, report: Report, lastStep?: LastStep): Promise<PostedRef> {
    const joined = lastStep && (await this.joinable(ctx, report, lastStep)) ? lastStep : undefined;
    // The step goes first in its own post, as it would have without the diagnosis (or is out already).
    if (lastStep && !joined) await this.postStep(ctx, lastStep.step, lastStep.evidence);
    const message = (): FallbackMessage => this.finalMessage(ctx, report, joined);
    const posted = await this.orFallback(ctx, 'final', () => this.postFinalInThread(ctx, report, joined), message);
    if (joined && posted.via !== undefined) await ctx.memo.set(`slack.step${joined.step.step}.respond`, 'sent');
    return posted;
  }

  /**
   * Whether the step goes out in the diagnosis's message: not when part of it reached Slack already (a retry
   * after a crash), nor when the two do not fit in one message (50 blocks).
   */
  private async joinable(ctx: PostContext, report: Report, lastStep: LastStep): Promise<boolean> {
    const key = `slack.step${lastStep.step.step}`;
    for (const part of [key, `${key}.files`, `${key}.respond`])
      if ((await ctx.memo.get(part)) !== undefined) return false;
    return this.finalMessage(ctx, report, lastStep).blocks.length <= SLACK_MAX_BLOCKS;
  }

  /** The diagnosis's message, after the step that goes out with it. */
  private finalMessage(ctx: PostContext, report: Report, lastStep?: LastStep): { text: string; blocks: KnownBlock[] } {
    const view = fromZone(finalView(report, ctx.diff), ctx.vantage?.zone);
    const final = { text: viewText(view), blocks: [...viewBlocks(view), ...pageBlocks(ctx.page)] };
    if (!lastStep) return final;
    const step = fromZone(stepView(lastStep.step, lastStep.evidence), ctx.vantage?.zone);
    // The blocks read in order, step then diagnosis; the text (the notification, the preview) leads with the
    // diagnosis, the news people wait for.
    return {
      text: `${final.text}\n${viewText(step)}`,
      blocks: [...viewBlocks(step), { type: 'divider' }, ...final.blocks],
    };
  }

  /** The diagnosis and the parent's update go out together: neither waits for the other's round trip. */
  private async postFinalInThread(ctx: PostContext, report: Report, lastStep?: LastStep): Promise<PostedRef> {
    const view = fromZone(finalView(report, ctx.diff), ctx.vantage?.zone);
    const thread = await this.parent(ctx);
    const message = this.finalMessage(ctx, report, lastStep);
    const posting = this.reply(ctx, 'slack.final', message.text, message.blocks).then(async (out) => {
      // The step is out with it: its own post, should it still come (a retry), finds it remembered and is not made.
      if (lastStep)
        await ctx.memo.set(`slack.step${lastStep.step.step}.files`, JSON.stringify({ ts: out.ts, files: [] }));
      return out;
    });
    // A --from group's parent shows the comparison instead, once every zone has ended.
    if (ctx.vantage) return { thread, messageIds: [(await posting).ts] };
    // Even over a stop's update (a cancel, an error): the diagnosis wins (showStopOnParent).
    const updating = postOnce(ctx, 'slack.parent.updated', async () => {
      await this.updateParent(
        ctx,
        thread,
        `*${slackEscape(view.headline)}* → ${slackEscape(report.diagnosis.team)}`,
        report.diagnosis.stoppedAfter ? ['rerun', 'run-all', 'watch'] : ['rerun', 'watch'],
      );
      return '1';
    });
    // Both settle before either's failure is thrown: a retry then repeats only what did not reach Slack.
    const [posted, updated] = await Promise.allSettled([posting, updating]);
    if (posted.status === 'rejected') throw posted.reason;
    if (updated.status === 'rejected') throw updated.reason;
    return { thread, messageIds: [posted.value.ts, thread] };
  }

  private async updateParent(ctx: PostContext, ts: string, status: string, buttons: ActionKind[]): Promise<void> {
    const req = ctx.request;
    const id = ctx.vantage?.group.id ?? req.checkId;
    await this.call('chat.update', () =>
      this.client.chat.update({
        channel: req.replyTo.channel,
        ts,
        text: `lbcheck ${id}: ${status.replace(/\*/g, '')}`,
        blocks: parentBlocks(id, req.target, askedBy(req), status, buttons),
      }),
    );
  }

  postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef> {
    return this.orFallback(
      ctx,
      noticeKey(kind, text),
      () => this.postNoticeInThread(ctx, kind, text),
      () => ({
        text: slackEscape(text),
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: slackEscape(text) } }],
      }),
    );
  }

  private async postNoticeInThread(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef> {
    // A notice may quote an error a remote system wrote: data, not markup.
    const { thread, ts } = await this.reply(ctx, `slack.${noticeKey(kind, text)}`, slackEscape(text), [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${NOTICE_EMOJI[kind]} ${slackEscape(text)}`,
        },
      },
    ]);
    if (kind === 'comparison') await this.showComparisonOnParent(ctx, thread, text);
    const stopped = STOPPED_STATUS[kind];
    if (stopped) await this.showStopOnParent(ctx, thread, stopped);
    return { thread, messageIds: [ts] };
  }

  /**
   * A check that was cancelled or could not run: its parent stops saying "running" and loses Cancel, as the
   * diagnosis's update does. The diagnosis wins over a stop, whichever comes first: a diagnosis is the check's
   * result, and it can follow a stop (a check the in-flight sweep gave up on whose worker then finished), while
   * a stop after it (the queue giving up on a job whose diagnosis was out) changes nothing it said. So a stop
   * leaves a parent the diagnosis updated, and the diagnosis's update ('slack.parent.updated') does not look
   * at a stop's. Only two posts of one check at the same instant could still end with the stop's update last.
   */
  private async showStopOnParent(ctx: PostContext, thread: string, status: string): Promise<void> {
    // A --from group's parent shows the comparison once every zone has ended.
    if (ctx.vantage) return;
    // In a thread (a re-run, a watch round, an alert's later check) the parent says "running" only if this
    // check's queued report said so: a later watch round posts none, and its parent keeps the last diagnosis.
    if (ctx.request.replyTo.thread && (await ctx.memo.get(RERUNNING_KEY)) === undefined) return;
    if ((await ctx.memo.get('slack.parent.updated')) !== undefined) return;
    // One stop per check updates it (a cancel and an error of one check: the first), once across retries.
    await postOnce(ctx, 'slack.parent.stopped', async () => {
      await this.updateParent(ctx, thread, status, ['rerun', 'watch']);
      return '1';
    });
  }

  private async showComparisonOnParent(ctx: PostContext, thread: string, text: string): Promise<void> {
    const headline = text.split('\n')[0] ?? '';
    await postOnce(parentContext(ctx), 'slack.parent.compared', async () => {
      await this.updateParent(ctx, thread, `*${slackEscape(headline)}*`, []);
      return '1';
    });
  }
}
