// Teams end to end: Activities POSTed to real botbuilder (CloudAdapter) over
// HTTP, checks on the lab through Redis and BullMQ, replies and cards sent
// through the real connector client to a local fake of the Bot Connector.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { evidenceLinks } from '../../adapters/teams/evidence-links.js';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from '../pipeline/platform-base.js';
import type { FakeConnector, SentActivity } from './fake-connector.js';
import { LINK_SECRET, startTeamsStack, type TeamsStack } from './teams-stack.js';

let lab: Lab;
let stack: TeamsStack;
let teams: RunningTeams;
let connector: FakeConnector;
let audit: AuditLog;

useLab({ serverCount: 2, heal: true }, async (started, own) => {
  lab = started;
  stack = own(await startTeamsStack(lab, true));
  ({ teams, connector, audit } = stack);
});

const mention = (text: string, opts?: Parameters<TeamsStack['mention']>[1]): ReturnType<TeamsStack['mention']> =>
  stack.mention(text, opts);

const inChain = (conversationId: string): SentActivity[] =>
  connector.sent.filter((s) => s.conversationId === conversationId);
/** What a post shows first: its text, or for a card (whose first line is the headline) its summary. */
const shown = (s: SentActivity): string => s.activity.text ?? s.activity.summary ?? '';
const card = (s: SentActivity): Record<string, unknown> => s.activity.attachments?.[0]?.content ?? {};

/**
 * The step 1 and 2 cards each carry exactly one Image: the ladder PNG the audit
 * record names, inline as a data URI when the activity stays under Teams' 28 KB,
 * otherwise behind a signed link that serves it as image/png.
 */
async function assertLadderImagesOnce(conversationId: string): Promise<void> {
  const chain = inChain(conversationId);
  const checkId = /chk-[0-9a-f]{10}/.exec(chain[0]?.activity.text ?? '')?.[0] ?? assert.fail('no check id');
  for (const step of [1, 2]) {
    const cards = chain.filter((s) => new RegExp(`^. Step ${step} `).test(shown(s)));
    assert.equal(cards.length, 1, `step ${step} card sent ${cards.length} times`);
    const body = (card(cards[0] as SentActivity) as { body: { type: string; url?: string }[] }).body;
    const images = body.filter((b) => b.type === 'Image');
    assert.equal(images.length, 1, `step ${step} card has ${images.length} images`);
    const url = images[0]?.url ?? '';
    const png = audit
      .records()
      .flatMap((r) => (r.type === 'post' && r.checkId === checkId && r.step === step ? r.evidence : []))
      .find((e) => e.name === `step${step}-ladder.png`);
    assert.ok(png, `step ${step} has no ladder PNG in its audit record`);
    let bytes: Buffer;
    if (url.startsWith('data:image/png;base64,')) {
      bytes = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
      assert.ok(JSON.stringify(cards[0]?.activity).length <= 28_000, 'an inline image keeps the activity under 28 KB');
    } else {
      assert.match(url, new RegExp(`/evidence/${png.sha256}/step${step}-ladder\\.png\\?exp=\\d+&sig=[0-9a-f]{64}$`));
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      bytes = Buffer.from(await res.arrayBuffer());
    }
    assert.equal(createHash('sha256').update(bytes).digest('hex'), png.sha256);
  }
}

