// The ladder's text as glyph outlines, for the PNG only. resvg lays text out at
// about 20 µs a glyph (a step-2 ladder's ~800 glyphs: 17 ms of a ~30 ms
// render, and the last step's render is what a check still waits for), while
// the same outlines given once as paths and placed with <use> cost ~4 ms. The
// ladder is one monospace font without kerning (ladder-svg.ts), so placing the
// glyphs is arithmetic; opentype.js reads the outlines from the shipped font.
// The SVG evidence keeps its <text> (searchable, selectable).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as OpenTypeModule from 'opentype.js';
import type { Font } from 'opentype.js';

type OpenType = typeof OpenTypeModule;
let openType: OpenType | undefined;

/** Loaded on first use: a one-shot check that draws no picture does not pay for its parse. */
function opentype(): OpenType {
  return (openType ??= createRequire(import.meta.url)('opentype.js') as OpenType);
}

/** One text element as ladder-svg.ts's text() writes it: x, y, optional attributes, an escaped body. */
const TEXT_ELEMENT = /<text x="(-?[\d.]+)" y="(-?[\d.]+)"((?: [a-z-]+="[^"<>]*")*)>([^<]*)<\/text>/g;
const ROOT_FONT_SIZE = /<svg [^>]*font-size="([\d.]+)"/;
/** Outlines are taken at this size and scaled down per use. */
const UNITS = 1000;

const fonts = new Map<string, Font>();

function fontAt(file: string): Font {
  let font = fonts.get(file);
  if (!font) {
    const bytes = readFileSync(file);
    font = opentype().parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    fonts.set(file, font);
  }
  return font;
}

function attribute(attrs: string, name: string): string | undefined {
  return new RegExp(` ${name}="([^"]*)"`).exec(attrs)?.[1];
}

function unescapeXml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

/** Each character's outline as path data, per font: the same few dozen characters in every ladder. */
const outlines = new WeakMap<Font, Map<string, string>>();

function outlineOf(font: Font, char: string): string {
  let byChar = outlines.get(font);
  if (!byChar) outlines.set(font, (byChar = new Map<string, string>()));
  let d = byChar.get(char);
  if (d === undefined) {
    d = font.getPath(char, 0, 0, UNITS).toPathData(1);
    byChar.set(char, d);
  }
  return d;
}

/** Glyph outlines by character, each defined once as a path and placed where the text has it. */
class GlyphSheet {
  private readonly ids = new Map<string, string>();
  private readonly defs: string[] = [];

  constructor(private readonly font: Font) {}

  /** The advance of one character at a size (the font is monospace: every glyph's). */
  advance(size: number): number {
    return ((this.font.charToGlyph('0').advanceWidth ?? 0) / this.font.unitsPerEm) * size;
  }

  idOf(char: string): string {
    let id = this.ids.get(char);
    if (id === undefined) {
      id = `glyph-${this.ids.size}`;
      this.ids.set(char, id);
      this.defs.push(`<path id="${id}" d="${outlineOf(this.font, char)}"/>`);
    }
    return id;
  }

  get definitions(): string {
    return `<defs>${this.defs.join('')}</defs>`;
  }
}

function glyphRun(sheet: GlyphSheet, x: number, y: number, attrs: string, body: string, rootSize: number): string {
  const size = Number(attribute(attrs, 'font-size') ?? rootSize);
  const chars = [...unescapeXml(body)];
  const step = sheet.advance(size);
  const anchor = attribute(attrs, 'text-anchor');
  const start = anchor === 'middle' ? x - (step * chars.length) / 2 : anchor === 'end' ? x - step * chars.length : x;
  const scale = size / UNITS;
  const place = (i: number): string => `translate(${(start + i * step).toFixed(2)} ${y}) scale(${scale})`;
  const uses = chars.flatMap((c, i) => (c === ' ' ? [] : [`<use href="#${sheet.idOf(c)}" transform="${place(i)}"/>`]));
  const fill = attribute(attrs, 'fill');
  return `<g${fill ? ` fill="${fill}"` : ''}>${uses.join('')}</g>`;
}

/**
 * The same picture with every <text> as placed glyph outlines (font-weight is left as resvg draws it with one
 * regular font: regular). Text in any other form is left to resvg.
 */
export function textAsGlyphs(svg: string, fontFile: string): string {
  const sheet = new GlyphSheet(fontAt(fontFile));
  const rootSize = Number(ROOT_FONT_SIZE.exec(svg)?.[1] ?? 11);
  let converted = 0;
  const body = svg.replace(TEXT_ELEMENT, (_m, x: string, y: string, attrs: string, text: string) => {
    converted++;
    return glyphRun(sheet, Number(x), Number(y), attrs, text, rootSize);
  });
  // The outlines go first inside the root element (an open one: a picture without text is left as it is).
  return converted === 0 ? svg : body.replace(/(<svg\b[^>]*[^/]>)/, `$1\n${sheet.definitions}`);
}
