// One contract for JobBus, run against both implementations: the in-process
// queue of the embedded mode must retry, give up, dedupe and route as BullMQ
// does, or a check that works embedded behaves differently in production.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { BullBus } from '../../src/pipeline/bullmq-bus.js';
import {
  CHECK_ATTEMPTS,
  ReportedFailure,
  type CheckJobContext,
  type Closeable,
  type JobBus,
} from '../../src/pipeline/job-bus.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import type { CheckRequest, ReportJob } from '../../src/model/jobs.js';
import { request, sleep, uniquePrefix } from './contract-fixtures.js';
import type { ClientOptions, RedisClient } from '../../src/runtime/redis-client.js';
import { deleteKeys, TEST_REDIS, testRedis } from './harness.js';

interface Backend {
  name: string;
  make(): JobBus;
}

const prefixes: string[] = [];
const clients: RedisClient[] = [];
const buses: JobBus[] = [];

function redisClient(options: ClientOptions): RedisClient {
  const r = testRedis(options);
  clients.push(r);
  return r;
}

const backends: Backend[] = [
  { name: 'MemoryBus', make: () => track(new MemoryBus()) },
  {
    name: 'BullBus',
    make: () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return track(
        new BullBus({
          url: TEST_REDIS,
          prefix,
          producer: redisClient({ maxRetriesPerRequest: 1 }),
          consumer: () => redisClient({ maxRetriesPerRequest: null }),
        }),
      );
    },
  },
];

function track(bus: JobBus): JobBus {
  buses.push(bus);
  return bus;
}

after(async () => {
  for (const b of buses) await b.close();
  for (const c of clients) c.disconnect();
  for (const p of prefixes) await deleteKeys(p);
});

function zone(): string {
  return `z${randomBytes(3).toString('hex')}`;
}

/** Resolves when `n` calls have been seen, or rejects after a generous bound (a hang is a failure, not a wait). */
function calls<T>(n: number): { seen: T[]; done: Promise<T[]>; push(v: T): void } {
  const seen: T[] = [];
  let resolve: (v: T[]) => void = () => undefined;
  const done = new Promise<T[]>((r) => (resolve = r));
  return {
    seen,
    done: Promise.race([
      done,
      sleep(20_000).then(() => Promise.reject(new Error(`expected ${n} calls, saw ${seen.length}`))),
    ]),
    push(v) {
      seen.push(v);
      if (seen.length === n) resolve(seen);
    },
  };
}

function errorReport(r: CheckRequest, seq = 1): ReportJob {
  return { kind: 'error', checkId: r.checkId, request: r, worker: 'w', seq, message: 'm' };
}

