// One contract for PipelineState, run against both implementations: the
// in-memory twin (embedded mode) must behave as the Redis store does, expiries
// and caps included, or the embedded bot differs from production silently.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import type { PipelineState, StateLimits } from '../../src/pipeline/state.js';
import { request, sleep, uniquePrefix } from './contract-fixtures.js';
import type { RedisClient } from '../../src/runtime/redis-client.js';
import { deleteKeys, testRedis } from './harness.js';

const SHORT: StateLimits = { recordTtlSeconds: 1, cancelTtlSeconds: 1, historyMax: 3 };
const LONG: StateLimits = { recordTtlSeconds: 3600, cancelTtlSeconds: 3600, historyMax: 3 };

interface Backend {
  name: string;
  make(limits: StateLimits): PipelineState;
}

const prefixes: string[] = [];
const clients: RedisClient[] = [];
const backends: Backend[] = [
  { name: 'MemoryState', make: (limits) => new MemoryState(limits) },
  {
    name: 'RedisState',
    make: (limits) => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const redis = testRedis();
      clients.push(redis);
      return new RedisState(redis, prefix, limits);
    },
  },
];

after(async () => {
  for (const p of prefixes) await deleteKeys(p);
  for (const c of clients) c.disconnect();
});

for (const backend of backends) {
  describe(`PipelineState contract: ${backend.name}`, () => {
    it('records a check, patches it and keeps one digest per step, in step order', async () => {
      const s = backend.make(LONG);
      const r = request();
      await s.createCheck(r);
      assert.equal((await s.getCheck(r.checkId))?.status, 'queued');
      await s.updateCheck(r.checkId, { status: 'running', worker: 'w1' });
      await s.addStep(r.checkId, { step: 2, name: 'mode', verdict: 'ok', summary: 'second' });
      await s.addStep(r.checkId, { step: 1, name: 'reach', verdict: 'fail', summary: 'first' });
      await s.addStep(r.checkId, { step: 1, name: 'reach', verdict: 'ok', summary: 'first again' });
      const rec = await s.getCheck(r.checkId);
      assert.equal(rec?.status, 'running');
      assert.equal(rec?.worker, 'w1');
      assert.deepEqual(
        rec?.steps.map((x) => [x.step, x.summary]),
        [
          [1, 'first again'],
          [2, 'second'],
        ],
      );
      assert.equal(await s.getCheck('no-such-check'), undefined);
      await s.close();
    });

    it('history is newest first, per target, and capped', async () => {
      const s = backend.make(LONG);
      const web = [1, 2, 3, 4].map(() => request('web'));
      const api = request('api');
      for (const r of [...web, api]) await s.createCheck(r);
      assert.deepEqual(
        (await s.history('web', 10)).map((x) => x.request.checkId),
        web
          .slice(1)
          .reverse()
          .map((r) => r.checkId),
      );
      assert.deepEqual(
        (await s.history(undefined, 10)).map((x) => x.request.checkId),
        [api, web[3], web[2]].map((r) => r?.checkId),
      );
      assert.equal((await s.history('web', 2)).length, 2);
      await s.close();
    });

    it('counts in-flight checks per target until they end; discard undoes a create', async () => {
      const s = backend.make(LONG);
      const [a, b, c] = [request('web'), request('web'), request('api')];
      for (const r of [a, b, c]) await s.createCheck(r);
      assert.equal(await s.inFlightCount('web'), 2);
      await s.updateCheck(a.checkId, { status: 'done', culprit: 'none' });
      assert.equal(await s.inFlightCount('web'), 1);
      assert.deepEqual((await s.inFlight()).map((r) => r.request.checkId).sort(), [b.checkId, c.checkId].sort());
      await s.discardCheck(b);
      assert.equal(await s.inFlightCount('web'), 0);
      assert.equal(await s.getCheck(b.checkId), undefined);
      assert.deepEqual(
        (await s.history('web', 10)).map((r) => r.request.checkId),
        [a.checkId],
      );
      await s.close();
    });

    it('marks each report posted once and keeps the highest seq as the cursor', async () => {
      const s = backend.make(LONG);
      assert.equal(await s.lastPosted('c1'), 0);
      assert.equal(await s.markPosted('c1', 'c1-step2', 2), true);
      assert.equal(await s.markPosted('c1', 'c1-step2', 2), false);
      assert.equal(await s.markPosted('c1', 'c1-step1', 1), true);
      assert.equal(await s.lastPosted('c1'), 2);
      assert.equal(await s.wasPosted('c1-step1'), true);
      assert.equal(await s.wasPosted('c1-final'), false);
      await s.close();
    });

    it('hands out at most limit capture slots per LB, re-entrant per holder, freed by release or lease end', async () => {
      const s = backend.make(LONG);
      assert.equal(await s.tryAcquireCapture('lb1', 'h1', 2, 60_000), true);
      assert.equal(await s.tryAcquireCapture('lb1', 'h1', 2, 60_000), true);
      assert.equal(await s.tryAcquireCapture('lb1', 'h2', 2, 300), true);
      assert.equal(await s.tryAcquireCapture('lb1', 'h3', 2, 60_000), false);
      assert.equal(await s.tryAcquireCapture('lb2', 'h3', 2, 60_000), true);
      assert.equal(await s.captureHolders('lb1'), 2);
      await s.releaseCapture('lb1', 'h1');
      assert.equal(await s.tryAcquireCapture('lb1', 'h3', 2, 60_000), true);
      await sleep(400); // h2's lease ends
      assert.equal(await s.captureHolders('lb1'), 1);
      assert.equal(await s.tryAcquireCapture('lb1', 'h4', 2, 60_000), true);
      await s.close();
    });

    it('counts hits per key and window; claims a key once', async () => {
      const s = backend.make(LONG);
      assert.equal(await s.hit('u1', 3600), 1);
      assert.equal(await s.hit('u1', 3600), 2);
      assert.equal(await s.hit('u2', 3600), 1);
      assert.equal(await s.claimOnce('sig-1', 3600), true);
      assert.equal(await s.claimOnce('sig-1', 3600), false);
      assert.equal(await s.claimOnce('sig-2', 3600), true);
      await s.releaseClaim('sig-2');
      assert.equal(await s.claimOnce('sig-2', 3600), true, 'a released claim can be claimed again');
      assert.equal(await s.claimOnce('sig-1', 3600), false, 'releasing one claim leaves the others');
      await s.setMemo('c1', 'parent', '123.456');
      assert.equal(await s.getMemo('c1', 'parent'), '123.456');
      assert.equal(await s.getMemo('c1', 'other'), undefined);
      await s.close();
    });

    it('forgets records, cancels, post markers, memos, evidence, rates and claims when their time is up', async () => {
      const s = backend.make(SHORT);
      const r = request('web');
      await s.createCheck(r);
      await s.requestCancel(r.checkId, 'bob');
      await s.markPosted(r.checkId, `${r.checkId}-step1`, 1);
      await s.setMemo(r.checkId, 'parent', 'ts');
      await s.putEvidence('ab'.repeat(32), Buffer.from('pcap'), 1);
      await s.hit('rate-key', 1);
      await s.claimOnce('claim-key', 1);
      assert.equal(await s.cancelRequestedBy(r.checkId), 'bob');
      assert.deepEqual(await s.getEvidence('ab'.repeat(32)), Buffer.from('pcap'));
      await sleep(2100); // past every 1 s expiry, and past the 1 s rate window's two-window lifetime
      assert.equal(await s.getCheck(r.checkId), undefined);
      assert.deepEqual(await s.history('web', 10), []);
      assert.equal(await s.inFlightCount('web'), 0);
      assert.equal(await s.cancelRequestedBy(r.checkId), undefined);
      assert.equal(await s.wasPosted(`${r.checkId}-step1`), false);
      assert.equal(await s.lastPosted(r.checkId), 0);
      assert.equal(await s.getMemo(r.checkId, 'parent'), undefined);
      assert.equal(await s.getEvidence('ab'.repeat(32)), undefined);
      assert.equal(await s.hit('rate-key', 1), 1);
      assert.equal(await s.claimOnce('claim-key', 1), true);
      await s.close();
    });
  });
}
