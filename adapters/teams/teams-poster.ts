// Posts lbcheck reports into the Teams reply chain the command came from, as
// proactive messages on the stored conversation reference. Connector 429s
// with Retry-After become queue delays; other failures are retried by the
// queue; each post is remembered once Teams accepted it.
import type { CloudAdapter } from 'botbuilder';
import { CardFactory, type ConversationReference } from 'botbuilder';
import type { Report, Step } from '../../src/model/report.js';
import { teamsPlain } from '../../src/messages/escape.js';
import { finalView, stepView } from '../../src/messages/views.js';
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
import { executeActions, viewCard } from './teams-cards.js';

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
    try {
      await this.adapter.continueConversationAsync(this.appId, reference, async (turn) => {
        id = (await turn.sendActivity(activity))?.id ?? '';
      });
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
    return id;
  }

  postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    const view = stepView(step, evidence);
    // The card's first line is the headline: as message text too it would show twice. The summary is what
    // notifications and clients without cards show.
    return this.send(ctx, `teams.step${step.step}`, {
      type: 'message',
      summary: view.headline,
      attachments: [CardFactory.adaptiveCard(viewCard(view, evidence, this.links))],
    });
  }

  postFinal(ctx: PostContext, report: Report): Promise<PostedRef> {
    const view = finalView(report, ctx.diff);
    return this.send(ctx, 'teams.final', {
      type: 'message',
      summary: `${view.headline} → ${report.diagnosis.team}`,
      attachments: [
        CardFactory.adaptiveCard(
          viewCard(
            view,
            [],
            this.links,
            executeActions(
              ctx.request.checkId,
              report.diagnosis.stoppedAfter ? ['rerun', 'run-all', 'watch'] : ['rerun', 'watch'],
            ),
          ),
        ),
      ],
    });
  }

  postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<PostedRef> {
    // A notice may quote an error a remote system wrote: data, not markup.
    return this.send(ctx, `teams.${noticeKey(kind, text)}`, { type: 'message', text: teamsPlain(text) });
  }
}