describe('@lbcheck in Teams', () => {
  it('a healthy check: the ack at once in the reply chain, then one Adaptive Card per step and the diagnosis', async () => {
    const { status, conversationId } = await mention('check haproxy-http');
    assert.equal(status, 200);
    await until(
      () => inChain(conversationId).some((s) => /^(Diagnosis|No fault found)/.test(shown(s))),
      'the diagnosis card',
    );
    const chain = inChain(conversationId);
    assert.match(chain[0]?.activity.text ?? '', /^Queued chk-[0-9a-f]{10}: checking haproxy-http/);
    assert.deepEqual(
      chain.slice(1).map((s) => /^(✔|✘|⚠) Step \d|^Diagnosis|^No fault found/.exec(shown(s))?.[0]),
      ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'No fault found'],
    );
    const step2 = card(chain[2] as SentActivity) as {
      type: string;
      body: { type: string; text?: string; facts?: { title: string; value: string }[] }[];
      actions?: { url: string; title: string }[];
    };
    assert.equal(step2.type, 'AdaptiveCard');
    assert.ok(
      step2.body.some(
        (b) => b.type === 'FactSet' && b.facts?.some((f) => f.title === 'Mode' && f.value === 'L7 (http proxy)'),
      ),
    );
    assert.ok(
      step2.body.some((b) => b.type === 'TextBlock' && /^\\# What the packets show: /m.test(b.text ?? '')),
      'the decode is shown inline',
    );
    // Evidence links: download works and is byte for byte what the card's sha256 names.
    const pcap = step2.actions?.find((a) => a.title.startsWith('step2-lb.pcap'));
    assert.ok(pcap, 'no pcap link');
    const sha = /\/evidence\/([0-9a-f]{64})\//.exec(pcap.url)?.[1] ?? '';
    const res = await fetch(pcap.url);
    assert.equal(res.status, 200);
    assert.equal(
      createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex'),
      sha,
    );
    const final = card(chain[4] as SentActivity) as { body: { facts?: { title: string; value: string }[] }[] };
    assert.ok(final.body.some((b) => b.facts?.some((f) => f.title === 'Hand to')));
    await assertLadderImagesOnce(conversationId);
  });

  it('forged, altered and expired evidence links are refused', async () => {
    const sha =
      audit
        .records()
        .flatMap((r) => (r.type === 'post' ? r.evidence : []))
        .find((e) => e.name.endsWith('.pcap'))?.sha256 ?? assert.fail('no evidence');
    const links = evidenceLinks(`http://127.0.0.1:${teams.port}`, LINK_SECRET, 3600);
    const good = links.url(sha, 'step1-lb.pcap');
    assert.equal((await fetch(good)).status, 200);
    const flipped = good.replace(/([0-9a-f])$/, (c) => (c === '0' ? '1' : '0'));
    assert.notEqual(flipped, good);
    assert.equal((await fetch(flipped)).status, 403, 'an altered signature');
    assert.equal(
      (await fetch(good.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 1000}`))).status,
      403,
      'a later expiry needs a new signature',
    );
    assert.equal(
      (await fetch(good.replace('step1-lb.pcap', 'step2-lb.pcap'))).status,
      403,
      'the signature covers the name',
    );
    const forged = evidenceLinks(`http://127.0.0.1:${teams.port}`, 'not-the-secret', 3600).url(sha, 'step1-lb.pcap');
    assert.equal((await fetch(forged)).status, 403);
    const expired = links.url(sha, 'step1-lb.pcap', Date.now() - 2 * 3600 * 1000);
    const r = await fetch(expired);
    assert.equal(r.status, 403);
    assert.match(await r.text(), /expired/);
  });

  it('a failing check and a personal chat: verdicts land in the right chain; refused users get the reason', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const { conversationId } = await mention('check nginx');
    await until(
      () => inChain(conversationId).some((s) => /^(Diagnosis|No fault found)/.test(shown(s))),
      'the diagnosis',
    );
    assert.match(inChain(conversationId).at(-1)?.activity.summary ?? '', /^Diagnosis: PATH-TO-LB → network/);
    const stranger = await mention('help', { user: 'aad-stranger', personal: true });
    await until(() => inChain(stranger.conversationId).length > 0, 'the help answer');
    assert.match(inChain(stranger.conversationId)[0]?.activity.text ?? '', /^Usage: @lbcheck &lt;command&gt;/);
    // Anyone posting in a channel of the policy's team is in that group.
    const member = await mention('history', { user: 'aad-teammate', team: 'team-netops' });
    await until(() => inChain(member.conversationId).length > 0, 'the history answer');
    assert.match(inChain(member.conversationId)[0]?.activity.text ?? '', /^(Recent checks|No checks)/);
    const refused = await mention('check dnat', { user: 'aad-stranger' });
    await until(() => inChain(refused.conversationId).length > 0, 'the refusal');
    assert.match(
      inChain(refused.conversationId)[0]?.activity.text ?? '',
      /Refused by the lbcheck policy: you \(teams:aad-stranger\) are not allowed/,
    );
  });

  it('connector 429 and 500: the cards still land once each, in order', async () => {
    const { conversationId } = await mention('check dnat');
    await until(() => inChain(conversationId).length >= 1, 'the ack');
    connector.failNext(429, 1);
    connector.failNext(500);
    await until(
      () => inChain(conversationId).some((s) => /^(Diagnosis|No fault found)/.test(shown(s))),
      'the diagnosis',
      40_000,
    );
    assert.deepEqual(
      inChain(conversationId)
        .slice(1)
        .map((s) => /^(✔|✘|⚠) Step \d|^Diagnosis|^No fault found/.exec(shown(s))?.[0]),
      ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'No fault found'],
    );
    await assertLadderImagesOnce(conversationId);
  });
});
