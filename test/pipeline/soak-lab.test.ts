// The soak's leak-sensitive parts, short (the full soak: `npm run bench -- soak`):
// 40 checks through console → BullMQ → worker → reports on the lab, bot and
// worker in this one process. Afterwards the process holds what it held after
// its warm-up: no more file descriptors, timers or SSH sessions, no queue keys
// beyond the warm-up's (the rest expire or are BullMQ's capped job records),
// every render thread replaced at its bound, and RSS within the soak's 100 MB
// target. Before the render thread was fixed, 80 ladder PNGs kept ~200 MB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pngThreadStats, RENDERS_PER_THREAD } from '../../src/evidence/png-pool.js';
import { runChecks } from '../bench/soak-bench.js';
import { snapshot, type Snapshot } from '../bench/soak-snapshot.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { startHarness, type Harness } from './harness.js';

const CHECKS = 40;
/** Renders a thread may do past its bound while its successor warms (each check renders two ladders). */
const WARMING_RENDERS = 16;

let lab: Lab;
let h: Harness;

useLab({}, async (started, own) => {
  lab = started;
  h = own(await startHarness(lab));
  h.startWorker();
});

/** Reads snapshots until `settled` holds for one (work a check leaves behind, e.g. a capture's stop, ends), 20 s at most. */
async function settledSnapshot(settled: (s: Snapshot) => boolean): Promise<Snapshot> {
  const deadline = Date.now() + 20_000;
  let s = await snapshot(lab, h.config.prefix);
  while (!settled(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    s = await snapshot(lab, h.config.prefix);
  }
  return s;
}

describe('a worker after many checks holds what it held after its first ones', () => {
  it(`${CHECKS} checks: fds, timers, SSH sessions and queue keys back to idle, RSS bounded`, async () => {
    await runChecks(h, 10);
    const warm = await settledSnapshot(() => true);
    const retiredBefore = pngThreadStats().retired.length;
    await runChecks(h, CHECKS);
    const end = await settledSnapshot(
      (s) => s.fds <= warm.fds && s.timers <= warm.timers && s.sshOpen <= warm.sshOpen && s.lbSshd <= warm.lbSshd,
    );
    // A timer a check may leave pending for a while (seen: one) is not one per check: 40 leaked would be 40.
    assert.ok(end.fds <= warm.fds, `open fds ${warm.fds} → ${end.fds}`);
    assert.ok(end.timers <= warm.timers + 2, `timers ${warm.timers} → ${end.timers}`);
    assert.equal(end.sshOpen, warm.sshOpen, 'pooled SSH sessions');
    assert.ok(end.lbSshd <= warm.lbSshd, `sshd processes on the LB ${warm.lbSshd} → ${end.lbSshd}`);
    assert.deepEqual(end.redisKeys.otherKeys.sort(), warm.redisKeys.otherKeys.sort(), 'keys without TTL, not jobs');
    assert.ok((end.redisKeys.jobs['checks'] ?? 0) >= CHECKS, 'the checks are there, kept as BullMQ keeps them');
    assert.ok(end.redisKeys.withTtl > warm.redisKeys.withTtl, 'the checks left records that expire');

    // Two ladders per check: the threads were replaced, none past its bound by more than its successor's warm-up.
    const png = pngThreadStats();
    const replaced = png.retired.slice(retiredBefore);
    assert.ok(replaced.length >= Math.floor((2 * CHECKS) / (RENDERS_PER_THREAD + WARMING_RENDERS)), 'replaced');
    for (const t of replaced) {
      // Replaced for RSS growth (the process grew 64 MB in its life) a thread may have done fewer.
      if (t.reason === 'renders') assert.ok(t.renders >= RENDERS_PER_THREAD, `replaced after ${t.renders}`);
      assert.ok(t.renders <= RENDERS_PER_THREAD + WARMING_RENDERS, `${t.renders} renders on one thread`);
    }
    const current = await png.current;
    assert.ok((current?.renders ?? 0) <= RENDERS_PER_THREAD + WARMING_RENDERS, `${current?.renders} on one thread`);
    const growth = end.rssMb - warm.rssMb;
    assert.ok(growth <= 100, `RSS ${warm.rssMb} → ${end.rssMb} MB after ${CHECKS} checks`);
  });
});
