// Adaptive Cards for lbcheck's messages, drawn from the neutral views. The
// ladder diagram is shown as an image, the readable decode inline (truncated
// with a note); every evidence file gets a signed, expiring download link.
import { cardPlain, cutEscaped } from '../../src/messages/escape.js';
import type { MessageView } from '../../src/messages/views.js';
import type { EvidenceFile } from '../../src/pipeline/poster.js';
import { ladderImage } from './card-image.js';
import type { EvidenceLinkSigner } from './evidence-links.js';
import { ACTION_LABELS, type ActionKind } from '../../src/pipeline/actions.js';

/** Universal Actions verbs: "lbcheck.<kind>"; the data names the check. */
export const VERB = /^lbcheck\.(rerun|run-all|cancel|watch)$/;

/** Action.Execute buttons: Teams sends the click to the bot as an adaptiveCard/action invoke. */
export function executeActions(checkId: string, kinds: readonly ActionKind[]): Record<string, unknown>[] {
  return kinds.map((kind) => ({
    type: 'Action.Execute',
    title: ACTION_LABELS[kind],
    verb: `lbcheck.${kind}`,
    data: { checkId },
    ...(kind === 'cancel' ? { style: 'destructive' } : kind === 'rerun' ? { style: 'positive' } : {}),
  }));
}

/** A small card with buttons, e.g. Cancel under the ack of a queued check. */
export function buttonsCard(text: string, checkId: string, kinds: readonly ActionKind[]): Record<string, unknown> {
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [{ type: 'TextBlock', text: cardPlain(text), wrap: true }],
    actions: executeActions(checkId, kinds),
  };
}

/** The check's evidence page under its diagnosis, when this bot serves the pages (PostContext.page). */
export function pageActions(page: string | undefined): Record<string, unknown>[] {
  return page ? [{ type: 'Action.OpenUrl', title: 'Evidence page (steps, ladders, every file)', url: page }] : [];
}

const INLINE_MAX = 1500;
/**
 * Bounds on the card's escaped texts, in characters, cut after escaping (cardPlain can double a text; cutEscaped
 * never splits a backslash escape). Teams refuses an activity over ~28 KB: the headline and why take at most
 * 3.2 KB, a fact about 0.5 KB, the decode 2 × INLINE_MAX and its note; ladderImage sizes the picture to what is left.
 */
const HEADLINE_MAX = 200;
const WHY_MAX = 3000;
const LABEL_MAX = 80;
const VALUE_MAX = 400;
const cardText = (text: string, max: number): string => cutEscaped(cardPlain(text), max);
const COLOR = {
  pass: 'Good',
  fail: 'Attention',
  warn: 'Warning',
  skipped: 'Default',
  inconclusive: 'Warning',
  diagnosis: 'Accent',
} as const;

export function viewCard(
  view: MessageView,
  evidence: EvidenceFile[],
  links: EvidenceLinkSigner,
  buttons: Record<string, unknown>[] = [],
): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: cardText(view.headline, HEADLINE_MAX),
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
      color: COLOR[view.verdict],
    },
    // Server-supplied text (a status line in "why", headers in the facts and decode) must not become markdown.
    { type: 'TextBlock', text: cardText(view.why, WHY_MAX), wrap: true },
  ];
  if (view.facts.length > 0)
    body.push({
      type: 'FactSet',
      facts: view.facts.map((f) => ({ title: cardText(f.label, LABEL_MAX), value: cardText(f.value, VALUE_MAX) })),
    });
  const decode = evidence.find((e) => e.name.endsWith('-decode.txt') && e.data);
  if (decode?.data) {
    const text = decode.data.toString('utf8');
    const shown =
      text.length > INLINE_MAX
        ? `${text.slice(0, INLINE_MAX)}\n… (truncated: ${text.length} characters; download the full decode below)`
        : text;
    body.push({ type: 'TextBlock', text: cardPlain(shown), fontType: 'Monospace', wrap: true, size: 'Small' });
  }
  // The merged capture of both vantage points first: what a network engineer opens first.
  const merged = (e: EvidenceFile): number => (e.name.endsWith('-both.pcapng') ? 0 : 1);
  const downloads = [...evidence]
    .sort((a, b) => merged(a) - merged(b))
    .map((e) => ({
      type: 'Action.OpenUrl',
      title: `${e.name} (sha256 ${e.sha256.slice(0, 12)}, ${e.bytes} B)`,
      url: links.url(e.sha256, e.name),
    }));
  const actions = [...buttons, ...downloads];
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(actions.length ? { actions } : {}),
  };
  // The picture goes right under the verdict and why, before the facts and the decode.
  const image = ladderImage(evidence, links, JSON.stringify(card).length, `Ladder diagram: ${view.headline}`);
  if (image) body.splice(2, 0, image.element);
  return card;
}