for (const backend of backends) {
  describe(`JobBus contract: ${backend.name}`, () => {
    it('runs a check once however often it is added, on its zone only, with its attempt numbers', async () => {
      const bus = backend.make();
      const z = zone();
      const r = request('web', { zone: z });
      const runs = calls<CheckJobContext>(1);
      const other: string[] = [];
      const workers: Closeable[] = [
        bus.runChecks(
          z,
          1,
          (_req, ctx) => Promise.resolve(runs.push(ctx)),
          () => Promise.resolve(),
        ),
        bus.runChecks(
          zone(),
          1,
          (req) => Promise.resolve(void other.push(req.checkId)),
          () => Promise.resolve(),
        ),
      ];
      await bus.addCheck(r);
      await bus.addCheck(r);
      assert.deepEqual(await runs.done, [{ attempt: 1, maxAttempts: CHECK_ATTEMPTS }]);
      await bus.addCheck(r); // after it ran: still the same job
      await sleep(300);
      assert.equal(runs.seen.length, 1);
      assert.deepEqual(other, []);
      for (const w of workers) await w.close();
    });

    it('retries a failure the error table calls retryable, then gives up with the original error', async () => {
      const bus = backend.make();
      const z = zone();
      const r = request('web', { zone: z });
      const attempts: number[] = [];
      const gaveUp = calls<Error>(1);
      const w = bus.runChecks(
        z,
        1,
        (_req, ctx) => {
          attempts.push(ctx.attempt);
          return Promise.reject(new Error(`flaky ${ctx.attempt}`));
        },
        (_req, err) => Promise.resolve(gaveUp.push(err)),
      );
      await bus.addCheck(r);
      const [err] = await gaveUp.done;
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(err?.message, 'flaky 2');
      await w.close();
    });

    it('does not retry a permanent error, and gives up with that error', async () => {
      const bus = backend.make();
      const z = zone();
      const attempts: number[] = [];
      const gaveUp = calls<Error>(1);
      const w = bus.runChecks(
        z,
        1,
        (_req, ctx) => {
          attempts.push(ctx.attempt);
          return Promise.reject(new ConfigError('no such LB in the inventory'));
        },
        (_req, err) => Promise.resolve(gaveUp.push(err)),
      );
      await bus.addCheck(request('web', { zone: z }));
      const [err] = await gaveUp.done;
      assert.ok(err instanceof ConfigError, String(err));
      assert.deepEqual(attempts, [1]);
      await w.close();
    });

    it('neither retries nor reports again a failure the processor already reported', async () => {
      const bus = backend.make();
      const z = zone();
      const [failing, next] = [request('web', { zone: z }), request('web', { zone: z })];
      const ran: string[] = [];
      const gaveUp: Error[] = [];
      const done = calls<string>(1);
      const w = bus.runChecks(
        z,
        1,
        (req) => {
          ran.push(req.checkId);
          if (req.checkId === failing.checkId) return Promise.reject(new ReportedFailure('told the channel'));
          done.push(req.checkId);
          return Promise.resolve();
        },
        (_req, err) => Promise.resolve(void gaveUp.push(err)),
      );
      await bus.addCheck(failing);
      await bus.addCheck(next);
      await done.done;
      await sleep(1500); // longer than the retry backoff
      assert.deepEqual(ran, [failing.checkId, next.checkId]);
      assert.deepEqual(gaveUp, []);
      await w.close();
    });

    it('removes a waiting check, refuses to remove a running one, and calls a finished one gone', async () => {
      const bus = backend.make();
      const z = zone();
      const [waiting, running] = [request('web', { zone: z }), request('web', { zone: z })];
      assert.equal(await bus.removeQueuedCheck(request('web', { zone: z })), 'gone');
      await bus.addCheck(waiting);
      assert.equal(await bus.removeQueuedCheck(waiting), 'removed');
      let release: () => void = () => undefined;
      const started = calls<string>(1);
      const w = bus.runChecks(
        z,
        1,
        (req) => {
          started.push(req.checkId);
          return new Promise<void>((r) => (release = r));
        },
        () => Promise.resolve(),
      );
      await bus.addCheck(running);
      assert.deepEqual(await started.done, [running.checkId]);
      assert.equal(await bus.removeQueuedCheck(running), 'active');
      release();
      let state = 'active';
      for (let i = 0; i < 50 && state === 'active'; i++) {
        await sleep(50);
        state = await bus.removeQueuedCheck(running);
      }
      assert.equal(state, 'gone');
      assert.deepEqual(started.seen, [running.checkId]); // the removed one never ran
      await w.close();
    });

    it("posts each report once, only on a process serving its platform, again after 'later' and after a throw", async () => {
      const bus = backend.make();
      const slack = request('web', { replyTo: { platform: 'slack', channel: 'C1' } });
      const teams = request('web', { replyTo: { platform: 'teams', channel: 'T1' } });
      const seen = calls<string>(4);
      const tries = new Map<string, number>();
      const w = bus.runReports(['slack'], (job) => {
        const n = (tries.get(job.checkId) ?? 0) + 1;
        tries.set(job.checkId, n);
        seen.push(`${job.kind}:${n}`);
        if (job.kind === 'error' && n === 1) return Promise.resolve('later' as const);
        if (job.kind === 'error' && n === 2) return Promise.reject(new Error('Slack said 500'));
        return Promise.resolve('done' as const);
      });
      await bus.addReport(errorReport(slack));
      await bus.addReport(errorReport(slack));
      await bus.addReport(errorReport(teams));
      await bus.addReport({ ...errorReport(slack), kind: 'cancelled', by: 'bob', checkId: `${slack.checkId}x` });
      const got = await seen.done;
      assert.deepEqual(got.filter((s) => s.startsWith('error')).sort(), ['error:1', 'error:2', 'error:3']);
      assert.ok(got.includes('cancelled:1'));
      await sleep(300);
      assert.equal(seen.seen.length, 4, 'the duplicate and the Teams report were not delivered here');
      await w.close();
    });
  });
}
