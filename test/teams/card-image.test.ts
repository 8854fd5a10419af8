// The ladder image in a Teams card: inline while the activity fits Teams'
// 28 KB, a signed link beyond; SVG and PNG served with their own types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evidenceContentType, ladderImage, TEAMS_ACTIVITY_MAX_BYTES } from '../../adapters/teams/card-image.js';
import { evidenceLinks } from '../../adapters/teams/evidence-links.js';
import { viewCard } from '../../adapters/teams/teams-cards.js';
import type { EvidenceFile } from '../../src/pipeline/poster.js';

const links = evidenceLinks('https://bot.example.test', 'secret', 3600);
const png = (bytes: number): EvidenceFile => ({
  name: 'step1-ladder.png',
  sha256: 'a'.repeat(64),
  bytes,
  mediaType: 'image/png',
  data: Buffer.alloc(bytes, 7),
});
const view = {
  headline: '✔ Step 1 · Does the connection reach the LB? PASS',
  verdict: 'pass' as const,
  why: 'why',
  facts: [],
  evidence: [],
};

describe('ladder image in a Teams card', () => {
  it('a small PNG goes inline as a data URI and the card stays under the limit', () => {
    const card = viewCard(view, [png(12_000)], links);
    const body = card.body as { type: string; url?: string }[];
    const images = body.filter((b) => b.type === 'Image');
    assert.equal(images.length, 1);
    assert.match(images[0]?.url ?? '', /^data:image\/png;base64,/);
    assert.ok(JSON.stringify(card).length < TEAMS_ACTIVITY_MAX_BYTES - 2_000);
  });

  it('a PNG that would push the activity over 28 KB becomes a signed link', () => {
    const image = ladderImage([png(20_000)], links, 3_000, 'alt');
    assert.equal(image?.inline, false);
    assert.match(
      String(image?.element.url),
      /^https:\/\/bot\.example\.test\/evidence\/a{64}\/step1-ladder\.png\?exp=\d+&sig=/,
    );
  });

  it('an expired PNG (no bytes) is still linked; a step without a ladder gets no image', () => {
    const { data: _gone, ...meta } = png(100);
    assert.equal(ladderImage([meta], links, 1000, 'alt')?.inline, false);
    assert.equal(ladderImage([], links, 1000, 'alt'), undefined);
  });

  it('evidence downloads carry their media type', () => {
    assert.equal(evidenceContentType('step1-ladder.png'), 'image/png');
    assert.equal(evidenceContentType('step1-ladder.svg'), 'image/svg+xml');
    assert.equal(evidenceContentType('step1-lb.pcapng'), 'application/x-pcapng');
    assert.equal(evidenceContentType('step1-lb.pcap'), 'application/vnd.tcpdump.pcap');
    assert.equal(evidenceContentType('step1-decode.txt'), 'text/plain; charset=utf-8');
  });
});
