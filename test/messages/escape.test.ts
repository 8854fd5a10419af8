// Server-supplied text is data: a status line written as Slack or Teams markup
// must reach chat unable to mention anyone or make a link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewBlocks, viewText } from '../../adapters/slack/slack-blocks.js';
import { viewCard } from '../../adapters/teams/teams-cards.js';
import { cardPlain, slackCode, slackEscape, teamsPlain } from '../../src/messages/escape.js';
import type { MessageView } from '../../src/messages/views.js';
import { evidenceLinks } from '../../adapters/teams/evidence-links.js';

const HOSTILE = '200 OK <!channel> <https://evil.example|click> [click](https://evil.example) & `x`';

const view: MessageView = {
  headline: '✔ Step 2 · How does the LB handle it? PASS',
  verdict: 'pass',
  why: `Layer 4 forwarder: answered GET / with "HTTP/1.1 ${HOSTILE}" after 3 ms`,
  facts: [{ label: 'Product', value: 'nginx <!here>', fromServer: true }],
  evidence: [],
};

/** Slack reads <...> as a mention or link: none may survive in text it formats. */
const assertNoSlackMarkup = (text: string): void => {
  assert.doesNotMatch(text, /<[!@#]|<https?:/, text);
  assert.ok(!text.includes('<'), `raw < in ${text}`);
};

describe('escaping server-supplied text', () => {
  it('Slack: &, < and > become entities, code spans cannot be closed early', () => {
    assert.equal(slackEscape('a <!channel> & <b|c>'), 'a &lt;!channel&gt; &amp; &lt;b|c&gt;');
    assert.equal(slackCode('x`y\nz <@U1>'), "`x'y z &lt;@U1&gt;`");
    assert.equal(slackCode(''), '');
  });

  it('Slack blocks and notification text carry the hostile status line inert, the Server header as code', () => {
    const built = viewBlocks(view);
    const blocks = JSON.stringify(built);
    const sectionTexts = built.map((b) => (b as { text?: { text?: string } }).text?.text ?? '').join('');
    assertNoSlackMarkup(sectionTexts);
    assert.match(blocks, /&lt;!channel&gt; &lt;https:\/\/evil\.example\|click&gt;/);
    assert.match(blocks, /`nginx &lt;!here&gt;`/);
    assertNoSlackMarkup(viewText(view));
  });

  it('Teams: markdown characters escaped in cards; message text also entity-encoded', () => {
    assert.equal(
      cardPlain('[click](https://e.x) *b* _i_ > q <u>'),
      '\\[click\\](https://e.x) \\*b\\* \\_i\\_ \\> q \\<u\\>',
    );
    assert.equal(teamsPlain('<at>x</at> [a](b) &'), '&lt;at&gt;x&lt;/at&gt; \\[a\\](b) &amp;');
    const card = viewCard(view, [], evidenceLinks('http://127.0.0.1:1', 'secret', 60));
    const texts = JSON.stringify(card);
    assert.doesNotMatch(texts, /(?<!\\\\)\[click(?<!\\\\)\]\(/);
    assert.match(texts, /\\\\\[click\\\\\]\(https:\/\/evil\.example\)/);
  });
});
