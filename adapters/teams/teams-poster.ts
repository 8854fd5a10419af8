// Posts lbcheck reports into the Teams reply chain the command came from, as
// proactive messages on the stored conversation reference. Connector 429s
// with Retry-After become queue delays; other failures are retried by the
// queue; each post is remembered once Teams accepted it.
import type { CloudAdapter } from 'botbuilder';
import { CardFactory, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Report, Step } from '../../src/model/report.js';
import { teamsPlain } from '../../src/messages/escape.js';
import { finalView, fromZone, stepView } from '../../src/messages/views.js';
import {
  postOnce,
  noticeKey,
  RetryLaterError,
  type ChatPoster,
  type EvidenceFile,
  type NoticeKind,
  type PostContext,
  type PostedRef,
} from '../../src/pipeline/poster.js';
import type { EvidenceLinkSigner } from './evidence-links.js';
import { buttonsCard, executeActions, pageActions, viewCard } from './teams-cards.js';
import { queuedText } from '../../src/pipeline/intake.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import type { ActionKind } from '../../src/pipeline/actions.js';

const ACK_KEY = 'teams.queued';
const ACK_ENDED_KEY = 'teams.queued.ended';

/** Whether this check's ack is posted by the poster (a typed check of its own) rather than answered in place. */
export function ownsAck(req: CheckRequest): boolean {
  return req.rerunOf === undefined && req.watch === undefined && req.group === undefined;
}

/** The answer to a typed check: the intake's words, and a card with its buttons (Cancel while it runs). */
function ackActivity(req: CheckRequest, cardText: string, kinds: ActionKind[]): Record<string, unknown> {
  return {
    type: 'message',
    text: teamsPlain(queuedText(req.checkId, req.target, req.all)),
    attachments: [CardFactory.adaptiveCard(buttonsCard(cardText, req.checkId, kinds))],
  };
}

