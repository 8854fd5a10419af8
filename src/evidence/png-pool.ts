// Ladder PNGs are rendered on a worker thread (piscina), off the check's
// critical path: resvg's render plus the palette quantize and deflate take
// 50–150 ms of CPU per image, which on the main thread would delay the next
// step's probes and every other check a worker runs. One thread: the PNGs of
// one check come one step at a time, and the machine's other core is the
// main thread's. Piscina refs the thread only while it has work, so an idle
// pool never keeps the CLI or a worker process alive. The thread is replaced
// before the native memory it may keep passes a bound (render-recycler.ts).
import type { PngResult } from './ladder-evidence.js';
import { svgToPng } from './ladder-png.js';
import { RenderRecycler, type RetiredThread } from './render-recycler.js';

/**
 * Bounds per render thread. resvg keeps 2–4 MB per render where its finalizers
 * cannot run (docs/memory.md): 24 renders (12 two-ladder checks) is under
 * 100 MB even then, and a thread's start (~0.1 s of CPU, off the check's path)
 * every dozen checks costs little.
 */
export const RENDERS_PER_THREAD = 24;
export const RSS_GROWTH_MB = 64;

// The metrics counter is wired by the worker process (prom-client is not loaded by a one-shot CLI run).
let replacedListener: ((reason: RetiredThread['reason']) => void) | undefined;

/** Calls `listener` each time a render thread is replaced (workers/probe/worker-runtime.ts counts them). */
export function onPngThreadReplaced(listener: (reason: RetiredThread['reason']) => void): void {
  replacedListener = listener;
}

const recycler = new RenderRecycler({
  filename: new URL('./png-worker.js', import.meta.url).href,
  rendersPerThread: RENDERS_PER_THREAD,
  rssGrowthMb: RSS_GROWTH_MB,
  atomics: 'disabled',
  onReplaced: (thread) => replacedListener?.(thread.reason),
});

/** Starts the render thread (loading resvg there) if it is not running yet: called as a check starts. */
export function warmPngPool(): void {
  void recycler.warm().catch(() => undefined);
}

/** Threads replaced so far and the current one's renders (the soak bench prints them). */
export function pngThreadStats(): {
  retired: readonly RetiredThread[];
  current: Promise<{ renders: number } | undefined>;
} {
  return { retired: [...recycler.retired], current: recycler.currentThread() };
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
    return asResult(await recycler.render(svg));
  } catch {
    return svgToPng(svg);
  }
}
