// The ladder PNG render thread's task (run by src/evidence/png-pool.ts): the
// same svgToPng as on the main thread, so the bytes are the same.
import { loadResvg, svgToPng } from './ladder-png.js';
import type { PngResult } from './ladder-evidence.js';

// Loaded when the thread starts, so the first check's render does not pay for it.
loadResvg();

export default function renderPng(svg: string): PngResult {
  return svgToPng(svg);
}
