// One render thread at a time, replaced before the native memory it may keep
// can grow without bound. resvg's allocations are freed by N-API finalizers
// that Node runs on the thread's event loop; a thread that never turns its
// loop (piscina's default `atomics: 'sync'` blocks it between tasks) keeps
// every render's ~2-4 MB. The render thread therefore turns its loop (atomics
// 'disabled'), and, whatever a renderer keeps anyway, a thread is retired
// after `rendersPerThread` renders or once the process's RSS has grown by
// `rssGrowthMb` during its life: ending a thread finalizes everything it held
// (measured: RSS stops growing from one thread to the next). The successor
// is started and warmed (resvg and the font loaded, one tiny render) while the
// old thread keeps serving, so no check ever waits for a cold start.
import type { Piscina } from 'piscina';
import type { PngResult } from './ladder-evidence.js';

/** What the render thread answers: the result, and how many renders that thread has done (it counts itself). */
export interface ThreadRender {
  result: PngResult;
  threadId: number;
  rendersOnThread: number;
}

export interface RecyclerOptions {
  /** The thread's module (default export: svg → ThreadRender). */
  filename: string;
  rendersPerThread: number;
  rssGrowthMb: number;
  /** 'disabled' in production (the loop turns, finalizers run); tests pass 'sync' to make resvg keep its memory. */
  atomics: 'sync' | 'async' | 'disabled';
  /** Process RSS in bytes (process.memoryUsage.rss by default). */
  rss?: () => number;
  /** Told of each replaced thread (the metrics counter). */
  onReplaced?: (thread: RetiredThread) => void;
}

interface Generation {
  pool: Piscina<string, ThreadRender>;
  renders: number;
  rssAtStart: number;
  threadId?: number;
  /** Set when its successor took over: renders still finishing on it start nothing. */
  retired?: boolean;
}

/** A retired thread: which it was and how many renders it did (for tests and the soak). */
export interface RetiredThread {
  threadId: number | undefined;
  renders: number;
  reason: 'renders' | 'rss';
}

const WARM_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><text x="0" y="8">0</text></svg>';

export class RenderRecycler {
  private current: Promise<Generation> | undefined;
  private successor: Promise<Generation | undefined> | undefined;
  private retiring: Promise<void>[] = [];
  readonly retired: RetiredThread[] = [];

  constructor(private readonly options: RecyclerOptions) {}

  private rss(): number {
    return (this.options.rss ?? process.memoryUsage.rss)();
  }

  /** Piscina is loaded with the first check that draws PNGs: a CLI run without them does not pay for it. */
  private async start(): Promise<Generation> {
    const { Piscina } = await import('piscina');
    const pool = new Piscina<string, ThreadRender>({
      filename: this.options.filename,
      minThreads: 1,
      maxThreads: 1,
      // A worker process renders for every check: keep the thread (and its loaded resvg) between checks.
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: this.options.atomics,
    });
    return { pool, renders: 0, rssAtStart: this.rss() };
  }

  /** Starts the first thread if none runs (called as a check starts, so its first PNG finds resvg loaded). */
  warm(): Promise<Generation> {
    if (!this.current) {
      this.current = this.start();
      // A thread that cannot start is reported by the render that needed it.
      this.current.catch(() => undefined);
    }
    return this.current;
  }

  async render(svg: string): Promise<PngResult> {
    const generation = await this.warm();
    const answer = await generation.pool.run(svg);
    // The thread's own count (its warm-up render included), not one kept here.
    generation.renders = Math.max(generation.renders, answer.rendersOnThread);
    generation.threadId = answer.threadId;
    this.afterRender(generation);
    return answer.result;
  }

  /** The reason to retire the current thread now, if any. */
  private retireReason(g: Generation): RetiredThread['reason'] | undefined {
    if (g.renders >= this.options.rendersPerThread) return 'renders';
    if (this.rss() - g.rssAtStart >= this.options.rssGrowthMb * 1024 * 1024) return 'rss';
    return undefined;
  }

  private afterRender(generation: Generation): void {
    if (generation.retired || this.successor) return;
    const reason = this.retireReason(generation);
    if (!reason) return;
    this.successor = this.warmSuccessor();
    void this.successor.then((next) => {
      this.successor = undefined;
      if (next) this.swap(generation, next, reason);
    });
  }

  /** A new thread that has rendered once (resvg and the font loaded), or undefined if it could not start. */
  private async warmSuccessor(): Promise<Generation | undefined> {
    let next: Generation | undefined;
    try {
      next = await this.start();
      const answer = await next.pool.run(WARM_SVG);
      // Its RSS baseline is taken once it is warm: resvg's load is not growth.
      return { ...next, threadId: answer.threadId, renders: answer.rendersOnThread, rssAtStart: this.rss() };
    } catch {
      // The old thread keeps serving; the next render past the bound tries again.
      if (next) void next.pool.destroy().catch(() => undefined);
      return undefined;
    }
  }

  private swap(old: Generation, next: Generation, reason: RetiredThread['reason']): void {
    old.retired = true;
    this.current = Promise.resolve(next);
    // close() lets a render already handed to the old thread finish, then ends the thread.
    const done = old.pool.close().then(
      () => undefined,
      () => undefined,
    );
    const thread = { threadId: old.threadId, renders: old.renders, reason };
    this.retired.push(thread);
    this.options.onReplaced?.(thread);
    this.retiring.push(done);
    void done.then(() => (this.retiring = this.retiring.filter((d) => d !== done)));
  }

  /** Resolves once no successor is warming and every retired thread has ended (tests and the soak). */
  async settled(): Promise<void> {
    while (this.successor || this.retiring.length > 0) {
      await this.successor;
      await Promise.all(this.retiring);
    }
  }

  /** The current thread's id and renders (undefined before the first). */
  async currentThread(): Promise<{ threadId: number | undefined; renders: number } | undefined> {
    if (!this.current) return undefined;
    const g = await this.current;
    return { threadId: g.threadId, renders: g.renders };
  }

  async destroy(): Promise<void> {
    await this.settled();
    const g = await this.current?.catch(() => undefined);
    this.current = undefined;
    await g?.pool.destroy();
  }
}
