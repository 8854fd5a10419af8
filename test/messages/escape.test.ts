// Server-supplied text is data: a status line written as Slack or Teams markup
// must reach chat unable to mention anyone or make a link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewBlocks, viewText } from '../../adapters/slack/slack-blocks.js';
import { viewCard } from '../../adapters/teams/teams-cards.js';
import { cardPlain, cutEscaped, slackCode, slackEscape, teamsPlain, TRUNCATED } from '../../src/messages/escape.js';
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

  it('cutting escaped text never ends inside an entity or a backslash escape, and keeps within max', () => {
    for (let max = 41; max < 60; max++) {
      const slack = cutEscaped(slackEscape('<&>'.repeat(40)), max);
      assert.ok(slack.length <= max, `${slack.length} > ${max}`);
      assert.ok(slack.endsWith(TRUNCATED));
      assert.match(slack.slice(0, -TRUNCATED.length), /^(&lt;|&amp;|&gt;)*$/, slack);
      const card = cutEscaped(cardPlain('[x]'.repeat(40)), max);
      assert.ok(card.length <= max);
      assert.match(card.slice(0, -TRUNCATED.length), /^(\\\[|x|\\\])*$/, card);
    }
    assert.equal(cutEscaped('short &amp;', 11), 'short &amp;');
  });
});

/** A view whose server-supplied texts are 5000 '<': each escapes to 20000 characters in Slack, 10000 in a card. */
const flood: MessageView = {
  headline: `✘ Step 1 · Does the connection reach the LB? FAIL ${'<'.repeat(5000)}`,
  verdict: 'fail',
  why: `answered GET / with "HTTP/1.1 502 ${'<'.repeat(5000)}"`,
  facts: [
    { label: `Server ${'<'.repeat(5000)}`, value: '<'.repeat(5000), fromServer: true },
    { label: 'Status', value: `502 ${'&'.repeat(5000)}`, fromServer: false },
  ],
  evidence: ['<'.repeat(5000)],
};

/** The text ends whole: no "&", "&l", "&lt" (an entity cut short) before the truncation note. */
const assertWholeEntities = (text: string): void => {
  assert.doesNotMatch(text, /&(?!amp;|lt;|gt;)/, `a broken entity in …${text.slice(-80)}`);
};

describe('escaped text within the platforms’ limits (escape first, then cut)', () => {
  it("Slack: 5000 '<' in a view: every section ≤ 3000, every field ≤ 2000, no entity cut short", () => {
    const blocks = viewBlocks(flood) as { text?: { text: string }; fields?: { text: string }[] }[];
    const texts: string[] = [];
    for (const b of blocks) {
      if (b.text) {
        assert.ok(b.text.text.length <= 3000, `a section of ${b.text.text.length} characters`);
        texts.push(b.text.text);
      }
      for (const f of b.fields ?? []) {
        assert.ok(f.text.length <= 2000, `a field of ${f.text.length} characters`);
        texts.push(f.text);
      }
      for (const e of (b as { elements?: { text?: string }[] }).elements ?? []) {
        assert.ok((e.text ?? '').length <= 3000, `a context element of ${(e.text ?? '').length} characters`);
        texts.push(e.text ?? '');
      }
    }
    assert.equal(texts.length, 4, 'the section, two fields and the evidence context');
    for (const t of texts) {
      assertWholeEntities(t);
      assertNoSlackMarkup(t);
    }
    assert.ok(texts[0]?.includes(TRUNCATED), 'why says it was cut');
    // The fact from the server is still a closed code span.
    assert.match(texts[1] ?? '', /\n`(&lt;)+… \(truncated; full text in the evidence\)`$/);
  });

  it("Teams: 5000 '<' in a view: the card's texts within their bounds (why ≤ 3000), no escape cut in half", () => {
    const card = viewCard(flood, [], evidenceLinks('http://127.0.0.1:1', 'secret', 60)) as {
      body: { type: string; text?: string; facts?: { title: string; value: string }[] }[];
    };
    const [headline, why] = card.body;
    assert.ok((headline?.text ?? '').length <= 200, `headline of ${(headline?.text ?? '').length}`);
    assert.ok((why?.text ?? '').length <= 3000, `why of ${(why?.text ?? '').length}`);
    assert.ok(why?.text?.endsWith(TRUNCATED));
    const facts = card.body.find((b) => b.type === 'FactSet')?.facts ?? [];
    assert.equal(facts.length, 2);
    for (const f of facts) {
      assert.ok(f.title.length <= 80 && f.value.length <= 400, `${f.title.length}, ${f.value.length}`);
      // Every < still has its backslash: the cut removed whole escapes only.
      assert.doesNotMatch(f.value.replace(TRUNCATED, ''), /(^|[^\\])</);
    }
    assert.doesNotMatch((why?.text ?? '').replace(TRUNCATED, ''), /[^\\]</);
    assert.ok(JSON.stringify(card).length < 8000, `a card of ${JSON.stringify(card).length} characters`);
  });
});
