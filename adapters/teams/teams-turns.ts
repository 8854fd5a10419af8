// What the bot does with an activity botbuilder has accepted: a message that @mentions it is a command (the
// answer in the same reply chain at once), a click on a card button (Action.Execute) is an action by the clicker.
import { ActivityTypes, CardFactory, TurnContext, type Activity } from 'botbuilder';
import type { Incoming, IntakeReply } from '../../src/pipeline/intake.js';
import { parseAction, type ChatAction } from '../../src/pipeline/actions.js';
import type { ReplyTo, Requester } from '../../src/model/jobs.js';
import { teamsPlain } from '../../src/messages/escape.js';
import { buttonsCard, VERB } from './teams-cards.js';
import { ownsAck } from './teams-poster.js';

/** Where commands and clicks go. */
export interface TurnHandlers {
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  /** A button click (Action.Execute), as a command by the clicking user (handleAction). */
  action?: (incoming: Omit<Incoming, 'text'>, action: ChatAction) => Promise<IntakeReply>;
}

/** A markdown link destination: the characters that would end it or be read as escapes are percent-encoded. */
const linkDestination = (url: string): string =>
  url.replace(/[()<>\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * An intake reply as Teams message text. The reply is plain text by contract (it may quote a server's status line
 * or the LB's stderr): escaped, it is never markdown or HTML. A link the bot made itself (reply.link) stays a link.
 */
function replyText(reply: IntakeReply): string {
  const link = reply.kind === 'info' ? reply.link : undefined;
  const escaped = link
    ? reply.text
        .split(link)
        .map((part) => teamsPlain(part))
        .join(`[${teamsPlain(link)}](${linkDestination(link)})`)
    : teamsPlain(reply.text);
  return reply.kind === 'refused' ? `❌ ${escaped}` : escaped;
}

/** Who sent an activity. A channel message carries its team: its sender is a member (policy "teams:<team id>"). */
function requesterOf(a: Activity): Requester {
  const team = (a.channelData as { team?: { id?: string; aadGroupId?: string } } | undefined)?.team;
  const groups = [team?.id, team?.aadGroupId].filter((g): g is string => typeof g === 'string' && g !== '');
  return { platform: 'teams', id: a.from.aadObjectId ?? a.from.id, name: a.from.name, groups };
}

/** The policy names channels; a channel thread's conversation id adds ";messageid=…" for the reply chain. */
function replyToOf(a: Activity): ReplyTo {
  return {
    platform: 'teams',
    channel: a.conversation.id.split(';')[0] ?? a.conversation.id,
    extra: { reference: TurnContext.getConversationReference(a) },
  };
}

async function onMessage(turn: TurnContext, handlers: TurnHandlers): Promise<void> {
  const a = turn.activity;
  const text = (TurnContext.removeRecipientMention(a) ?? a.text ?? '').replace(/^\s*lbcheck\b\s*/i, '').trim();
  const words = text.split(/\s+/);
  // "@lbcheck check web-vip" and "@lbcheck web-vip" both run a check.
  const command = words[0] === 'check' ? words.slice(1).join(' ') : text;
  const reply = await handlers.intake({
    requester: requesterOf(a),
    replyTo: replyToOf(a),
    text: command,
    resultsWhere: 'in this reply chain',
  });
  const answer = replyText(reply);
  // A typed check's ack (with its Cancel button) is posted in the check's ordered chain (TeamsPoster.postQueued),
  // so a 429 on it can never let a step or the diagnosis overtake it.
  if (reply.kind === 'queued' && ownsAck(reply.request)) return;
  await turn.sendActivity(
    reply.kind === 'queued'
      ? {
          type: 'message',
          text: answer,
          attachments: [CardFactory.adaptiveCard(buttonsCard('While it runs:', reply.checkId, ['cancel']))],
        }
      : answer,
  );
}

/**
 * A click on an Action.Execute button. The answer goes back in the invoke response as a message, which Teams
 * shows to the clicker only; a queued check's results go to the reply chain the card is in.
 */
async function onAction(turn: TurnContext, handlers: TurnHandlers): Promise<void> {
  const a = turn.activity;
  const value = a.value as { action?: { verb?: unknown; data?: { checkId?: unknown } } } | undefined;
  const verb = typeof value?.action?.verb === 'string' ? VERB.exec(value.action.verb)?.[1] : undefined;
  const parsed = parseAction(verb, value?.action?.data?.checkId);
  let text = '❌ lbcheck cannot act on that button (unknown action); type the command instead.';
  if (parsed && handlers.action) {
    const reply = await handlers.action(
      { requester: requesterOf(a), replyTo: replyToOf(a), resultsWhere: 'in this reply chain' },
      parsed,
    );
    text = replyText(reply);
  }
  await turn.sendActivity({
    type: ActivityTypes.InvokeResponse,
    value: {
      status: 200,
      body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text },
    },
  });
}

/** The turn handler botbuilder runs per accepted activity; other activity types are ignored. */
export function teamsTurns(handlers: TurnHandlers): (turn: TurnContext) => Promise<void> {
  return async (turn) => {
    const a = turn.activity;
    if (a.type === 'invoke' && a.name === 'adaptiveCard/action') return onAction(turn, handlers);
    if (a.type !== 'message') return;
    return onMessage(turn, handlers);
  };
}
