// Block Kit for lbcheck's messages, drawn from the neutral views.
import type { ActionsBlock, KnownBlock, MrkdwnElement } from '@slack/types';
import { ACTION_LABELS, type ActionKind } from '../../src/pipeline/actions.js';
import { triggerText } from '../../src/messages/alert-text.js';
import { cutEscaped, slackCode, slackEscape } from '../../src/messages/escape.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import type { Fact, MessageView } from '../../src/messages/views.js';

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });

/**
 * Slack refuses a section text over 3000 characters and a field over 2000 (invalid_blocks: the message is never
 * posted). The limits count the escaped text, and escaping expands it (& < > become 4–5 characters): each text is
 * escaped first, then cut to its bound (cutEscaped never splits an entity).
 */
const SECTION_MAX = 3000;
const HEADLINE_MAX = 200;
const LABEL_MAX = 80;
const VALUE_MAX = 400;
const cut = (text: string, max: number): string => cutEscaped(slackEscape(text), max);

// Every text below may carry what a probed server sent (a status line in "why", a Server header in a fact):
// it is escaped, so it can neither mention anyone nor make a link.
const factText = (f: Fact): string =>
  `*${cut(f.label, LABEL_MAX)}*\n${f.fromServer ? slackCode(f.value, VALUE_MAX) : cut(f.value, VALUE_MAX)}`;

/** The notification text of a post (Slack formats it as mrkdwn too). */
export const viewText = (view: MessageView): string => slackEscape(`${view.headline}: ${view.why}`);

/** The headline in bold, then why, within SECTION_MAX together. */
function sectionText(view: MessageView): string {
  const head = `*${cut(view.headline, HEADLINE_MAX)}*\n`;
  return `${head}${cut(view.why, SECTION_MAX - head.length)}`;
}

export function viewBlocks(view: MessageView): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(sectionText(view)) }];
  const facts = view.facts.slice(0, 10);
  if (facts.length > 0) blocks.push({ type: 'section', fields: facts.map((f) => mrkdwn(factText(f))) });
  if (view.facts.length > 10)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`…and ${view.facts.length - 10} more (see the decode evidence)`)],
    });
  if (view.evidence.length > 0)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(cutEscaped(view.evidence.map((e) => slackCode(e)).join('\n'), SECTION_MAX))],
    });
  return blocks;
}

/** A URL inside Slack's <url|text>: the characters that would end it or start markup are percent-encoded. */
const linkUrl = (url: string): string => url.replace(/[<>|\s]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');

/** The check's evidence page under its diagnosis, when this bot serves the pages (PostContext.page). */
export function pageBlocks(page: string | undefined): KnownBlock[] {
  if (!page) return [];
  const text = `<${linkUrl(page)}|Evidence page>: the steps, ladders, decodes and every file with its sha256`;
  return [{ type: 'context', elements: [mrkdwn(text)] }];
}

/** Button action ids: "lbcheck:<kind>"; the value is the check id. Bolt routes them with ACTION_ID. */
export const ACTION_ID = /^lbcheck:(rerun|run-all|cancel|watch)$/;

export function actionsBlock(checkId: string, kinds: readonly ActionKind[]): ActionsBlock {
  return {
    type: 'actions',
    block_id: `lbcheck-actions-${checkId}`,
    elements: kinds.map((kind) => ({
      type: 'button',
      action_id: `lbcheck:${kind}`,
      value: checkId,
      text: { type: 'plain_text', text: ACTION_LABELS[kind] },
      ...(kind === 'cancel' ? { style: 'danger' as const } : kind === 'rerun' ? { style: 'primary' as const } : {}),
    })),
  };
}

/** Who asked, as the parent message says it: the user's mention, or the alert that started the check. */
export function askedBy(req: CheckRequest): string {
  return req.trigger ? slackEscape(triggerText(req.trigger)) : `asked by <@${slackEscape(req.requester.id)}>`;
}

/** asker: askedBy's text (mrkdwn, already escaped). */
export function parentBlocks(
  checkId: string,
  target: string,
  asker: string,
  status: string,
  buttons: readonly ActionKind[] = [],
): KnownBlock[] {
  return [
    {
      type: 'section',
      text: mrkdwn(`*lbcheck ${checkId}* · ${slackCode(target)} · ${asker}\n${status}`),
    },
    ...(buttons.length > 0 ? [actionsBlock(checkId, buttons)] : []),
  ];
}