export class TeamsPoster implements ChatPoster {
  readonly platform = 'teams';

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly links: EvidenceLinkSigner,
  ) {}

  private async send(ctx: PostContext, key: string, activity: Record<string, unknown>): Promise<PostedRef> {
    const reference = ctx.request.replyTo.extra?.reference as Partial<ConversationReference> | undefined;
    if (!reference) throw new Error(`check ${ctx.request.checkId} has no Teams conversation reference to reply to`);
    const id = await postOnce(ctx, key, () => this.sendActivity(reference, activity));
    return { messageIds: [id], thread: reference.conversation?.id ?? '' };
  }

  private async sendActivity(
    reference: Partial<ConversationReference>,
    activity: Record<string, unknown>,
  ): Promise<string> {
    let id = '';
    await this.inTurn(reference, async (turn) => {
      id = (await turn.sendActivity(activity))?.id ?? '';
    });
    return id;
  }

  /**
   * One proactive turn on the conversation. The adapter hands an error thrown in a turn to onTurnError, which logs
   * it and resolves (and would post "internal error" into the chain): a refused post would then count as posted.
   * So the turn keeps its error and it is thrown here, after the turn, for the queue to retry or delay.
   */
  private async inTurn(
    reference: Partial<ConversationReference>,
    work: (turn: TurnContext) => Promise<void>,
  ): Promise<void> {
    await this.connector(async () => {
      let failed: { err: unknown } | undefined;
      await this.adapter.continueConversationAsync(this.appId, reference, async (turn) => {
        await work(turn).catch((err: unknown) => {
          failed = { err };
        });
      });
      if (failed) throw failed.err;
    });
  }

  /** A connector call: a 429 becomes a queue delay (Retry-After), anything else a failure the queue retries. */
  private async connector(call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      const e = err as {
        statusCode?: number;
        response?: { headers?: { get?: (h: string) => string | undefined } };
        message?: string;
      };
      if (e.statusCode === 429)
        throw new RetryLaterError(
          Number(e.response?.headers?.get?.('retry-after') ?? 1) * 1000,
          'Teams connector rate-limited the post',
        );
      throw new Error(`Teams connector refused the post: ${e.message ?? String(err)}`, { cause: err });
    }
  }

  /**
   * The ack of a typed check, with its Cancel button, posted in the check's ordered chain (seq 0): a 429 retried
   * by the queue holds the steps behind it, so the answer never arrives after a step or the diagnosis. A click
   * (re-run), a watch's round and a --from group are answered where they were asked, as before.
   */
  async postQueued(ctx: PostContext): Promise<PostedRef> {
    if (!ownsAck(ctx.request)) return {};
    await this.ensureAck(ctx);
    const reference = ctx.request.replyTo.extra?.reference as Partial<ConversationReference> | undefined;
    return { messageIds: [(await ctx.memo.get(ACK_KEY)) ?? ''], thread: reference?.conversation?.id ?? '' };
  }

  /**
   * Posts the check's answer unless it is out: every report of the check calls this first, so whichever runs
   * first posts it and none overtakes it (one claimer at a time; a claimer whose post failed moves the others
   * on to a new generation, as Slack's parent message does).
   */
  private async ensureAck(ctx: PostContext): Promise<void> {
    const req = ctx.request;
    if (!ownsAck(req) || (await ctx.memo.get(ACK_KEY)) !== undefined) return;
    const reference = req.replyTo.extra?.reference as Partial<ConversationReference> | undefined;
    if (!reference) throw new Error(`check ${req.checkId} has no Teams conversation reference to reply to`);
    const gen = (await ctx.memo.get(`${ACK_KEY}.gen`)) ?? '0';
    if (ctx.memo.claim && !(await ctx.memo.claim(`${ACK_KEY}#${gen}`)))
      throw new RetryLaterError(100, `the answer to ${req.checkId} is being posted first`);
    try {
      await postOnce(ctx, ACK_KEY, () => this.sendActivity(reference, ackActivity(req, 'While it runs:', ['cancel'])));
    } catch (err) {
      await ctx.memo.set(`${ACK_KEY}.gen`, String(Number(gen) + 1));
      throw err;
    }
  }

  /**
   * The check ended (diagnosis, error or cancel): its ack card loses the Cancel button and says so, as Slack's
   * parent is updated. Best effort after the post it follows: a failure is retried with that post's report.
   */
  private async endAck(ctx: PostContext, ended: string): Promise<void> {
    const ackId = await ctx.memo.get(ACK_KEY);
    const reference = ctx.request.replyTo.extra?.reference as Partial<ConversationReference> | undefined;
    if (!ackId || !reference || (await ctx.memo.get(ACK_ENDED_KEY)) !== undefined) return;
    const activity = { id: ackId, ...ackActivity(ctx.request, ended, []) };
    await this.inTurn(reference, async (turn) => {
      await turn.updateActivity(activity);
    });
    await ctx.memo.set(ACK_ENDED_KEY, ended);
  }

  async postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    await this.ensureAck(ctx);
    const view = fromZone(stepView(step, evidence), ctx.vantage?.zone);
    // The card's first line is the headline: as message text too it would show twice. The summary is what
    // notifications and clients without cards show.
    return this.send(ctx, `teams.step${step.step}`, {
      type: 'message',
      summary: view.headline,
      attachments: [CardFactory.adaptiveCard(viewCard(view, evidence, this.links))],
    });
  }

  async postFinal(ctx: PostContext, report: Report): Promise<PostedRef> {
    await this.ensureAck(ctx);
    const view = fromZone(finalView(report, ctx.diff), ctx.vantage?.zone);
    const posted = await this.send(ctx, 'teams.final', {
      type: 'message',
      summary: `${view.headline} → ${report.diagnosis.team}`,
      attachments: [
        CardFactory.adaptiveCard(
          viewCard(view, [], this.links, [
            ...executeActions(
              ctx.request.checkId,
              report.diagnosis.stoppedAfter ? ['rerun', 'run-all', 'watch'] : ['rerun', 'watch'],
            ),
            ...pageActions(ctx.page),
          ]),
        ),
      ],
    });
    await this.endAck(ctx, 'Done: the diagnosis is in this reply chain.');
    return posted;
  }

  async postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef> {
    await this.ensureAck(ctx);
    // A notice may quote an error a remote system wrote: data, not markup.
    const posted = await this.send(ctx, `teams.${noticeKey(kind, text)}`, { type: 'message', text: teamsPlain(text) });
    if (kind === 'cancelled') await this.endAck(ctx, 'Cancelled: see this reply chain.');
    if (kind === 'error') await this.endAck(ctx, 'Ended: the check could not run (see this reply chain).');
    return posted;
  }
}
