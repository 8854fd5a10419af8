// Redis and BullMQ trouble is logged, not swallowed: "Redis lost" once when the
// connection drops, "Redis back" once when it returns, and the errors of every
// reconnect attempt rate-limited. Redis is cut and restored through a loopback
// TCP proxy in front of the real one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Logger } from '../../src/log.js';
import { connectBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { RateLimitedErrors } from '../../src/runtime/redis-health.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { deleteKeys, TEST_REDIS } from './harness.js';

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Line[]): Logger {
  const make = (base: Record<string, unknown>): Logger => ({
    log: (level, msg, fields = {}) => lines.push({ level, msg, fields: { ...base, ...fields } }),
    child: (f) => make({ ...base, ...f }),
  });
  return make({});
}

const prefix = `lbh-${randomBytes(4).toString('hex')}`;
after(() => deleteKeys(prefix));

async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Redis health in the log', () => {
  it('says "Redis lost" once when Redis goes away, logs the errors, and "Redis back" once when it returns', async () => {
    const lines: Line[] = [];
    const proxy = new CuttableProxy(new URL(TEST_REDIS));
    await proxy.start();
    const config = readConfig({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, LBCHECK_PREFIX: prefix });
    const backend = await connectBackend(config, false, recordingLogger(lines));
    const worker = backend.bus.runChecks(
      'default',
      1,
      () => Promise.resolve(),
      () => Promise.resolve(),
    );
    try {
      await backend.state.inFlight(); // connected and working
      await proxy.cut();
      await until(() => lines.some((l) => l.msg === 'Redis lost'), '"Redis lost"');
      await until(() => lines.some((l) => l.msg === 'redis error'), 'a logged Redis error');
      await proxy.start();
      await until(() => lines.some((l) => l.msg === 'Redis back'), '"Redis back"');
      await backend.state.inFlight(); // working again
      assert.equal(lines.filter((l) => l.msg === 'Redis lost').length, 1);
      assert.equal(lines.filter((l) => l.msg === 'Redis back').length, 1);
      const lost = lines.findIndex((l) => l.msg === 'Redis lost');
      const back = lines.findIndex((l) => l.msg === 'Redis back');
      assert.ok(lost < back);
      assert.equal(lines[lost]?.level, 'error');
      assert.match(String(lines.find((l) => l.msg === 'redis error')?.fields.error), /ECONNREFUSED|ECONNRESET|closed/);
    } finally {
      await worker.close();
      await backend.close();
      await proxy.cut();
    }
  });

  it('repeated errors from one source are logged once per interval, with how many were left out', () => {
    const lines: Line[] = [];
    let now = 1_000_000;
    const errors = new RateLimitedErrors(recordingLogger(lines), 30_000, () => now);
    for (let i = 0; i < 100; i++) errors.error('redis', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    errors.error('bullmq queue', new Error('Connection is closed.'));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['redis error', 'bullmq queue error'],
    );
    now += 30_000;
    errors.error('redis', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    assert.equal(lines.length, 3);
    assert.equal(lines[2]?.fields.suppressedSinceLast, 99);
  });
});
