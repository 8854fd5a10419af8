// Delivery guarantees beyond the happy path: a platform that fails (the
// poster retries with backoff and still posts each step once, in order), and
// vantage zones (a check goes to its zone's workers only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatPoster } from '../../src/pipeline/poster.js';
import { startLab, type Lab } from '../lab/lab.js';
import { startHarness } from './harness.js';

let lab: Lab;
before(async () => {
  lab = await startLab({ serverCount: 2 });
});
after(() => lab?.teardown());

const idOf = (ack: string): string => /Queued (chk-[0-9a-f]{10})/.exec(ack)?.[1] ?? assert.fail(ack);

/** A "platform" whose API fails the first two attempts of every post. */
function flaky(inner: ChatPoster, attempts: string[]): ChatPoster {
  const failures = new Map<string, number>();
  const gate = (key: string): void => {
    attempts.push(key);
    const n = failures.get(key) ?? 0;
    if (n < 2) {
      failures.set(key, n + 1);
      throw new Error(`platform API answered 500 for ${key} (attempt ${n + 1})`);
    }
  };
  return {
    platform: inner.platform,
    postStep: (ctx, step, ev) => {
      gate(`${ctx.request.checkId}/step${step.step}`);
      return inner.postStep(ctx, step, ev);
    },
    postFinal: (ctx, report) => {
      gate(`${ctx.request.checkId}/final`);
      return inner.postFinal(ctx, report);
    },
    postNotice: (ctx, kind, text) => inner.postNotice(ctx, kind, text),
  };
}

describe('a failing platform API', () => {
  it('every step is retried until posted, exactly once and in step order', async () => {
    const attempts: string[] = [];
    const h = await startHarness(lab, {}, { poster: (c) => flaky(c, attempts) });
    try {
      h.startWorker();
      const id = idOf(await h.send('/lbcheck haproxy-http'));
      await h.waitFor(new RegExp(`\\[${id}\\] Diagnosis`), 30_000);
      const order = h.output().split('\n').filter((l) => l.startsWith(`[${id}]`) && /Step \d|Diagnosis/.test(l)).map((l) => /Step (\d)/.exec(l)?.[1] ?? 'D');
      assert.deepEqual(order, ['1', '2', '3', 'D']);
      for (const key of ['step1', 'step2', 'step3', 'final']) assert.equal(attempts.filter((a) => a === `${id}/${key}`).length, 3, key);
    } finally {
      await h.close();
    }
  });
});

describe('vantage zones', () => {
  it('a target in zone dc1 waits for a dc1 worker; the default worker never takes it', async () => {
    const v = lab.vips.nginx;
    const members = `[${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`;
    const h = await startHarness(lab, {}, { extraVips: ['  web-dc1:', `    address: ${v.address}`, `    port: ${v.port}`, '    lb: lab-lb', '    zone: dc1', `    members: ${members}`] });
    try {
      h.startWorker();
      const id = idOf(await h.send('/lbcheck web-dc1'));
      assert.equal((await h.backend.state.getCheck(id))?.request.zone, 'dc1');
      const later = idOf(await h.send('/lbcheck dnat'));
      await h.waitFor(new RegExp(`\\[${later}\\] Diagnosis`));
      // The default worker finished a later check of the default zone; the dc1 check was not touched.
      assert.equal((await h.backend.state.getCheck(id))?.status, 'queued');
      h.startWorker({ worker: 'dc1-worker' }, 'dc1');
      await h.waitFor(new RegExp(`\\[${id}\\] Diagnosis: NONE`));
      assert.equal((await h.backend.state.getCheck(id))?.worker, 'dc1-worker');
    } finally {
      await h.close();
    }
  });
});
