// Startup configuration: bad values are named with their variable; Redis is
// required when REDIS_URL is set, optional (embedded) for lbcheck start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { connectBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';

describe('readConfig', () => {
  it('names every bad variable at once', () => {
    assert.throws(
      () =>
        readConfig({
          REDIS_URL: 'http://x',
          LBCHECK_WORKER_CONCURRENCY: 'lots',
          LBCHECK_CAPTURES_PER_LB: '0',
          LBCHECK_ZONE: 'dc 1',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const v of [
          'REDIS_URL',
          'LBCHECK_WORKER_CONCURRENCY="lots"',
          'LBCHECK_CAPTURES_PER_LB="0"',
          'LBCHECK_ZONE="dc 1"',
        ])
          assert.ok(err.message.includes(v), v);
        return true;
      },
    );
  });
  it('defaults to the local Redis and marks it as not explicit', () => {
    const c = readConfig({});
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(c.redisUrlExplicit, false);
    assert.equal(c.capturesPerLb, 2);
  });
});

describe('connectBackend', () => {
  const nowhere = 'redis://127.0.0.1:1';
  it('runs embedded when no Redis answers and REDIS_URL was not set (lbcheck start)', async () => {
    const b = await connectBackend({ ...readConfig({}), redisUrl: nowhere, redisUrlExplicit: false }, true);
    assert.equal(b.mode, 'embedded');
    await b.close();
  });
  it('fails loudly, with what to do, when REDIS_URL is set and does not answer', async () => {
    await assert.rejects(connectBackend({ ...readConfig({ REDIS_URL: nowhere }) }, true), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /Redis at redis:\/\/127\.0\.0\.1:1 does not answer .*Start Redis there or fix REDIS_URL/,
      );
      return true;
    });
  });
  it('hides credentials in messages', async () => {
    await assert.rejects(
      connectBackend(readConfig({ REDIS_URL: 'redis://user:s3cret@127.0.0.1:1' }), false),
      (err: Error) => !err.message.includes('s3cret'),
    );
  });
});
