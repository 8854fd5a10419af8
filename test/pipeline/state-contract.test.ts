// One contract for PipelineState, run against both implementations: the
// in-memory twin (embedded mode) must behave as the Redis store does, expiries
// and caps included, or the embedded bot differs from production silently.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import { SWEEP_BATCH, type LostCheckHandler, type PipelineState, type StateLimits } from '../../src/pipeline/state.js';
import type { CheckRecord } from '../../src/model/jobs.js';
import { request, sleep, uniquePrefix } from './contract-fixtures.js';
import type { RedisClient } from '../../src/runtime/redis-client.js';
import { deleteKeys, testRedis } from './harness.js';

const HOUR = 3600 * 1000;
const SHORT: StateLimits = { recordTtlSeconds: 1, cancelTtlSeconds: 1, historyMax: 3, staleInFlightMs: HOUR };
const LONG: StateLimits = { recordTtlSeconds: 3600, cancelTtlSeconds: 3600, historyMax: 3, staleInFlightMs: HOUR };
/** A check with no progress for a second is lost. */
const STALE_FAST: StateLimits = { ...LONG, staleInFlightMs: 1000 };

interface Backend {
  name: string;
  make(limits: StateLimits, onLost?: LostCheckHandler): PipelineState;
}

const prefixes: string[] = [];
const clients: RedisClient[] = [];
const backends: Backend[] = [
  { name: 'MemoryState', make: (limits, onLost) => new MemoryState(limits, onLost) },
  {
    name: 'RedisState',
    make: (limits, onLost) => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const redis = testRedis();
      clients.push(redis);
      return new RedisState(redis, prefix, limits, onLost);
    },
  },
];

/** A LostCheckHandler that remembers what it was told. */
function lostLog(): { ids: string[]; records: CheckRecord[]; handler: LostCheckHandler } {
  const records: CheckRecord[] = [];
  return {
    records,
    get ids() {
      return records.map((r) => r.request.checkId);
    },
    handler: (r) => {
      records.push(r);
      return Promise.resolve();
    },
  };
}

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

    it('a check without progress for the stale time stops counting, is marked failed and reported lost', async () => {
      const lost = lostLog();
      const s = backend.make(STALE_FAST, lost.handler);
      const [idle, busy, other] = [request('web'), request('web'), request('api')];
      for (const r of [idle, busy, other]) await s.createCheck(r);
      assert.equal(await s.inFlightCount('web'), 2);
      await sleep(600);
      await s.updateCheck(busy.checkId, { status: 'running', worker: 'w1' }); // progress
      await sleep(500); // idle: 1.1 s without progress; busy: 0.5 s
      assert.equal(await s.inFlightCount('web'), 1, 'busy made progress: still counted');
      assert.equal(await s.inFlightCount('web'), 1, 'and still counted once its due time was set again');
      assert.deepEqual(lost.ids, [idle.checkId], 'only the idle check of web was swept');
      assert.equal(lost.records[0]?.status, 'failed');
      const swept = await s.getCheck(idle.checkId);
      assert.equal(swept?.status, 'failed');
      assert.match(swept?.error ?? '', /^lost: no progress/);
      assert.equal((await s.getCheck(busy.checkId))?.status, 'running');
      // The status listing sweeps every target: api's idle check too.
      assert.deepEqual(
        (await s.inFlight()).map((r) => r.request.checkId),
        [busy.checkId],
      );
      assert.deepEqual(lost.ids, [idle.checkId, other.checkId]);
      assert.equal(await s.inFlightCount('api'), 0);
      await s.close();
    });

    it('an overdue check never counts, and each count sweeps at most SWEEP_BATCH of them', async () => {
      const lost = lostLog();
      const s = backend.make(STALE_FAST, lost.handler);
      const stale = Array.from({ length: SWEEP_BATCH + 5 }, () => request('web'));
      for (const r of stale) await s.createCheck(r);
      await sleep(1100);
      const fresh = request('web');
      await s.createCheck(fresh);
      assert.equal(await s.inFlightCount('web'), 1);
      assert.equal(lost.ids.length, SWEEP_BATCH);
      assert.equal(await s.inFlightCount('web'), 1);
      assert.deepEqual(lost.ids.sort(), stale.map((r) => r.checkId).sort(), 'the next count swept the rest');
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

describe('RedisState on the ack path', () => {
  it("counts a target's in-flight checks without reading their records", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const redis = testRedis();
    clients.push(redis);
    const commands: string[] = [];
    // Every command the store sends on its own connection (a transaction shows as "multi").
    const spied = new Proxy(redis, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function' || typeof key !== 'string') return value;
        return (...args: unknown[]): unknown => {
          commands.push(key);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const s = new RedisState(spied, prefix, LONG);
    for (let i = 0; i < 50; i++) await s.createCheck(request('web'));
    commands.length = 0;
    assert.equal(await s.inFlightCount('web'), 50);
    assert.deepEqual(commands, ['multi'], 'one round trip, and no record read');
  });
});
