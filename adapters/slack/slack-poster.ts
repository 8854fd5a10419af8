// Posts lbcheck reports to Slack: one parent message per check in the channel,
// every step in its thread with Block Kit, its ladder diagram (an uploaded PNG,
// which Slack shows inline), the decode and the pcapng attached
// (files.uploadV2: getUploadURLExternal, upload, completeUploadExternal), and
// the parent updated with the result. Each part of a post is remembered once
// it reached Slack, so a retry after a failure never repeats it.
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Report, Step } from '../../src/model/report.js';
import { finalView, stepView } from '../../src/messages/views.js';
import {
  RetryLaterError,
  type ChatPoster,
  type EvidenceFile,
  type NoticeKind,
  type PostContext,
  type PostedRef,
} from '../../src/pipeline/poster.js';
import { slackEscape } from '../../src/messages/escape.js';
import { parentBlocks, viewBlocks, viewText } from './slack-blocks.js';

/**
 * What goes into the thread, in this order: the ladder diagram first (Slack
 * shows an uploaded PNG inline, so the picture leads the evidence), the
 * decode, and the pcapng (LB interface names; Wireshark 3.x and tcpdump open
 * it). The classic pcap, SVG, commands and timings stay in the archive.
 */
const ATTACH = [/-ladder\.png$/, /-decode\.txt$/, /\.pcapng$/];

function attachments(evidence: EvidenceFile[]): EvidenceFile[] {
  const chosen = ATTACH.flatMap((pattern) => evidence.filter((e) => pattern.test(e.name)));
  // A worker from before pcapng (workers upgrade on their own schedule) still gets its capture posted.
  if (!chosen.some((e) => e.name.endsWith('.pcapng'))) chosen.push(...evidence.filter((e) => e.name.endsWith('.pcap')));
  return chosen;
}

const isImage = (e: EvidenceFile): boolean => e.mediaType.startsWith('image/');

export class SlackPoster implements ChatPoster {
  readonly platform = 'slack';

  constructor(
    private readonly client: WebClient,
    private readonly fileMaxBytes: number,
  ) {}

  /** Slack's "slow down" becomes a delay for the queue; everything else is an error to retry with backoff. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number; message?: string };
      if (e.code === 'slack_webapi_rate_limited_error')
        throw new RetryLaterError((e.retryAfter ?? 1) * 1000, `Slack rate-limited ${what}`);
      throw new Error(`Slack ${what} failed: ${e.message ?? String(err)}`);
    }
  }

  private async once(ctx: PostContext, key: string, fn: () => Promise<string>): Promise<string> {
    const done = await ctx.memo.get(key);
    if (done !== undefined) return done;
    const value = await fn();
    await ctx.memo.set(key, value);
    return value;
  }

  private parent(ctx: PostContext): Promise<string> {
    const req = ctx.request;
    return this.once(ctx, 'slack.parent', async () => {
      const r = await this.call('chat.postMessage', () =>
        this.client.chat.postMessage({
          channel: req.replyTo.channel,
          text: `lbcheck ${req.checkId}: checking ${req.target}`,
          blocks: parentBlocks(req.checkId, req.target, req.requester.id, 'Running: verdicts follow in this thread.'),
        }),
      );
      if (!r.ts) throw new Error('Slack chat.postMessage returned no ts for the parent message');
      return r.ts;
    });
  }

  private async reply(
    ctx: PostContext,
    key: string,
    text: string,
    blocks: KnownBlock[],
  ): Promise<{ thread: string; ts: string }> {
    const thread = await this.parent(ctx);
    const ts = await this.once(ctx, key, async () => {
      const r = await this.call('chat.postMessage', () =>
        this.client.chat.postMessage({ channel: ctx.request.replyTo.channel, thread_ts: thread, text, blocks }),
      );
      return r.ts ?? '';
    });
    return { thread, ts };
  }

  /** Text and captures over the cap are cut (and say so); an image cut short is useless, so it is left out. */
  private uploadsOf(files: EvidenceFile[]): {
    uploads: { file: Buffer; filename: string; title: string }[];
    notes: string[];
  } {
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
          title: `${e.name} (sha256 ${e.sha256.slice(0, 12)}${cut ? `, truncated to ${this.fileMaxBytes} of ${e.data.length} B: the full file is in the audit archive` : ''})`,
        },
      ];
    });
    return { uploads, notes };
  }

  async postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    const view = stepView(step, evidence);
    const { thread, ts } = await this.reply(ctx, `slack.step${step.step}`, viewText(view), viewBlocks(view));
    const files = attachments(evidence);
    const fileIds = await this.once(ctx, `slack.step${step.step}.files`, async () => {
      const { uploads, notes } = this.uploadsOf(files);
      if (uploads.length === 0) return '';
      const r = await this.call('files.uploadV2', () =>
        this.client.filesUploadV2({
          channel_id: ctx.request.replyTo.channel,
          thread_ts: thread,
          initial_comment: `Evidence for step ${step.step}${notes.length ? ` (${notes.join('; ')})` : ''}`,
          file_uploads: uploads,
        }),
      );
      const ids = (r.files ?? []).flatMap((f) => (f.files ?? []).map((x) => x.id ?? '')).filter((x) => x !== '');
      return ids.join(',');
    });
    return { thread, messageIds: [ts], fileIds: fileIds ? fileIds.split(',') : [] };
  }

  async postFinal(ctx: PostContext, report: Report): Promise<PostedRef> {
    const view = finalView(report);
    const { thread, ts } = await this.reply(ctx, 'slack.final', viewText(view), viewBlocks(view));
    const req = ctx.request;
    await this.once(ctx, 'slack.parent.updated', async () => {
      await this.call('chat.update', () =>
        this.client.chat.update({
          channel: req.replyTo.channel,
          ts: thread,
          text: `lbcheck ${req.checkId}: ${view.headline}`,
          blocks: parentBlocks(
            req.checkId,
            req.target,
            req.requester.id,
            `*${slackEscape(view.headline)}* → ${slackEscape(report.diagnosis.team)}`,
          ),
        }),
      );
      return '1';
    });
    return { thread, messageIds: [ts, thread] };
  }

  async postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef> {
    // A notice may quote an error a remote system wrote: data, not markup.
    const { thread, ts } = await this.reply(ctx, `slack.${kind}`, slackEscape(text), [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${kind === 'error' ? ':x:' : kind === 'lost' ? ':warning:' : ':heavy_minus_sign:'} ${slackEscape(text)}`,
        },
      },
    ]);
    return { thread, messageIds: [ts] };
  }
}
