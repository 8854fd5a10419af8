// The ladder PNG render thread's task (run by src/evidence/png-pool.ts): the
// same svgToPng as on the main thread, so the bytes are the same. The thread
// counts its own renders, so the recycling bound is proven from the thread's
// side (render-recycler.ts).
import { threadId } from 'node:worker_threads';
import { loadResvg, svgToPng } from './ladder-png.js';
import type { ThreadRender } from './render-recycler.js';

// Loaded when the thread starts, so the first check's render does not pay for it.
loadResvg();

let renders = 0;

export default function renderPng(svg: string): ThreadRender {
  const result = svgToPng(svg);
  renders++;
  return { result, threadId, rendersOnThread: renders };
}
