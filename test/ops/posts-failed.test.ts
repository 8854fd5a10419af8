// lbcheck_posts_total{outcome="failed"} counts a report the queue gave up on
// (its last attempt failed), on real Redis and BullMQ. A real report job has 12
// attempts with backoff (minutes); this one is queued with one.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Queue } from 'bullmq';
import { registry } from '../../src/ops/metrics.js';
import { BullBus } from '../../src/pipeline/bullmq-bus.js';
import type { RedisClient } from '../../src/runtime/redis-client.js';
import { deleteKeys, TEST_REDIS, testPrefix, testRedis } from '../pipeline/harness.js';
import { until } from './ops-process.js';
import { parseExposition, sample } from './scrape.js';

const prefix = testPrefix('lbo-posts');
const clients: RedisClient[] = [];
const client = (options: Parameters<typeof testRedis>[0]): RedisClient => {
  const c = testRedis(options);
  clients.push(c);
  return c;
};
after(async () => {
  for (const c of clients) c.disconnect();
  await deleteKeys(prefix);
});

const failed = async (): Promise<number> =>
  sample(parseExposition(await registry.metrics()), 'lbcheck_posts_total', {
    platform: 'console',
    outcome: 'failed',
  }) ?? 0;

it('a report whose last attempt fails counts once as failed; one that will be retried does not', async () => {
  const bus = new BullBus({
    url: TEST_REDIS,
    prefix,
    producer: client({ maxRetriesPerRequest: 1 }),
    consumer: () => client({ maxRetriesPerRequest: null }),
  });
  const queue = new Queue('reports-console', { connection: client({ maxRetriesPerRequest: null }), prefix });
  let attempts = 0;
  const consumer = bus.runReports(['console'], () => {
    attempts++;
    throw new Error('the platform is down');
  });
  try {
    assert.equal(await failed(), 0);
    await queue.add('step', { kind: 'step' }, { jobId: 'one-shot', attempts: 1 });
    await queue.add(
      'step',
      { kind: 'step' },
      { jobId: 'two-shots', attempts: 2, backoff: { type: 'fixed', delay: 200 } },
    );
    await until(
      async () => ((await queue.getJobCounts('failed')).failed === 2 ? true : undefined),
      'both jobs to fail',
    );
    assert.equal(attempts, 3);
    assert.equal(await failed(), 2, 'each job counted once, when it was given up');
  } finally {
    await consumer.close();
    await queue.close();
    await bus.close();
  }
});
