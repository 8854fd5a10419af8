// SVG → PNG with resvg (a Rust renderer shipped as prebuilt binaries inside
// npm packages: no browser, no Cairo). resvg draws text only with fonts it is
// given, and a fresh Debian may have none, so lbcheck ships DejaVu Sans Mono
// (assets/fonts, Bitstream Vera licence) and ignores system fonts: the same
// pixels everywhere, and no font scan per render.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { textAsGlyphs } from './glyph-text.js';
import { FONT_FAMILY } from './ladder-svg.js';
import { encodePalettePng } from './png-palette.js';

interface ResvgModule {
  Resvg: new (
    svg: string,
    options: {
      font: { loadSystemFonts: boolean; fontFiles: string[]; defaultFontFamily: string; monospaceFamily: string };
      fitTo?: { mode: 'width'; value: number };
    },
  ) => { render(): { width: number; height: number; pixels: Buffer } };
}

/** The shipped font, from dist/src/evidence/ or src/evidence/ alike. */
export const FONT_FILE = fileURLToPath(new URL('../../../assets/fonts/DejaVuSansMono.ttf', import.meta.url));
const FONT_FILE_FROM_SRC = fileURLToPath(new URL('../../assets/fonts/DejaVuSansMono.ttf', import.meta.url));

let loaded: ResvgModule | Error | undefined;

/** Loaded on first use, so a platform without a resvg binary still gets every other evidence file. */
function resvg(): ResvgModule | Error {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
    } catch (err) {
      loaded = err instanceof Error ? err : new Error(String(err));
    }
  }
  return loaded;
}

/** Loads resvg now rather than at the first render (the render thread does this as it starts). */
export function loadResvg(): void {
  resvg();
}

export function fontFile(): string {
  return existsSync(FONT_FILE) ? FONT_FILE : FONT_FILE_FROM_SRC;
}

/** The text as outlines (glyph-text.ts: a quarter of resvg's time for text); as text if the font cannot be read. */
function glyphsOrText(svg: string, font: string): string {
  try {
    return textAsGlyphs(svg, font);
  } catch {
    return svg;
  }
}

/** The PNG, or why it could not be drawn (the SVG is evidence enough then). */
export function svgToPng(svg: string): { png: Buffer } | { unavailable: string } {
  const mod = resvg();
  if (mod instanceof Error) return { unavailable: `PNG not rendered: @resvg/resvg-js did not load (${mod.message})` };
  const font = fontFile();
  if (!existsSync(font)) return { unavailable: `PNG not rendered: the font ${font} is missing` };
  const options = {
    font: { loadSystemFonts: false, fontFiles: [font], defaultFontFamily: FONT_FAMILY, monospaceFamily: FONT_FAMILY },
  };
  const drawn = glyphsOrText(svg, font);
  let tree;
  try {
    tree = new mod.Resvg(drawn, options);
  } catch (err) {
    // The outlines are an optimisation: a picture they broke is drawn from its text as before.
    if (drawn === svg) throw err;
    tree = new mod.Resvg(svg, options);
  }
  const image = tree.render();
  return { png: encodePalettePng(image.width, image.height, image.pixels) };
}
