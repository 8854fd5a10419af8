// An indexed-colour (palette) PNG from RGBA pixels. resvg writes 32-bit RGBA
// PNGs; a ladder has a white background, a handful of ink colours and their
// anti-aliased blends, so 8-bit indices compress to a third of the size or
// less, which keeps each step's image small for chat (and Teams' inline limit).
import { deflateSync } from 'node:zlib';
import { pngChunk } from './png-chunk.js';

/**
 * Each pixel's RGBA bytes read as one little-endian number (0xAABBGGRR), with
 * no per-pixel conversion: this loop runs over a million pixels per image.
 */
function pixelWords(rgba: Buffer): Uint32Array {
  const aligned = rgba.byteOffset % 4 === 0 ? rgba : Buffer.from(rgba);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >> 2);
}

const WHITE = 0xffffffff;
const channels = (c: number): [number, number, number] => [c & 255, (c >>> 8) & 255, (c >>> 16) & 255];

function distance(a: number, b: number): number {
  const [ar, ag, ab] = channels(a);
  const [br, bg, bb] = channels(b);
  return (ar - br) ** 2 + (ag - bg) ** 2 + (ab - bb) ** 2;
}

/**
 * Colour → slot, open addressing over typed arrays: a Map update per pixel cost more than resvg's whole
 * render (about 15 ms of a 570×520 image). Slots are handed out in first-seen order.
 */
class ColourSlots {
  private keys = new Uint32Array(1 << 12);
  private slots = new Int32Array(1 << 12).fill(-1);
  /** Each slot's colour, in first-seen order. */
  readonly colours: number[] = [];

  slotOf(colour: number): number {
    let mask = this.keys.length - 1;
    let h = (Math.imul(colour, 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      const slot = this.slots[h] as number;
      if (slot === -1) break;
      if (this.keys[h] === colour) return slot;
      h = (h + 1) & mask;
    }
    if (this.colours.length * 2 >= this.keys.length) {
      this.grow();
      mask = this.keys.length - 1;
      h = (Math.imul(colour, 0x9e3779b1) >>> 0) & mask;
      while (this.slots[h] !== -1) h = (h + 1) & mask;
    }
    this.keys[h] = colour;
    this.slots[h] = this.colours.length;
    this.colours.push(colour);
    return this.colours.length - 1;
  }

  private grow(): void {
    const colours = [...this.colours];
    this.keys = new Uint32Array(this.keys.length * 2);
    this.slots = new Int32Array(this.keys.length).fill(-1);
    this.colours.length = 0;
    for (const c of colours) this.slotOf(c);
  }
}

/** The 256 most frequent colours, and every pixel's index (rarer colours take their nearest). */
function indexPixels(words: Uint32Array): { colours: number[]; indices: Uint8Array } {
  // Most pixels are background white: counted apart.
  const table = new ColourSlots();
  const slotOfPixel = new Int32Array(words.length);
  const counts: number[] = [];
  let white = 0;
  for (let i = 0; i < words.length; i++) {
    const c = words[i] as number;
    if (c === WHITE) {
      white++;
      slotOfPixel[i] = -1;
      continue;
    }
    const slot = table.slotOf(c);
    slotOfPixel[i] = slot;
    counts[slot] = (counts[slot] ?? 0) + 1;
  }
  // White last among the first-seen, as before: ties in the palette order keep first-seen order.
  const byCount = [...table.colours.map((c, slot) => [c, counts[slot] ?? 0] as const), [WHITE, white] as const].sort(
    (a, b) => b[1] - a[1],
  );
  const colours = byCount.slice(0, 256).map(([c]) => c);
  const lookup = new Map(colours.map((c, i) => [c, i]));
  const whiteAt = lookup.get(WHITE) ?? 0;
  // Each distinct colour's palette index, found once (its nearest kept colour when it is not kept itself).
  const indexOfSlot = table.colours.map((c) => {
    let at = lookup.get(c);
    if (at !== undefined) return at;
    at = 0;
    for (let k = 1; k < colours.length; k++) if (distance(colours[k] ?? 0, c) < distance(colours[at] ?? 0, c)) at = k;
    return at;
  });
  const indices = new Uint8Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const slot = slotOfPixel[i] as number;
    indices[i] = slot === -1 ? whiteAt : (indexOfSlot[slot] as number);
  }
  return { colours, indices };
}

/** RGBA pixels (alpha ignored: the ladder is drawn on an opaque white background) → indexed PNG. */
export function encodePalettePng(width: number, height: number, rgba: Buffer): Buffer {
  const { colours, indices } = indexPixels(pixelWords(rgba));
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    // Filter byte 0 (none) per row: best for indexed images.
    raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: indexed
  const plte = Buffer.alloc(colours.length * 3);
  colours.forEach((c, i) => plte.set(channels(c), i * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', plte),
    // Level 6: level 9 costs ten times the time here for under a tenth of the size.
    pngChunk('IDAT', deflateSync(raw, { level: 6 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
