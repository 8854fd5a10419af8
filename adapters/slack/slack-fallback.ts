// Where the bot is not a member (Slack answers not_in_channel or
// channel_not_found), a slash command can still be answered through its
// response_url: up to five messages within 30 minutes, shown to the caller.
// The check's results go there, with the fix: invite the bot.
import type { KnownBlock } from '@slack/types';
import { slackEscape } from '../../src/messages/escape.js';
import type { PostContext } from '../../src/pipeline/poster.js';

/** Slack's errors for "the bot cannot post in this channel". */
export const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found']);

/** Slack accepts at most five messages per response_url. */
export const RESPONSE_URL_USES = 5;

export class NotInChannelError extends Error {
  override name = 'NotInChannelError';
  constructor(readonly slackError: string) {
    super(`Slack refused the post: ${slackError} (lbcheck is not a member of the channel)`);
  }
}

export const INVITE_HINT =
  'lbcheck is not a member of this channel, so its results come to you only. Invite @lbcheck to this channel for ' +
  'threaded results (type `/invite @lbcheck`), or ask the Slack admins to grant it chat:write.public for public ' +
  'channels.';

/**
 * response_url comes inside the signed slash command, and the sealed job carries it, but it is still a URL the
 * bot will POST to: only Slack's hooks hosts (or the configured Web API's host, e.g. a GovSlack or test URL).
 */
export function responseUrlAllowed(url: string, extraOrigins: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'https:' && ['hooks.slack.com', 'hooks.slack-gov.com'].includes(u.hostname)) return true;
  return extraOrigins.includes(u.origin);
}

export function responseUrlOf(ctx: PostContext): string | undefined {
  const url = ctx.request.replyTo.extra?.responseUrl;
  return typeof url === 'string' ? url : undefined;
}

export interface FallbackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** The first fallback message leads with the invite hint. */
export function withInviteHint(message: FallbackMessage): FallbackMessage {
  return {
    text: `${slackEscape(INVITE_HINT)}\n${message.text}`,
    blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:warning: ${INVITE_HINT}` }] }, ...message.blocks],
  };
}

/** Posts one message to the response_url; false when its five uses are spent (the check goes on unseen). */
export async function postToResponseUrl(
  ctx: PostContext,
  url: string,
  message: FallbackMessage,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const used = Number((await ctx.memo.get('slack.respond.uses')) ?? '0');
  if (used >= RESPONSE_URL_USES) return false;
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...message }),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status === 404 || res.status === 410) return false; // expired (30 minutes) or used up on Slack's side
  if (!res.ok) throw new Error(`Slack response_url answered HTTP ${res.status}`);
  await ctx.memo.set('slack.respond.uses', String(used + 1));
  return true;
}
