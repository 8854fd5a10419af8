// The Redis-down answer says what is wrong in plain words, not the client's internals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainRedisCause, QueueUnavailableError } from '../../src/pipeline/job-bus.js';

describe('queue unavailable, in words', () => {
  it("ioredis's offline-queue message becomes 'the connection to Redis is down'", () => {
    const e = new QueueUnavailableError(
      'redis://127.0.0.1:6379',
      "Stream isn't writeable and enableOfflineQueue options is false",
    );
    assert.match(e.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:6379 \(the connection to Redis is down\)/);
    assert.doesNotMatch(e.message, /enableOfflineQueue|writeable/);
    assert.match(e.message, /Nothing was queued: send the command again once Redis is back/);
  });

  it('refused, timed out and authentication failures are named; anything else is kept as it is', () => {
    assert.equal(
      plainRedisCause('connect ECONNREFUSED 127.0.0.1:6379'),
      'Redis refused the connection (is it running?)',
    );
    assert.equal(plainRedisCause('connect ETIMEDOUT'), 'Redis did not answer in time');
    assert.equal(
      plainRedisCause('WRONGPASS invalid username-password pair'),
      'Redis refused the credentials in REDIS_URL',
    );
    assert.equal(plainRedisCause('something new'), 'something new');
  });
});
