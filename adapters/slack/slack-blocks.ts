// Block Kit for lbcheck's messages, drawn from the neutral views.
import type { KnownBlock, MrkdwnElement } from '@slack/types';
import { slackCode, slackEscape } from '../../src/messages/escape.js';
import type { Fact, MessageView } from '../../src/messages/views.js';

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });

/** Slack limits section text to 3000 characters and a fields list to 10 items. */
const cut = (text: string, max = 2900): string =>
  text.length > max ? `${text.slice(0, max)}… (truncated; full text in the evidence)` : text;

// Every text below may carry what a probed server sent (a status line in "why", a Server header in a fact):
// it is escaped, so it can neither mention anyone nor make a link.
const factText = (f: Fact): string =>
  `*${slackEscape(cut(f.label, 80))}*\n${f.fromServer ? slackCode(cut(f.value, 400)) : slackEscape(cut(f.value, 400))}`;

/** The notification text of a post (Slack formats it as mrkdwn too). */
export const viewText = (view: MessageView): string => slackEscape(`${view.headline}: ${view.why}`);

export function viewBlocks(view: MessageView): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwn(`*${slackEscape(cut(view.headline, 200))}*\n${slackEscape(cut(view.why))}`) },
  ];
  const facts = view.facts.slice(0, 10);
  if (facts.length > 0) blocks.push({ type: 'section', fields: facts.map((f) => mrkdwn(factText(f))) });
  if (view.facts.length > 10)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${view.facts.length - 10} more (see the decode evidence)`)],
    });
  if (view.evidence.length > 0)
    blocks.push({ type: 'context', elements: [mrkdwn(cut(view.evidence.map((e) => slackCode(e)).join('\n'), 2900))] });
  return blocks;
}

export function parentBlocks(checkId: string, target: string, user: string, status: string): KnownBlock[] {
  return [
    {
      type: 'section',
      text: mrkdwn(`*lbcheck ${checkId}* · ${slackCode(target)} · asked by <@${slackEscape(user)}>\n${status}`),
    },
  ];
}
