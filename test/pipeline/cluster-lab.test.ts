// Scale-out on Redis Cluster, proven: a real three-master cluster, and the
// pipeline tests (checks, reports, cancel, 20 concurrent checks with the
// capture limit; rate limits and in-flight caps; kill -9 of a worker and its
// recovery; the state and queue contract suites) run against it through ioredis' Cluster client, with a {hash tag}
// prefix (LBCHECK_REDIS_CLUSTER=1, LBCHECK_PREFIX={…}).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import { connectBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

let cluster: RedisCluster;
before(async () => {
  cluster = await startRedisCluster(3);
});
after(() => cluster?.stop());

const testFile = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Runs compiled test files in a child node --test against the cluster; resolves with its exit code and TAP. */
function runAgainstCluster(files: string[]): Promise<{ code: number | null; tap: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files.map(testFile)],
      {
        // Without NODE_TEST_CONTEXT: the child is a test run of its own, not a file of this one.
        env: { ...childEnv(), LBCHECK_TEST_REDIS_URL: cluster.url, LBCHECK_TEST_REDIS_CLUSTER: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let tap = '';
    child.stdout.on('data', (d: Buffer) => (tap += d.toString()));
    child.stderr.on('data', (d: Buffer) => (tap += d.toString()));
    child.once('exit', (code) => resolve({ code, tap }));
  });
}

describe('Redis Cluster', { timeout: 600_000 }, () => {
  it('refuses a prefix without a {hash tag} on a cluster, saying what to use', () => {
    assert.throws(
      () => readConfig({ LBCHECK_REDIS_CLUSTER: '1', LBCHECK_PREFIX: 'lbcheck' }),
      /LBCHECK_PREFIX="lbcheck" needs a \{hash tag\} on Redis Cluster, e\.g\. \{lbcheck\}/,
    );
    assert.equal(readConfig({ LBCHECK_REDIS_CLUSTER: '1', LBCHECK_PREFIX: '{lbcheck}' }).redisCluster, true);
  });

  it('keeps every key of a prefix in one slot: a queued check lands on exactly one master', async () => {
    const prefix = '{lbc-slot}';
    const config = readConfig({ REDIS_URL: cluster.url, LBCHECK_REDIS_CLUSTER: '1', LBCHECK_PREFIX: prefix });
    const backend = await connectBackend(config, false);
    const nodes = cluster.ports.map((port) => new Redis(port, '127.0.0.1'));
    try {
      const log = createLogger('silent');
      const ack = await handleCommand(
        {
          requester: { platform: 'console', id: 'tester' },
          replyTo: { platform: 'console', channel: 'console' },
          text: '127.0.0.1:9',
        },
        { state: backend.intakeState, bus: backend.bus, inventory: () => undefined, log, prefix: '/lbcheck' },
      );
      assert.equal(ack.kind, 'queued', ack.text);
      // Plain per-node clients: the record, its in-flight sets and the BullMQ job all sit on one master.
      const counts = await Promise.all(nodes.map(async (n) => (await n.keys(`${prefix}:*`)).length));
      assert.equal(counts.filter((c) => c > 0).length, 1, `keys per master: ${counts.join(', ')}`);
      assert.ok(Math.max(...counts) >= 3, `keys per master: ${counts.join(', ')}`);
      const owner = nodes[counts.findIndex((c) => c > 0)];
      for (const key of (await owner?.keys(`${prefix}:*`)) ?? []) await owner?.del(key);
    } finally {
      for (const n of nodes) n.disconnect();
      await backend.close();
    }
  });

  for (const files of [
    ['pipeline/pipeline-lab.test.js'],
    ['policy/policy-intake.test.js'],
    ['pipeline/lost-worker.test.js'],
    ['pipeline/state-contract.test.js', 'pipeline/bus-contract.test.js'],
  ])
    it(`runs ${files.join(', ')} on the cluster`, async () => {
      const { code, tap } = await runAgainstCluster(files);
      const passed = Number(/^# pass (\d+)$/m.exec(tap)?.[1] ?? 0);
      const failed = Number(/^# fail (\d+)$/m.exec(tap)?.[1] ?? -1);
      assert.equal(failed, 0, tap);
      assert.ok(passed > 0, tap);
      assert.equal(code, 0, tap);
    });
});
