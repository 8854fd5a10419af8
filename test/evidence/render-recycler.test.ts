// The ladder render thread is replaced at its bound (src/evidence/render-recycler.ts):
// each thread counts its own renders and none passes the bound; its successor
// is warm before it takes over; the PNGs stay byte-identical; and with a
// renderer that keeps native memory per render (resvg on a thread whose event
// loop never turns, as piscina's `atomics: 'sync'` made it), the process's RSS
// stays within a few threads' worth of that memory instead of growing with
// every render. Memory is the whole process's, so this file runs nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLadder } from '../../src/evidence/ladder-model.js';
import { svgToPng } from '../../src/evidence/ladder-png.js';
import { renderLadderSvg } from '../../src/evidence/ladder-svg.js';
import { RenderRecycler, type RecyclerOptions } from '../../src/evidence/render-recycler.js';
import { probeFixture } from './fixture-flows.js';

const MB = 1024 * 1024;
const filename = new URL('../../src/evidence/png-worker.js', import.meta.url).href;

function ladderSvg(): string {
  const fx = probeFixture('haproxy-503');
  return renderLadderSvg(
    buildLadder({ title: 'Step 2: haproxy-503', packets: fx.packets, deciding: fx.packets.slice(0, 1) }),
  );
}

function recycler(options: Partial<RecyclerOptions>): RenderRecycler {
  return new RenderRecycler({ filename, rendersPerThread: 1e9, rssGrowthMb: 1e9, atomics: 'disabled', ...options });
}

/** Renders `n` times, returning the process's peak RSS seen after each render. */
async function renderMany(r: RenderRecycler, svg: string, n: number): Promise<number> {
  let peak = 0;
  for (let i = 0; i < n; i++) {
    await r.render(svg);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  return peak;
}

/** RSS growth per render of one thread that is never replaced, after a few warm-up renders. */
async function growthPerRender(atomics: RecyclerOptions['atomics'], svg: string, renders: number): Promise<number> {
  const r = recycler({ atomics });
  await renderMany(r, svg, 5);
  const before = process.memoryUsage.rss();
  await renderMany(r, svg, renders);
  const growth = (process.memoryUsage.rss() - before) / renders;
  await r.destroy();
  return growth;
}

describe('ladder render thread replaced at its bound', () => {
  it('each thread does exactly its bound of renders (its own count), then a warm successor takes over', async () => {
    const svg = ladderSvg();
    const expected = svgToPng(svg);
    assert.ok('png' in expected);
    const r = recycler({ rendersPerThread: 4 });
    for (let i = 0; i < 15; i++) {
      const got = await r.render(svg);
      assert.ok('png' in got && Buffer.compare(Buffer.from(got.png), expected.png) === 0, `render ${i} same bytes`);
      // Paced so each successor is ready before the next render: then no thread passes its bound by even one.
      await r.settled();
    }
    const current = await r.currentThread();
    await r.destroy();
    // 15 renders: the first thread does 4; each successor's warm-up counts, so 1 + 3: 4 + 3 + 3 + 3, then 2.
    assert.deepEqual(
      r.retired.map((t) => [t.renders, t.reason]),
      [
        [4, 'renders'],
        [4, 'renders'],
        [4, 'renders'],
        [4, 'renders'],
      ],
    );
    assert.equal(current?.renders, 3, 'the fifth thread: its warm-up and renders 14 and 15');
    const ids = [...r.retired.map((t) => t.threadId), current?.threadId];
    assert.equal(new Set(ids).size, ids.length, `a new thread each time: ${ids.join(', ')}`);
  });

  it('RSS growth retires a thread before its render count does', async () => {
    let fakeRss = 100 * MB;
    const r = recycler({ rendersPerThread: 1000, rssGrowthMb: 50, rss: () => fakeRss });
    const svg = ladderSvg();
    await r.render(svg);
    await r.settled();
    assert.equal(r.retired.length, 0, 'no growth, no replacement');
    fakeRss += 50 * MB;
    await r.render(svg);
    await r.settled();
    assert.deepEqual(
      r.retired.map((t) => [t.renders, t.reason]),
      [[2, 'rss']],
    );
    await r.destroy();
  });

  it('with a renderer that keeps native memory, RSS stays within a few threads of it, not every render', async (t) => {
    const svg = ladderSvg();
    // The renderer kept memory on a thread whose loop never turns: measured here, so the bound below means something.
    const leak = await growthPerRender('sync', svg, 30);
    assert.ok(leak > 1 * MB, `resvg kept ${(leak / MB).toFixed(2)} MB per render on a blocked thread`);

    const perThread = 10;
    const renders = 200;
    const r = recycler({ atomics: 'sync', rendersPerThread: perThread });
    await renderMany(r, svg, 5);
    const base = process.memoryUsage.rss();
    const peak = await renderMany(r, svg, renders);
    await r.destroy();
    // At most the old thread (its bound, plus renders while its successor warms), the warming successor and a
    // retired thread still ending hold memory at once; a thread's own start is well under 64 MB.
    const bound = 3 * (perThread + 10) * leak + 64 * MB;
    const unrecycled = renders * leak;
    t.diagnostic(
      `kept ${(leak / MB).toFixed(2)} MB/render; ${renders} renders grew RSS ${((peak - base) / MB).toFixed(0)} MB ` +
        `(bound ${(bound / MB).toFixed(0)} MB, unrecycled ~${(unrecycled / MB).toFixed(0)} MB), ${r.retired.length} threads replaced`,
    );
    assert.ok(bound < unrecycled / 2, 'the bound is far below what keeping every render would cost');
    assert.ok(
      peak - base <= bound,
      `RSS grew ${((peak - base) / MB).toFixed(0)} MB over ${renders} renders; bound ${(bound / MB).toFixed(0)} MB`,
    );
    assert.ok(r.retired.length >= renders / (perThread + 10), `${r.retired.length} threads replaced`);
    for (const t of r.retired) assert.ok(t.renders >= perThread, `a thread retired at ${t.renders} renders`);
  });

  it("the production thread turns its event loop, so resvg's memory is freed as it renders", async (t) => {
    const svg = ladderSvg();
    const blocked = await growthPerRender('sync', svg, 40);
    const turning = await growthPerRender('disabled', svg, 40);
    t.diagnostic(`per render: blocked ${(blocked / MB).toFixed(2)} MB, turning ${(turning / MB).toFixed(2)} MB`);
    assert.ok(blocked > 1 * MB, `blocked thread: ${(blocked / MB).toFixed(2)} MB per render`);
    assert.ok(
      turning < blocked / 2,
      `turning thread: ${(turning / MB).toFixed(2)} MB per render, blocked: ${(blocked / MB).toFixed(2)} MB`,
    );
  });
});
