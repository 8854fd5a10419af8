// A check's last step handed over to its diagnosis (workers/bot/report-order.ts): taken only by the diagnosis
// that waits for it, settled by that diagnosis's post, withdrawn when nobody takes it; never both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportJob } from '../../src/model/jobs.js';
import type { ReportOutcome } from '../../src/pipeline/job-bus.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { PostContext } from '../../src/pipeline/poster.js';
import { asHandling, earlierPosted, handOverToFinal, type Offer } from '../../workers/bot/report-order.js';

const ctx = {} as PostContext;
const job = (checkId: string, seq: number, kind: ReportJob['kind']): ReportJob => ({ checkId, seq, kind }) as ReportJob;

/** Runs `body` as the handling of a report, as the report poster does. */
function handle(r: ReportJob, body: () => Promise<ReportOutcome>): Promise<ReportOutcome> {
  return asHandling(r, () => body());
}

describe('handing the last step over to the diagnosis', () => {
  it('the diagnosis waiting for the step takes it, and the step hears how its post went', async () => {
    const state = new MemoryState();
    await state.markPosted('chk-a', 'chk-a#2', 2);
    const step = job('chk-a', 3, 'step');
    let taken: Offer | undefined;
    const final = handle(job('chk-a', 4, 'final'), async () => {
      const turn = await earlierPosted(state, 'chk-a', 4);
      assert.equal(typeof turn, 'object', 'the diagnosis got the step');
      taken = turn as Offer;
      taken.settle('posted');
      return 'done';
    });
    let handed: string | undefined;
    await handle(step, async () => {
      handed = await handOverToFinal({ report: step, ctx, evidence: [] });
      return 'done';
    });
    await final;
    assert.equal(handed, 'posted');
    assert.equal(taken?.report, step);
    assert.equal(taken?.state, 'taken');
  });

  it('a failed post is told to the step, which goes back to the queue', async () => {
    const state = new MemoryState();
    await state.markPosted('chk-b', 'chk-b#2', 2);
    const step = job('chk-b', 3, 'step');
    const final = handle(job('chk-b', 4, 'final'), async () => {
      const turn = await earlierPosted(state, 'chk-b', 4);
      (turn as Offer).settle('failed');
      return 'later';
    });
    const handed = await new Promise<string>(
      (resolve) =>
        void handle(step, async () => {
          resolve(await handOverToFinal({ report: step, ctx, evidence: [] }));
          return 'later';
        }),
    );
    await final;
    assert.equal(handed, 'failed');
  });

  it('is declined when the next report handled here is not a diagnosis, or none is', async () => {
    const state = new MemoryState();
    const step = job('chk-c', 2, 'step');
    const next = handle(job('chk-c', 3, 'step'), async () => {
      await earlierPosted(state, 'chk-c', 3);
      return 'done';
    });
    await handle(step, async () => {
      assert.equal(await handOverToFinal({ report: step, ctx, evidence: [] }), 'declined');
      await state.markPosted('chk-c', 'chk-c#2', 2);
      return 'done';
    });
    await next;
    const alone = job('chk-d', 3, 'step');
    await handle(alone, async () => {
      assert.equal(await handOverToFinal({ report: alone, ctx, evidence: [] }), 'declined');
      return 'done';
    });
  });

  it('is withdrawn when the diagnosis does not come for it, and then cannot be taken', async () => {
    const state = new MemoryState();
    const step = job('chk-e', 3, 'step');
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    // A diagnosis handled here that is busy elsewhere (e.g. finding itself posted already) and never waits.
    const final = handle(job('chk-e', 4, 'final'), async () => {
      await held;
      return 'done';
    });
    let late: Promise<boolean | Offer> | undefined;
    await handle(step, async () => {
      assert.equal(await handOverToFinal({ report: step, ctx, evidence: [] }), 'declined');
      // The step posts itself now; a diagnosis looking only now finds no offer, only the step being handled.
      late = earlierPosted(state, 'chk-e', 4);
      await state.markPosted('chk-e', 'chk-e#3', 3);
      return 'done';
    });
    release();
    await final;
    assert.equal(await late, true, 'the late diagnosis saw the step posted, not an offer');
  });
});
