// Ladder PNGs are rendered on a worker thread (piscina), off the check's
// critical path: resvg's render plus the palette quantize and deflate take
// 50–150 ms of CPU per image, which on the main thread would delay the next
// step's probes and every other check a worker runs. One thread: the PNGs of
// one check come one step at a time, and the machine's other core is the
// main thread's. Piscina refs the thread only while it has work, so an idle
// pool never keeps the CLI or a worker process alive.
import type { Piscina } from 'piscina';
import type { PngResult } from './ladder-evidence.js';
import { svgToPng } from './ladder-png.js';

let pool: Promise<Piscina<string, PngResult>> | undefined;

/** Piscina is loaded with the first check that draws PNGs: a CLI run without them does not pay for it. */
function renderPool(): Promise<Piscina<string, PngResult>> {
  if (!pool) {
    pool = import('piscina').then(
      ({ Piscina }) =>
        new Piscina<string, PngResult>({
          filename: new URL('./png-worker.js', import.meta.url).href,
          minThreads: 1,
          maxThreads: 1,
          // A worker process renders for every check: keep the thread (and its loaded resvg) between checks.
          idleTimeout: Number.POSITIVE_INFINITY,
        }),
    );
    // A pool that cannot start is reported by the render that needed it (and drawn here instead).
    pool.catch(() => undefined);
  }
  return pool;
}

/** Starts the render thread (loading resvg there) if it is not running yet: called as a check starts. */
export function warmPngPool(): void {
  void renderPool();
}

/** Structured clone hands a Buffer over as a plain Uint8Array: make it a Buffer again. */
function asResult(r: PngResult): PngResult {
  return 'png' in r ? { png: Buffer.from(r.png.buffer, r.png.byteOffset, r.png.byteLength) } : r;
}

/**
 * The PNG for an SVG, rendered on the pool's thread. If the thread cannot run
 * (it failed to start or crashed), the render happens here instead: the bytes
 * are the same either way, only slower for this check.
 */
export async function renderPngOffThread(svg: string): Promise<PngResult> {
  try {
    return asResult(await (await renderPool()).run(svg));
  } catch {
    return svgToPng(svg);
  }
}
