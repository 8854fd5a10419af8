// The PNG's text drawn from glyph outlines (src/evidence/glyph-text.ts) is the
// picture resvg draws from the <text> itself: same size, the same pixels but
// for anti-aliasing at glyph edges, on ladders from recorded captures, with
// escaped characters, centred and bold text.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { textAsGlyphs } from '../../src/evidence/glyph-text.js';
import { buildLadder } from '../../src/evidence/ladder-model.js';
import { fontFile } from '../../src/evidence/ladder-png.js';
import { FONT_FAMILY, renderLadderSvg } from '../../src/evidence/ladder-svg.js';
import { probeFixture } from './fixture-flows.js';

interface Image {
  width: number;
  height: number;
  pixels: Buffer;
}
const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js') as {
  Resvg: new (svg: string, o: object) => { render(): Image };
};

function rgba(svg: string): Image {
  const font = { loadSystemFonts: false, fontFiles: [fontFile()], defaultFontFamily: FONT_FAMILY };
  return new Resvg(svg, { font }).render();
}

/** Pixels whose colour differs by more than a faint edge shade in any channel, as a share of all pixels. */
function changedShare(a: Image, b: Image): number {
  // resvg's pixels is a getter that copies the image: read each once.
  const pa = a.pixels;
  const pb = b.pixels;
  let changed = 0;
  for (let i = 0; i < pa.length; i += 4) {
    const d = Math.max(
      Math.abs((pa[i] ?? 0) - (pb[i] ?? 0)),
      Math.abs((pa[i + 1] ?? 0) - (pb[i + 1] ?? 0)),
      Math.abs((pa[i + 2] ?? 0) - (pb[i + 2] ?? 0)),
    );
    if (d > 96) changed++;
  }
  return changed / (pa.length / 4);
}

const ladderOf = (name: string, title: string): string => {
  const fx = probeFixture(name);
  return renderLadderSvg(buildLadder({ title, packets: fx.packets, deciding: fx.packets.slice(0, 1) }));
};

describe('ladder text as glyph outlines, for the PNG', () => {
  for (const name of ['dnat-healthy', 'dnat-server-silent', 'haproxy-503']) {
    it(`${name}: the same picture as resvg's own text`, () => {
      const svg = ladderOf(name, `Step 2: "${name}" <&> ' ×4 · →`);
      const glyphs = textAsGlyphs(svg, fontFile());
      assert.doesNotMatch(glyphs, /<text /, 'every text element was converted');
      const text = rgba(svg);
      const drawn = rgba(glyphs);
      assert.deepEqual([drawn.width, drawn.height], [text.width, text.height]);
      const share = changedShare(text, drawn);
      assert.ok(share < 0.002, `${(share * 100).toFixed(2)}% of the pixels differ`);
      // A ladder's text is a real share of its pixels: an empty picture would differ by far more.
      assert.ok(changedShare(text, rgba(svg.replace(/<text [^>]*>[^<]*<\/text>/g, ''))) > 0.01);
    });
  }
});
